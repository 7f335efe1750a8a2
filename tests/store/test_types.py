"""`UTCDateTime` on SQLite: its own one-step conversions store and read exactly what
SQLAlchemy's SQLite DATETIME with the type's UTC normalisation would."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy.dialects import sqlite

from shopdesk.store.types import UTCDateTime

DIALECT = sqlite.dialect()
BIND = UTCDateTime().bind_processor(DIALECT)
RESULT = UTCDateTime().result_processor(DIALECT, None)
BASE_BIND = sqlite.DATETIME().bind_processor(DIALECT)
BASE_RESULT = sqlite.DATETIME().result_processor(DIALECT, None)


@pytest.mark.parametrize("instant", [
    datetime(2026, 11, 23, 9, 30, 15, 123456, tzinfo=UTC),
    datetime(2026, 1, 1, tzinfo=UTC),
    datetime(999, 1, 2, 3, 4, 5, 6, tzinfo=UTC),
    datetime(2026, 6, 1, 12, 0, tzinfo=timezone(timedelta(hours=-7))),
])
def test_stored_form_and_round_trip_match_sqlalchemys(instant: datetime) -> None:
    assert BIND is not None and RESULT is not None and BASE_BIND and BASE_RESULT
    stored = BIND(instant)
    assert stored == BASE_BIND(instant.astimezone(UTC).replace(tzinfo=None))
    assert RESULT(stored) == instant and RESULT(stored).tzinfo is UTC
    assert RESULT(stored) == BASE_RESULT(stored).replace(tzinfo=UTC)


def test_other_stored_forms_and_refusals() -> None:
    assert BIND is not None and RESULT is not None
    assert RESULT("2026-11-23 09:30:15") == datetime(2026, 11, 23, 9, 30, 15, tzinfo=UTC)
    assert RESULT("2026-11-23 09:30:15.5") == datetime(2026, 11, 23, 9, 30, 15, 500000,
                                                       tzinfo=UTC)
    assert RESULT(None) is None and BIND(None) is None
    with pytest.raises(ValueError, match="naive"):
        BIND(datetime(2026, 11, 23))
