"""Column types that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Dialect
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Every instant is stored in UTC (EV-1); SQLite drops offsets, so normalise both ways."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; shopdesk stores aware UTC instants only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    # On SQLite the value is text: one conversion each way, where SQLAlchemy's SQLite
    # DATETIME and the two methods above take three (these are on the chat's hot path).
    # The stored form is SQLAlchemy's: "YYYY-MM-DD HH:MM:SS.ffffff", in UTC.

    def bind_processor(self, dialect: Dialect) -> Callable[[Any], Any] | None:
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)

        def process(value: datetime | None) -> str | None:
            if value is None:
                return None
            if value.tzinfo is None:
                raise ValueError("naive datetime given; shopdesk stores aware UTC instants only")
            return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")

        return process

    def result_processor(self, dialect: Dialect, coltype: Any) -> Callable[[Any], Any] | None:
        if dialect.name != "sqlite":
            return super().result_processor(dialect, coltype)

        def process(value: str | None) -> datetime | None:
            if value is None:
                return None
            instant = datetime.fromisoformat(value)
            if instant.tzinfo is None:
                return instant.replace(tzinfo=UTC)
            return instant.astimezone(UTC)

        return process


def iso(d: datetime | None) -> str | None:
    """An instant as the API writes it: ISO 8601 in UTC with a `Z` (EV-1)."""
    return d.isoformat().replace("+00:00", "Z") if d else None
