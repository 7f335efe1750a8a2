"""Suite-wide settings: Hypothesis profiles and the optional-service gates.

PostgreSQL, Redis and browser tests run when their service is configured and are skipped
with a reason otherwise; CI sets SHOPDESK_REQUIRE_SERVICES=1, which turns a missing
service into a failure instead of a skip.
"""

from __future__ import annotations

import os
import shutil

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "default", max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "thorough", max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

REQUIRED = os.environ.get("SHOPDESK_REQUIRE_SERVICES") == "1"
POSTGRES_URL = os.environ.get("SHOPDESK_TEST_POSTGRES_URL")
REDIS_URL = os.environ.get("SHOPDESK_TEST_REDIS_URL")
CHROMIUM = os.environ.get("SHOPDESK_CHROMIUM", "/usr/bin/chromium")


def _missing(marker: str) -> str | None:
    if marker == "postgres" and not POSTGRES_URL:
        return "PostgreSQL tests need SHOPDESK_TEST_POSTGRES_URL"
    if marker == "redis" and not REDIS_URL:
        return "Redis tests need SHOPDESK_TEST_REDIS_URL"
    if marker == "browser" and not (os.path.exists(CHROMIUM) or shutil.which("chromium")):
        return f"browser tests need Chromium at {CHROMIUM} (Debian package chromium)"
    return None


def _missing_for(item: pytest.Item) -> str | None:
    for marker in ("postgres", "redis", "browser"):
        if marker in item.keywords:
            reason = _missing(marker)
            if reason is not None:
                return reason
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if REQUIRED:
        return  # a missing service fails the test in setup instead (CI never skips)
    for item in items:
        reason = _missing_for(item)
        if reason is not None:
            item.add_marker(pytest.mark.skip(reason=reason))


def pytest_runtest_setup(item: pytest.Item) -> None:
    if REQUIRED:
        reason = _missing_for(item)
        if reason is not None:
            pytest.fail(f"required service missing (SHOPDESK_REQUIRE_SERVICES=1): {reason}")
