"""Back-office pages: each renders for the roles it is for, refuses the others (log-in
redirect, 403 page, or a 404 page identical to a missing object), and shows only what the
caller's role may do (TEAM-2 read-only knowledge base, APL-1 appeals by owners and admins)."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from tests.support.world import PASSWORD, FakeClock
from tests.web.conftest import Api
from tests.web.test_casework_flows import open_aftersales

API = "/api/v1"
MISSING = 999_999
SESSION_COOKIE = "shopdesk_session"


def log_in(client: TestClient, username: str) -> None:
    r = client.post(
        "/login", data={"username": username, "password": PASSWORD}, follow_redirects=False
    )
    assert r.status_code == 303, r.text


def page(api: Api, username: str | None, path: str) -> tuple[int, str, str]:
    """(status, body, Location) of a page as `username` sees it (None: logged out)."""
    client = api.client
    # Log-ins verify a password hash (slow on purpose): each user logs in once per test.
    sessions: dict[str, str] = api.__dict__.setdefault("page_sessions", {})
    client.cookies.clear()
    if username is not None:
        if username not in sessions:
            log_in(client, username)
            sessions[username] = client.cookies[SESSION_COOKIE]
        client.cookies.set(SESSION_COOKIE, sessions[username])
    r = client.get(path, follow_redirects=False)
    return r.status_code, r.text, r.headers.get("location", "")


def main_of(html: str) -> str:
    """The page's <main> (the header names the user, which differs between callers)."""
    m = re.search(r"<main>(.*)</main>", html, re.S)
    assert m, html
    return m.group(1)


def test_every_page_sends_a_logged_out_visitor_to_log_in(api: Api) -> None:
    shop = api.world.shops["a"]
    for path in (
        "/office",
        f"/office/shops/{shop}/health",
        f"/office/shops/{shop}/kb",
        "/office/cases",
        "/office/cases/1",
        "/office/platform",
    ):
        status, _, location = page(api, None, path)
        assert (status, location) == (303, "/login"), path


def test_shop_health_for_the_team_and_staff_with_appeals_for_managers(api: Api) -> None:
    shop = api.world.shops["a"]
    for who, can_appeal in (("owner_a", "1"), ("admin_a", "1"), ("agent_a", "0"), ("staff", "0")):
        status, html, _ = page(api, who, f"/office/shops/{shop}/health")
        assert status == 200, (who, html)
        assert "Shop health · Shop A" in html
        assert f'data-can-appeal="{can_appeal}"' in html, who
        assert "/static/office_health.js" in html
    _, html, _ = page(api, "agent_a", f"/office/shops/{shop}/health")
    assert "The shop’s owner and admins file appeals (APL-1)." in html


def test_shop_pages_refuse_buyers_and_hide_other_tenants(api: Api) -> None:
    shop = api.world.shops["a"]
    for kind in ("health", "kb"):
        status, html, _ = page(api, "buyer1", f"/office/shops/{shop}/{kind}")
        assert status == 403
        assert "This page is for the shop&#39;s team and platform staff." in html
        # Another tenant's shop answers exactly like a shop that does not exist.
        status, other, _ = page(api, "owner_b", f"/office/shops/{shop}/{kind}")
        status_missing, missing, _ = page(api, "owner_b", f"/office/shops/{MISSING}/{kind}")
        assert status == status_missing == 404
        assert "No such shop." in other
        assert main_of(other) == main_of(missing)
        assert "Shop A" not in other


def test_knowledge_base_is_read_only_for_agents(api: Api) -> None:
    """rule TEAM-2: the page shows agents no editing controls, and the API refuses them."""
    shop = api.world.shops["a"]
    status, html, _ = page(api, "agent_a", f"/office/shops/{shop}/kb")
    assert status == 200
    assert 'data-can-edit="0"' in html
    assert 'data-testid="read-only"' in html
    for control in ('id="new-entry"', 'id="entry-form"', 'id="import-form"', 'id="cards-save"'):
        assert control not in html
    assert f"/api/v1/shops/{shop}/kb/export" in html  # reading includes exporting
    entries = api.get("agent_a", f"{API}/shops/{shop}/kb/entries").json()
    r = api.put(
        "agent_a",
        f"{API}/shops/{shop}/kb/entries/{entries[0]['id']}",
        {"answer": "Changed by an agent"},
    )
    assert r.status_code == 403 and "only the shop's owner or admin" in r.json()["message"]

    for who in ("owner_a", "admin_a"):
        status, html, _ = page(api, who, f"/office/shops/{shop}/kb")
        assert status == 200 and 'data-can-edit="1"' in html
        assert 'id="new-entry"' in html and 'id="import-form"' in html
        assert 'data-testid="read-only"' not in html


