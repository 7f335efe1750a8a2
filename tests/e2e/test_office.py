"""Back-office pages in a real browser: an owner edits a knowledge-base answer that an agent
then reads without being able to edit (TEAM-2), and platform staff approve a reported buyer
message from the review queue (SCR-12). Screenshots go to SHOPDESK_SCREENSHOTS if set."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.test_live_chat import log_in
from tests.support.server import Server, prepare_database, run_server, sqlite_url

pytestmark = pytest.mark.browser

QUESTION = "Is this item in stock?"
# ms for every expectation: generous, since CI machines are shared; passing runs never wait.
TIMEOUT = 20_000


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One server for both tests (they touch different data): starting one costs seconds."""
    directory = tmp_path_factory.mktemp("office")
    url = sqlite_url(directory)
    prepare_database(url)
    with run_server(url, directory / "data") as srv:
        yield srv


def _page(browser: Any) -> tuple[Any, Any]:
    ctx = browser.new_context(viewport={"width": 1200, "height": 800})
    page = ctx.new_page()
    page.set_default_timeout(TIMEOUT)
    return ctx, page


def test_owner_edits_the_knowledge_base_and_an_agent_only_reads_it(
    server: Server, browser: Any, shots: Path
) -> None:
    from playwright.sync_api import expect

    expect.set_options(timeout=TIMEOUT)
    answer = "Yes, it is in stock and ships within 24 hours."
    ctx, owner = _page(browser)
    try:
        log_in(owner, server, "owner_a")
        owner.get_by_role("link", name="Knowledge base").click()
        expect(owner.get_by_role("heading", name="Knowledge base · Shop A")).to_be_visible()
        row = owner.get_by_test_id("kb-entries").locator("tr").filter(has_text=QUESTION)
        expect(row).to_have_count(1)
        row.get_by_role("button", name="Edit").click()
        dialog = owner.get_by_role("dialog")
        expect(dialog.get_by_label("Question")).to_have_value(QUESTION)
        dialog.get_by_label("Answer").fill(answer)
        dialog.get_by_role("button", name="Save").click()
        expect(owner.get_by_role("status")).to_have_text(f"Saved “{QUESTION}”.")
        owner.screenshot(path=str(shots / "kb-owner.png"), full_page=False)
    finally:
        ctx.close()

    ctx, agent = _page(browser)
    try:
        log_in(agent, server, "agent_a")
        agent.get_by_role("link", name="Knowledge base").click()
        expect(agent.get_by_test_id("read-only")).to_contain_text("Read-only")
        row = agent.get_by_test_id("kb-entries").locator("tr").filter(has_text=QUESTION)
        row.get_by_text(QUESTION).click()  # expands the entry
        expect(row.get_by_text(answer)).to_be_visible()
        expect(agent.get_by_role("button", name="Edit")).to_have_count(0)
        expect(agent.get_by_role("button", name="New entry")).to_have_count(0)
        agent.screenshot(path=str(shots / "kb-agent.png"), full_page=False)
    finally:
        ctx.close()


def test_staff_approve_a_reported_buyer_message(server: Server, browser: Any, shots: Path) -> None:
    from playwright.sync_api import expect

    expect.set_options(timeout=TIMEOUT)
    text = "Refund me now or I will post your home address online."
    with httpx.Client(base_url=server.base, timeout=10) as http:
        buyer = {"Authorization": f"Bearer {server.token('buyer1')}"}
        owner = {"Authorization": f"Bearer {server.token('owner_a')}"}
        shop = next(
            s["id"]
            for s in http.get("/api/v1/shops", headers=buyer).json()
            if s["name"] == "Shop A"
        )
        conv = http.post("/api/v1/conversations", json={"shop": shop}, headers=buyer).json()
        msg = http.post(
            f"/api/v1/conversations/{conv['id']}/messages",
            headers=buyer,
            json={"client_id": uuid.uuid4().hex, "kind": "text", "text": text},
        )
        assert msg.status_code == 201, msg.text
        r = http.post(
            f"/api/v1/messages/{msg.json()['id']}/report",
            headers=owner,
            json={"reason": "threatening", "note": "Threatens to dox us."},
        )
        assert r.status_code == 201, r.text
        review = r.json()["id"]

    ctx, staff = _page(browser)
    try:
        log_in(staff, server, "staff")
        staff.get_by_role("link", name="Platform console").click()
        row = staff.get_by_test_id("reviews").locator(f'tr[data-review="{review}"]')
        expect(row.get_by_text(text)).to_be_visible()
        expect(row).to_contain_text("Reported as threatening")
        row.get_by_role("button", name="Approve").click()  # no reason yet: refused in the page
        expect(staff.get_by_role("alert")).to_contain_text("Write a reason")
        row.get_by_label("Reason").fill("Verified: a threat to publish personal data.")
        row.get_by_role("button", name="Approve").click()
        expect(staff.get_by_role("status")).to_have_text(f"Review #{review} approved.")
        expect(staff.get_by_test_id("reviews")).to_contain_text("The queue is empty.")
        staff.screenshot(path=str(shots / "console-reviews.png"), full_page=False)
    finally:
        ctx.close()
    staff_token = {"Authorization": f"Bearer {server.token('staff')}"}
    decided = httpx.get(server.url(f"/api/v1/reviews/{review}"), headers=staff_token, timeout=10)
    assert decided.json()["status"] == "approved"


def test_buyer_requests_after_sales_from_an_order(server: Server, browser: Any) -> None:
    """The orders list offers only the kinds the time limits allow now (AS-6); the request
    opens through the API and the case page follows."""
    from playwright.sync_api import expect

    expect.set_options(timeout=TIMEOUT)
    ctx, buyer = _page(browser)
    try:
        log_in(buyer, server, "buyer1")
        buyer.goto(server.url("/office/cases"))
        row = buyer.get_by_test_id("order-list").locator("tbody tr").first
        expect(row).to_contain_text("shipped")
        row.locator("summary", has_text="Request after-sales").click()  # opens the form
        # Shipped, not delivered: a refund is possible, a cancellation no longer is.
        kind = row.get_by_label("Kind")
        expect(kind.locator("option")).to_have_text(["refund only"])
        row.get_by_label("Reason").fill("The parcel never arrived.")
        row.get_by_role("button", name="Request after-sales").click()
        heading = buyer.get_by_role("heading", name=re.compile("After-sales request #"))
        expect(heading).to_be_visible()
    finally:
        ctx.close()
