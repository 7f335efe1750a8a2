"""The chat pages expose what the API does: screening in the composer (SCR-D1), FAQ cards
with their automatic reply (KB-4), suggested replies (KB-5), the inbox sorted by the time left
to reply (EV-5, MET-D2) and reporting a buyer message (SCR-12).

One server for the module, in this process, so its clock can start on a chosen weekday: the
reply deadlines the inbox shows come from the shop's evaluation window, which depends on the
date. The browser computes time left against the server's clock, so the real date does not
matter. Each test uses its own shop or buyer, so they run in any order.
"""

from __future__ import annotations

import os
import re
import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from shopdesk.chat import service
from shopdesk.config import Settings
from shopdesk.store.accounts import actor_for
from shopdesk.store.db import make_engine, make_sessionmaker
from shopdesk.store.migrate import upgrade
from shopdesk.store.models import User
from shopdesk.web.app import create_app
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.support.server import free_port, sqlite_url
from tests.support.world import PASSWORD, World, build_world

pytestmark = pytest.mark.browser

TIMEOUT = 10_000  # ms, for every expectation
# A Tuesday afternoon in London (Shop B) and morning in Los Angeles (Shop A): well inside the
# week's evaluation window, away from the weekend rule.
START = datetime(2026, 11, 3, 15, 0, tzinfo=UTC)


class RunningClock:
    """The server's clock: starts at START and advances in real time."""

    def __init__(self, start: datetime) -> None:
        self.start = start
        self.t0 = time.monotonic()

    def __call__(self) -> datetime:
        return self.start + timedelta(seconds=time.monotonic() - self.t0)


@dataclass
class Site:
    base: str
    world: World

    def url(self, path: str) -> str:
        return self.base + path

    def get(self, username: str, path: str) -> Any:
        token = httpx.post(
            self.url("/api/v1/auth/token"),
            json={"username": username, "password": PASSWORD},
            timeout=10,
        )
        token.raise_for_status()
        r = httpx.get(
            self.url(path),
            timeout=10,
            headers={"Authorization": f"Bearer {token.json()['access_token']}"},
        )
        r.raise_for_status()
        return r.json()


def _buyer_writes(
    factory: Any, world: World, buyer: str, shop: str, text: str, at: datetime
) -> None:
    with factory() as db, db.begin():
        user = db.get(User, world.users[buyer])
        actor = actor_for(db, user)
        conv, _ = service.open_conversation(db, actor, world.shops[shop], at)
        service.post_message(
            db,
            actor,
            conv,
            service.Draft(client_id=f"seed-{buyer}-{shop}", kind="text", text=text),
            at,
        )


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    import uvicorn

    data = tmp_path_factory.mktemp("chat-site")
    url = sqlite_url(data)
    upgrade(url)
    engine = make_engine(url)
    factory = make_sessionmaker(engine)
    world = build_world(factory, START - timedelta(days=1))
    # Shop B: buyer1 has waited 5 hours, buyer2 1 hour; the API lists buyer2 first (latest
    # activity), the inbox must put buyer1 first (less time left).
    _buyer_writes(
        factory,
        world,
        "buyer1",
        "b",
        "Where is my parcel? It has been a week.",
        START - timedelta(hours=5),
    )
    _buyer_writes(
        factory, world, "buyer2", "b", "Do you ship to Canada?", START - timedelta(hours=1)
    )
    # Shop A: buyer2 asks for an invoice (the agent's blocked-then-edited reply).
    _buyer_writes(
        factory,
        world,
        "buyer2",
        "a",
        "Can you send me the invoice for my order?",
        START - timedelta(minutes=10),
    )
    engine.dispose()

    settings = Settings(database_url=url, secret_key="test-secret", data_dir=data, redis_url="")
    app = create_app(settings, clock=RunningClock(START))
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    try:
        yield Site(f"http://127.0.0.1:{port}", world)
    finally:
        server.should_exit = True
        thread.join(timeout=15)


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        executable = CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium")
        b = pw.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(chromium: Any) -> Iterator[Any]:
    from playwright.sync_api import expect

    expect.set_options(timeout=TIMEOUT)
    ctx = chromium.new_context(viewport={"width": 1200, "height": 800})
    p = ctx.new_page()
    p.set_default_timeout(TIMEOUT)
    script_errors: list[str] = []
    p.on("pageerror", lambda exc: script_errors.append(str(exc)))
    try:
        yield p
    finally:
        ctx.close()
    assert script_errors == [], "the page's scripts failed"