def test_case_pages_per_role(api: Api, clock: FakeClock) -> None:
    case = open_aftersales(api, clock)
    expected = {
        "buyer1": "buyer",
        "owner_a": "seller_owner",
        "agent_a": "seller_agent",
        "staff": "platform_staff",
    }
    for who, role in expected.items():
        status, html, _ = page(api, who, f"/office/cases/{case}")
        assert status == 200, (who, html)
        assert f'data-role="{role}"' in html
        assert "After-sales request #" in html
        status, html, _ = page(api, who, "/office/cases")
        assert status == 200 and 'data-testid="case-list"' in html
    # The action catalogue comes from the state machine: the seller's reply needs a reason.
    _, html, _ = page(api, "owner_a", f"/office/cases/{case}")
    assert '"reject": {"params": [{"choices": null, "integer": false, "name": "reason"' in html
    for outsider in ("owner_b", "agent_b", "buyer2"):
        status, html, _ = page(api, outsider, f"/office/cases/{case}")
        status_missing, missing, _ = page(api, outsider, f"/office/cases/{MISSING}")
        assert status == status_missing == 404, outsider
        assert main_of(html) == main_of(missing)
        assert "No such case." in html


def test_platform_console_is_for_staff_only(api: Api) -> None:
    status, html, _ = page(api, "staff", "/office/platform")
    assert status == 200
    for section in ("reviews", "staff-appeals", "disputes", "outcomes", "complaint-stats"):
        assert f'data-testid="{section}"' in html
    assert '"name": "Shop B"' in html  # staff see every shop
    for who in ("owner_a", "agent_a", "buyer1"):
        status, html, _ = page(api, who, "/office/platform")
        assert status == 403, who
        assert "The platform console is for platform staff." in html


# (who, where /office lands, links the header has, texts it must not have)
NAVIGATION = [
    ("buyer1", "/office/cases", ["/shops", "/office/cases"],
     ["/inbox", "/office/platform", "Knowledge base"]),
    ("agent_a", "/office/shops/{a}/health",
     ["/inbox", "/office/shops/{a}/health", "/office/shops/{a}/kb", "/office/cases"],
     ["/office/platform"]),
    ("staff", "/office/platform", ["/inbox", "/office/cases", "/office/platform"],
     ["Shop health"]),
]  # fmt: skip


def test_navigation_follows_the_role(api: Api) -> None:
    a = api.world.shops["a"]
    for who, landing, links, absent in NAVIGATION:
        status, _, location = page(api, who, "/office")
        assert (status, location) == (303, landing.format(a=a)), who
        html = api.client.get(location).text
        nav = re.search(r'<nav class="nav".*?</nav>', html, re.S)
        assert nav, html
        for link in links:
            assert f'href="{link.format(a=a)}"' in nav.group(0), (who, link)
        for text in absent:
            assert text not in nav.group(0), (who, text)


def test_pages_ship_their_own_assets(api: Api) -> None:
    """No CDN: every script and style sheet a page loads is served by the app itself."""
    shop = api.world.shops["a"]
    seen: set[str] = set()
    for who, path in (
        ("owner_a", f"/office/shops/{shop}/health"),
        ("owner_a", f"/office/shops/{shop}/kb"),
        ("owner_a", "/office/cases"),
        ("staff", "/office/platform"),
    ):
        _, html, _ = page(api, who, path)
        assets = re.findall(r'(?:src|href)="([^"]+\.(?:js|css))"', html)
        assert assets and all(a.startswith("/static/") for a in assets), assets
        seen.update(assets)
    for asset in sorted(seen):
        r = api.client.get(asset)
        assert r.status_code == 200 and len(r.content) > 200, asset


def test_cases_page_offers_orders_force_majeure_and_regions_per_role(api: Api) -> None:
    """Buyers get their orders with after-sales requests (AS-2); a shop's owner and admins the
    force-majeure application (FM-3, FM-4); the team the adjusted regions (FM-1); staff
    declare, renew and end regions in the console."""
    _, html, _ = page(api, "buyer1", "/office/cases")
    assert 'data-testid="order-list"' in html and '"return_and_refund"' in html
    assert 'id="fm-form"' not in html and 'data-testid="region-list"' not in html
    for who in ("owner_a", "admin_a"):
        _, html, _ = page(api, who, "/office/cases")
        form = main_of(html)
        assert 'id="fm-form"' in form and 'data-testid="region-list"' in form, who
        # Only official document kinds are offered (FM-4); screenshots are not among them.
        assert 'value="government_notice"' in form and "screenshot\"" not in form
        assert 'accept="application/pdf,image/jpeg,image/png"' in form
        assert 'data-testid="order-list"' not in form
    _, html, _ = page(api, "agent_a", "/office/cases")
    assert 'data-testid="region-list"' in html and 'id="fm-form"' not in html
    _, html, _ = page(api, "staff", "/office/platform")
    assert 'data-testid="regions"' in html and 'id="g-form"' in html
    _, html, _ = page(api, "staff", "/office/cases")
    assert 'id="fm-form"' not in html
