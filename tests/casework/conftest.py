"""Fixtures of the casework tests (helpers live in cw_helpers.py)."""

from __future__ import annotations

import pytest
from cw_helpers import make_ctx

from shopdesk.casework.machine import Context


@pytest.fixture
def ctx() -> Context:
    return make_ctx()