def log_in(page: Any, site: Site, username: str) -> None:
    page.goto(site.url("/login"))
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_blocked_reply_is_highlighted_kept_and_sent_once_edited(
    site: Site, page: Any, shots: Path
) -> None:
    from playwright.sync_api import expect

    log_in(page, site, "agent_a")
    expect(page).to_have_url(site.url("/inbox"))
    page.get_by_test_id("conversation").filter(has_text="buyer2").click()
    messages = page.get_by_test_id("messages")
    expect(messages.get_by_text("Can you send me the invoice for my order?")).to_be_visible()

    # KB-5: suggestions for the buyer's message; picking one fills the composer and counts.
    box = page.get_by_label("Reply to the buyer")
    suggestion = page.get_by_test_id("suggestions").get_by_role("button").first
    expect(suggestion).to_be_visible()
    entry = suggestion.get_attribute("data-entry")
    suggestion.click()
    shop_a = site.world.shops["a"]
    answer = site.get("owner_a", f"/api/v1/shops/{shop_a}/kb/entries/{entry}")["answer"]
    expect(box).to_have_value(answer)
    stats = site.get("owner_a", f"/api/v1/shops/{shop_a}/kb/entries/{entry}")["stats"]
    assert stats["tapped"] == 1

    draft = "Sure, email me at bob@gmail.com and I will send it"
    box.fill(draft)
    # As the seller types: the finding with its rule, reason and the span lit up in place.
    findings = page.get_by_test_id("findings")
    expect(findings).to_contain_text("SCR-1")
    expect(findings).to_contain_text("e-mail address")
    expect(page.locator("#draft-backdrop mark")).to_have_text("bob@gmail.com")

    page.get_by_role("button", name="Send", exact=True).click()
    expect(page.get_by_test_id("send-error")).to_have_text(
        "The message was not sent: it breaks the marketplace's messaging rules; edit it and "
        "try again."
    )
    expect(page.locator("#screening-verdict")).to_have_text("What to change before sending again:")
    expect(page.locator("#draft-backdrop mark")).to_have_text("bob@gmail.com")
    expect(box).to_have_value(draft)  # kept for editing
    expect(messages.get_by_text("bob@gmail.com")).to_have_count(0)
    page.screenshot(path=str(shots / "composer-blocked.png"), full_page=True)

    # The finding selects its span in the draft, for keyboard users.
    findings.get_by_role("button").first.click()
    assert (
        page.evaluate(
            "() => { const t = document.getElementById('text');"
            " return t.value.slice(t.selectionStart, t.selectionEnd); }"
        )
        == "bob@gmail.com"
    )

    edited = "Sure, I will attach the invoice here in the chat"
    box.fill(edited)
    expect(page.locator("#draft-backdrop mark")).to_have_count(0)
    box.press("Enter")
    expect(messages.get_by_text(edited)).to_be_visible()
    expect(box).to_have_value("")
    expect(page.get_by_test_id("send-error")).to_be_hidden()
    expect(page.get_by_test_id("screening")).to_be_hidden()


def test_faq_card_tap_gets_an_automatic_reply_then_rating(
    site: Site, page: Any, shots: Path
) -> None:
    from playwright.sync_api import expect

    log_in(page, site, "buyer1")
    page.get_by_role("link", name="Chat with Shop A").click()
    expect(page.get_by_role("heading", name="Shop A")).to_be_visible()
    expect(page.get_by_test_id("greeting")).not_to_be_empty()
    cards = page.get_by_test_id("faq-cards").get_by_role("button")
    expect(cards.first).to_be_visible()
    question = cards.first.inner_text()
    entry = cards.first.get_attribute("data-entry")
    answer = site.get("owner_a", f"/api/v1/shops/{site.world.shops['a']}/kb/entries/{entry}")[
        "answer"
    ]
    page.screenshot(path=str(shots / "chat-cards.png"), full_page=True)

    cards.first.click()
    messages = page.get_by_test_id("messages").get_by_test_id("message")
    expect(messages).to_have_count(2)
    expect(messages.nth(0)).to_contain_text(question)
    expect(messages.nth(0).locator(".who")).to_have_text("You")
    expect(messages.nth(1)).to_contain_text(answer)
    expect(messages.nth(1).locator(".who")).to_contain_text("Automatic reply")
    page.screenshot(path=str(shots / "chat-card-answer.png"), full_page=True)

    # CHAT-9: once the shop has answered, the buyer can rate the chat.
    page.get_by_role("radio", name="5 stars").check()
    page.get_by_role("button", name="Send rating").click()
    expect(page.get_by_role("status").filter(has_text="You rated this chat 5 of 5")).to_be_visible()


def test_inbox_sorts_by_time_left_and_reports_a_buyer_message(
    site: Site, page: Any, shots: Path
) -> None:
    from playwright.sync_api import expect

    log_in(page, site, "agent_b")
    items = page.get_by_test_id("conversation")
    expect(items).to_have_count(2)
    # buyer1 wrote 5 hours before buyer2: 19 hours left against 23 (24-hour window, EV-5).
    expect(items.nth(0)).to_contain_text("buyer1")
    expect(items.nth(0).get_by_test_id("time-left")).to_have_text(re.compile(r"^1[89]h \d+m left"))
    expect(items.nth(1)).to_contain_text("buyer2")
    expect(items.nth(1).get_by_test_id("time-left")).to_have_text(re.compile(r"^2[23]h \d+m left"))
    page.screenshot(path=str(shots / "inbox-deadlines.png"), full_page=True)
    page.get_by_label("Queue").select_option("auto_only")
    expect(page.get_by_text("No conversations in this queue.")).to_be_visible()
    page.get_by_label("Queue").select_option("waiting")
    expect(items).to_have_count(2)
    expect(items.nth(0)).to_contain_text("buyer1")

    # SCR-12: the seller reports an abusive buyer message with a reason.
    items.nth(0).click()
    message = page.get_by_test_id("messages").get_by_test_id("message").first
    message.get_by_role("button", name="Report").click()
    dialog = page.get_by_role("dialog", name="Report this buyer message")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Send report").click()
    expect(dialog.get_by_role("alert")).to_have_text("Pick a reason for the report.")
    dialog.get_by_label("Extortion").check()
    dialog.get_by_label("What happened").fill("Demands a refund before the parcel is late.")
    dialog.get_by_role("button", name="Send report").click()
    expect(dialog).to_be_hidden()
    expect(message).to_contain_text("Reported · the platform will review it")
    reports = site.get("staff", "/api/v1/reviews?kind=buyer_report")
    assert [(r["shop"], r["reason"]) for r in reports] == [
        (site.world.shops["b"], "extortion: Demands a refund before the parcel is late.")
    ]
