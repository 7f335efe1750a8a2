"""The chat pages as the server renders them: who gets which page, and the inbox tells its
script only about the caller's own shops and role (take/transfer and reports are offered
only where the API accepts them). The behaviour in a browser is in tests/e2e."""

from __future__ import annotations

import json
import re

from fastapi.testclient import TestClient
from tests.support.world import PASSWORD
from tests.web.conftest import Api


def view(client: TestClient, username: str | None, path: str) -> tuple[int, str, str]:
    client.cookies.clear()
    if username is not None:
        r = client.post("/login", data={"username": username, "password": PASSWORD},
                        follow_redirects=False)
        assert r.status_code == 303, r.text
    r = client.get(path, follow_redirects=False)
    return r.status_code, r.text, r.headers.get("location", "")


def inbox_shops(html: str) -> list[dict[str, object]]:
    m = re.search(r'<script type="application/json" id="inbox-shops">(.*?)</script>', html, re.S)
    assert m, html
    data: list[dict[str, object]] = json.loads(m.group(1))
    return data


def test_inbox_lists_only_the_callers_shops_with_their_role(api: Api) -> None:
    a, b = api.world.shops["a"], api.world.shops["b"]
    status, html, _ = view(api.client, "agent_a", "/inbox")
    assert status == 200
    assert inbox_shops(html) == [{"id": a, "name": "Shop A", "role": "agent"}]
    assert "Shop B" not in html
    assert 'value="auto_only"' in html  # the KB-6 queue
    _, html, _ = view(api.client, "owner_b", "/inbox")
    assert [(s["id"], s["role"]) for s in inbox_shops(html)] == [(b, "owner")]
    _, html, _ = view(api.client, "staff", "/inbox")
    assert [(s["id"], s["role"]) for s in inbox_shops(html)] == [(a, "staff"), (b, "staff")]


def test_each_side_is_sent_to_its_own_page(api: Api) -> None:
    shop = api.world.shops["a"]
    assert view(api.client, None, "/inbox")[::2] == (303, "/login")
    assert view(api.client, None, f"/chat/{shop}")[::2] == (303, "/login")
    assert view(api.client, "buyer1", "/inbox")[::2] == (303, "/shops")
    assert view(api.client, "agent_a", f"/chat/{shop}")[::2] == (303, "/inbox")
    status, html, _ = view(api.client, "buyer1", f"/chat/{shop}")
    assert status == 200
    assert '<label class="visually-hidden" for="text">Message to the shop</label>' in html
    assert "Rate this chat" in html
    status, html, _ = view(api.client, "buyer1", "/chat/999999")
    assert status == 200 and "No such shop." in html
