"""Live chat in a real browser: a buyer writes, the agent sees it arrive and replies, live.

Runs `shopdesk serve` (tests/support/server.py) and Debian's Chromium through Playwright;
screenshots of each page go to a temporary directory (or SHOPDESK_SCREENSHOTS).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.support.server import Server, prepare_database, run_server, sqlite_url
from tests.support.world import PASSWORD

pytestmark = pytest.mark.browser


# One server and one browser for the module (starting `shopdesk serve` is the slow part);
# the tests use different accounts and do not depend on each other's data.
@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    data = tmp_path_factory.mktemp("live-chat")
    url = sqlite_url(data)
    prepare_database(url)
    with run_server(url, data / "data") as srv:
        yield srv


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    executable = CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium")
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()

TIMEOUT = 10_000  # ms, for every expectation


def log_in(page: Any, server: Server, username: str, password: str = PASSWORD) -> None:
    page.goto(server.url("/login"))
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def test_buyer_and_agent_chat_live(server: Server, browser: Any, shots: Path) -> None:
    from playwright.sync_api import expect

    expect.set_options(timeout=TIMEOUT)
    agent_ctx = browser.new_context(viewport={"width": 1100, "height": 720})
    buyer_ctx = browser.new_context(viewport={"width": 900, "height": 720})
    try:
        agent = agent_ctx.new_page()
        buyer = buyer_ctx.new_page()
        for page in (agent, buyer):
            page.set_default_timeout(TIMEOUT)

        log_in(agent, server, "agent_a")
        expect(agent).to_have_url(server.url("/inbox"))
        expect(agent.get_by_role("heading", name="Inbox")).to_be_visible()
        # The agent is online once the page's WebSocket is connected.
        expect(agent.locator("body")).to_have_attribute("data-live", "1")
        expect(agent.get_by_test_id("conversation")).to_have_count(0)
        agent.screenshot(path=str(shots / "inbox-empty.png"), full_page=True)

        log_in(buyer, server, "buyer1")
        expect(buyer).to_have_url(server.url("/shops"))
        buyer.screenshot(path=str(shots / "shops.png"), full_page=True)
        buyer.get_by_role("link", name="Chat with Shop A").click()
        expect(buyer.get_by_role("heading", name="Shop A")).to_be_visible()
        expect(buyer.locator("body")).to_have_attribute("data-live", "1")
        buyer.get_by_placeholder("Write a message").fill("Hello, is the mug dishwasher safe?")
        buyer.get_by_role("button", name="Send", exact=True).click()
        buyer_msgs = buyer.get_by_test_id("messages")
        expect(buyer_msgs.get_by_text("Hello, is the mug dishwasher safe?")).to_be_visible()

        # The conversation shows up in the agent's inbox without a reload.
        item = agent.get_by_test_id("conversation").filter(has_text="buyer1")
        expect(item).to_have_count(1)
        item.click()
        agent_msgs = agent.get_by_test_id("messages")
        expect(agent_msgs.get_by_text("Hello, is the mug dishwasher safe?")).to_be_visible()
        agent.get_by_placeholder("Reply").fill("Yes, it is dishwasher safe.")
        agent.get_by_role("button", name="Send", exact=True).click()
        expect(agent_msgs.get_by_text("Yes, it is dishwasher safe.")).to_be_visible()
        agent.screenshot(path=str(shots / "inbox.png"), full_page=True)

        # The buyer sees the reply live, without a reload.
        expect(buyer_msgs.get_by_text("Yes, it is dishwasher safe.")).to_be_visible()
        expect(buyer_msgs.locator("li")).to_have_count(2)
        buyer.screenshot(path=str(shots / "chat.png"), full_page=True)
    finally:
        agent_ctx.close()
        buyer_ctx.close()


def test_wrong_password_shows_an_error(server: Server, browser: Any, shots: Path) -> None:
    from playwright.sync_api import expect

    ctx = browser.new_context(viewport={"width": 900, "height": 600})
    try:
        page = ctx.new_page()
        page.set_default_timeout(TIMEOUT)
        page.goto(server.url("/login"))
        page.screenshot(path=str(shots / "login.png"), full_page=True)
        log_in(page, server, "buyer1", "not-the-password")
        expect(page.get_by_role("alert")).to_have_text("Wrong username or password.",
                                                       timeout=TIMEOUT)
        expect(page.get_by_role("button", name="Log in")).to_be_visible(timeout=TIMEOUT)
        page.screenshot(path=str(shots / "login-error.png"), full_page=True)
    finally:
        ctx.close()
