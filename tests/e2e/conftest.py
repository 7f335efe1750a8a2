"""A real `shopdesk serve` on a loopback port and a headless Chromium for browser tests."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.server import Server, prepare_database, run_server, sqlite_url

CHROMIUM = os.environ.get("SHOPDESK_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    url = sqlite_url(tmp_path)
    prepare_database(url)
    with run_server(url, tmp_path / "data") as srv:
        yield srv


@pytest.fixture
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    executable = CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium")
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    """Where screenshots go (SHOPDESK_SCREENSHOTS keeps them after the run)."""
    keep = os.environ.get("SHOPDESK_SCREENSHOTS")
    out = Path(keep) if keep else tmp_path / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    return out
