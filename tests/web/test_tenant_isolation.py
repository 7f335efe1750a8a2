"""Tenant isolation, route by route: every /api/v1 route in /openapi.json is called with tenant
A's object ids by each role of the other tenant (owner_b, admin_b, agent_b) and by another buyer.

For every route and role the answer must be a refusal (403/404, never 2xx unless the route is
listed below as legitimately public or as a list scoped to the caller), a 404 must be
byte-for-byte the answer for an id that does not exist (existence never leaks), and the whole
database must be unchanged afterwards. A route added to the API without a place in the tables
below makes `test_every_route_refuses_the_other_tenant` fail.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from typing import Any

from PIL import Image
from sqlalchemy import MetaData, inspect, select
from tests.support.world import PASSWORD, auth
from tests.web.conftest import Api

from shopdesk.policy.penalties import PenaltyDecision
from shopdesk.store import ledger
from shopdesk.store.models import Evaluation

API = "/api/v1"
MISSING = 999_999
OTHER_TENANT = ("owner_b", "admin_b", "agent_b", "buyer2")

Route = tuple[str, str]  # (METHOD, path template as in /openapi.json)

# Routes not exercised, each with the reason. WebSocket /api/v1/ws is not in the OpenAPI
# document; its isolation is the broker's audience (tests/web/test_ws*.py).
EXCLUDED: dict[Route, str] = {
    ("GET", f"{API}/health"): "public liveness probe; returns no tenant data",
    ("POST", f"{API}/auth/token"): "public log-in; concerns only the caller's own credentials",
    ("GET", f"{API}/me"): "describes the caller's own account only",
    ("POST", f"{API}/attachments"): "upload creates a file owned by the caller and references "
    "nothing; reading someone else's file is covered by GET /attachments/{attachment_id}",
    ("POST", f"{API}/casework/files"): "like POST /attachments: a file owned by the caller; "
    "citing someone else's upload is refused (tests/web/test_casework_regions.py)",
}

# Shops are public storefronts: any buyer may see them (access.shop_filter).
PUBLIC_TO_BUYERS: dict[Route, str] = {
    ("GET", f"{API}/shops"): "the marketplace's list of shops",
    ("GET", f"{API}/shops/{{shop_id}}"): "a shop's storefront",
    ("GET", f"{API}/shops/{{shop_id}}/hours"): "a shop's business hours",
    ("GET", f"{API}/shops/{{shop_id}}/products"): "a shop's products",
}

# Platform-wide public notices, not tenant data: every signed-in user reads them.
PUBLIC_TO_ALL: dict[Route, str] = {
    ("GET", f"{API}/force-majeure/regions"): "force-majeure adjusted regions (FM-1)",
    ("GET", f"{API}/force-majeure/regions/{{region_id}}"): "one adjusted region (FM-1)",
}

# Lists answer 200 to everyone but must hold only the caller's rows: checked by the `shop`
# field of each row (with ?shop=<A> when the route has that filter) and by the row id.
SCOPED_LISTS: dict[Route, str] = {
    ("GET", f"{API}/shops"): "shop",
    ("GET", f"{API}/conversations"): "conversation",
    ("GET", f"{API}/tickets"): "ticket",
    ("GET", f"{API}/appeals"): "appeal",
    ("GET", f"{API}/evaluations"): "evaluation",
    ("GET", f"{API}/evaluations.csv"): "evaluation",
    ("GET", f"{API}/auth/tokens"): "token",
    ("GET", f"{API}/reviews"): "review",
    ("GET", f"{API}/cases"): "case",
    ("GET", f"{API}/orders"): "order",
}

# Path parameter name -> kind of tenant-A object substituted for it.
PATH_KINDS = {
    "shop_id": "shop",
    "conversation_id": "conversation",
    "attachment_id": "attachment",
    "ticket_id": "ticket",
    "token_id": "token",
    "entry_id": "ledger_entry",
    "appeal_id": "appeal",
    "evaluation_id": "evaluation",
    "review_id": "review",
    "message_id": "message",
    "case_id": "case",
    "entry_key": "kb_entry",
    "region_id": "adjusted_region",
    "order_id": "order",
}


@dataclass(frozen=True)
class Ref:
    """A tenant-A object id inside a request body."""

    kind: str


# Minimal valid request bodies, keyed by route.
BODIES: dict[Route, dict[str, Any]] = {
    ("PUT", f"{API}/shops/{{shop_id}}/hours"): {
        "windows": [{"weekday": 0, "opens": "08:00", "closes": "12:00"}], "closed_dates": []},
    ("PUT", f"{API}/shops/{{shop_id}}/vacation"): {"enabled": True},
    ("PUT", f"{API}/shops/{{shop_id}}/chatbot"): {"enabled": True},
    ("PUT", f"{API}/shops/{{shop_id}}/presence"): {"online": True, "capacity": 3},
    ("POST", f"{API}/conversations"): {"shop": Ref("shop"), "order": Ref("order")},
    ("POST", f"{API}/conversations/{{conversation_id}}/messages"): {
        "client_id": "isolation-probe", "kind": "text", "text": "hello from another tenant"},
    ("POST", f"{API}/conversations/{{conversation_id}}/transfer"): {"agent": Ref("agent")},
    ("POST", f"{API}/conversations/{{conversation_id}}/rating"): {"stars": 1, "comment": "x"},
    ("POST", f"{API}/tickets"): {"shop": Ref("shop"), "conversation": Ref("conversation"),
                                 "text": "a ticket on someone else's chat"},
    ("POST", f"{API}/ledger/{{entry_id}}/appeals"): {
        "reason": "An appeal filed by another tenant.", "evidence": [Ref("attachment")]},
    ("POST", f"{API}/appeals/{{appeal_id}}/decision"): {"outcome": "granted",
                                                         "reason": "probe"},
    ("POST", f"{API}/reviews/{{review_id}}/decision"): {"outcome": "approved",
                                                        "reason": "probe"},
    ("POST", f"{API}/screen"): {"text": "probe", "conversation": Ref("conversation")},
    ("POST", f"{API}/messages/{{message_id}}/report"): {"reason": "abusive", "note": "probe"},
    ("POST", f"{API}/aftersales"): {"order": Ref("order"), "kind": "refund_only",
                                    "reason": "not as described"},
    ("POST", f"{API}/disputes"): {"claim": "probe", "after_sales": Ref("case")},
    ("POST", f"{API}/complaints"): {"subject": "probe", "text": "probe",
                                    "about_order": Ref("order")},
    ("POST", f"{API}/platform-tickets"): {"kind": "help_centre", "subject": "probe",
                                         "body": "probe", "attachments": [Ref("attachment")]},
    ("POST", f"{API}/force-majeure"): {"ticket": Ref("case"), "shipping_address": "x",
                                       "reason": "flood", "expected_recovery": "2026-12-01"},
    ("POST", f"{API}/cases/{{case_id}}/actions"): {"action": "add_evidence", "params": {}},
    ("POST", f"{API}/cases/{{case_id}}/attachments"): {},
    ("POST", f"{API}/force-majeure/regions"): {
        "name": "probe", "region_codes": ["US"], "starts_at": "2026-11-01T00:00:00Z",
        "ends_at": "2026-11-20T00:00:00Z", "reason": "probe"},
    ("POST", f"{API}/force-majeure/regions/{{region_id}}/renewals"): {
        "ends_at": "2026-12-20T00:00:00Z", "reason": "probe"},
    ("POST", f"{API}/force-majeure/regions/{{region_id}}/end"): {"reason": "probe"},
    ("POST", f"{API}/shops/{{shop_id}}/kb/entries"): {
        "category": "other", "question": "probe?", "answer": "probe"},
    ("PUT", f"{API}/shops/{{shop_id}}/kb/entries/{{entry_key}}"): {"answer": "probe"},
    ("POST", f"{API}/shops/{{shop_id}}/kb/import"): {},
    ("PUT", f"{API}/shops/{{shop_id}}/kb/cards"): {"greeting": "probe", "cards": []},
    ("POST", f"{API}/conversations/{{conversation_id}}/cards/{{entry_key}}/tap"): {},
    ("POST", f"{API}/conversations/{{conversation_id}}/suggestions/{{entry_key}}/chosen"): {},
}

# Refusals other than 403/404, each with the reason. They must still equal the refusal for a
# non-existent id.
OTHER_REFUSALS: dict[Route, tuple[set[int], str]] = {
    ("POST", f"{API}/conversations"): (
        {422}, "a buyer may open a chat with any shop; another buyer's order in the body is "
        "refused as invalid_order, exactly like an order that does not exist"),
    ("POST", f"{API}/platform-tickets"): (
        {422}, "anyone may open a help-centre ticket; another user's upload as its attachment "
        "is refused like an upload that does not exist"),
}


def png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (4, 4), (200, 30, 60)).save(buf, format="PNG")
    return buf.getvalue()


def _sessions(api: Api) -> Any:
    return api.client.app.state.sessions  # type: ignore[attr-defined]


def tenant_a(api: Api) -> dict[str, int]:
    """Tenant A's objects (and a few of tenant B, so B's lists are not trivially empty)."""
    w = api.world
    shop = w.shops["a"]
    conv = api.open_conversation("buyer1", "a")
    first = api.send("buyer1", conv, "Where is my parcel?")
    assert first.status_code == 201, first.text
    r = api.client.post(f"{API}/attachments", headers=api.as_("buyer1"),
                        files={"file": ("p.png", png(), "image/png")})
    assert r.status_code == 201, r.text
    attachment = r.json()["id"]
    r = api.post("buyer1", f"{API}/conversations/{conv}/messages",
                 {"client_id": "img-1", "kind": "image", "attachment": attachment})
    assert r.status_code == 201, r.text
    assert api.send("agent_a", conv, "It ships tomorrow.").status_code == 201
    r = api.post("buyer1", f"{API}/tickets", {"shop": shop, "conversation": conv,
                                               "text": "Please call me back."})
    assert r.status_code == 201, r.text
    ticket = r.json()["id"]
    tokens = api.get("buyer1", f"{API}/auth/tokens").json()
    token = tokens[0]["id"]
    clock = api.client.app.state.clock  # type: ignore[attr-defined]
    with _sessions(api)() as db, db.begin():
        entry = ledger.append(db, shop, PenaltyDecision("violation", "PEN-2", 1, "rate 80%"),
                              clock()).id
        window = {"start": "2026-10-26T00:00:00Z", "end": "2026-11-02T00:00:00Z",
                  "evaluated_at": "2026-11-02T00:00:00Z"}
        ev = Evaluation(shop_id=shop, policy="us", policy_version="t", scheduled_for=clock(),
                        window_start=clock(), window_end=clock(), computed_at=clock(),
                        outcome="warning", response_rate=0.5, satisfaction_rate=None,
                        result={"window": window, "outcome": "warning", "sessions_detail": [
                            {"conversation": str(conv), "status": "late"}]})
        db.add(ev)
        db.flush()
        evaluation = ev.id
        review = _review(db, shop, conv, first.json()["id"], clock())
    r = api.post("owner_a", f"{API}/ledger/{entry}/appeals",
                 {"reason": "Our region was under force majeure."})
    assert r.status_code == 201, r.text
    appeal = r.json()["id"]
    r = api.post("buyer1", f"{API}/aftersales", {"order": w.orders["a1"], "kind": "refund_only",
                                                  "reason": "not as described"})
    case = r.json()["id"] if r.status_code == 201 else MISSING - 2  # casework not wired yet
    # Shop A's knowledge base (seeded with the presets on first access) and a card.
    kb_entry = "en.after_sale.return"
    r = api.put("owner_a", f"{API}/shops/{shop}/kb/cards", {"cards": [kb_entry]})
    assert r.status_code == 200, r.text
    # A platform-declared adjusted region (FM-1): only staff change it.
    r = api.post("staff", f"{API}/force-majeure/regions", {
        "name": "Flood", "region_codes": ["US"], "starts_at": "2026-11-01T00:00:00Z",
        "ends_at": "2026-11-20T00:00:00Z", "reason": "State emergency order"})
    assert r.status_code == 201, r.text
    region = r.json()["id"]
    # Tenant B has its own chat, so B's lists are not empty by accident.
    conv_b = api.open_conversation("buyer2", "b")
    assert api.send("buyer2", conv_b, "Hi shop B").status_code == 201
    return {"shop": shop, "conversation": conv, "attachment": attachment, "ticket": ticket,
            "token": token, "ledger_entry": entry, "appeal": appeal, "evaluation": evaluation,
            "review": review, "message": first.json()["id"], "agent": w.users["agent_a"],
            "order": w.orders["a1"], "conversation_b": conv_b, "case": case,
            "kb_entry": kb_entry, "adjusted_region": region}


def _review(db: Any, shop: int, conv: int, message: int, now: Any) -> int:
    """A review-queue row of shop A, when the review queue exists in this build."""
    if not inspect(db.get_bind()).has_table("reviews"):
        return MISSING - 1
    from shopdesk.store.models_review import Review

    row = Review(kind="buyer_report", shop_id=shop, conversation_id=conv, message_id=message,
                 findings=[], reporter_id=None, reason="abusive", evidence=[], created_at=now,
                 status="pending")
    db.add(row)
    db.flush()
    return int(row.id)


def snapshot(api: Api) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in primary-key order."""
    engine = api.client.app.state.engine  # type: ignore[attr-defined]
    meta = MetaData()
    meta.reflect(engine)
    out: dict[str, list[tuple[Any, ...]]] = {}
    with engine.connect() as conn:
        for name, table in sorted(meta.tables.items()):
            order = list(table.primary_key.columns) or list(table.columns)
            out[name] = [tuple(r) for r in conn.execute(select(table).order_by(*order))]
    return out


def openapi_routes(api: Api) -> dict[Route, dict[str, Any]]:
    spec = api.client.get("/openapi.json").json()
    return {
        (method.upper(), path): op
        for path, ops in spec["paths"].items() if path.startswith(API + "/")
        for method, op in ops.items()
    }


def _fill(value: Any, ids: dict[str, int], role: str, missing: bool) -> Any:
    if isinstance(value, Ref):
        public = value.kind == "shop" and role.startswith("buyer")
        return MISSING if missing and not public else ids[value.kind]
    if isinstance(value, dict):
        return {k: _fill(v, ids, role, missing) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, ids, role, missing) for v in value]
    return value


def build_request(route: Route, op: dict[str, Any], ids: dict[str, int], role: str,
                  missing: bool) -> tuple[str, dict[str, Any], Any]:
    """(url, query, json body) for `route` called by `role` on A's ids (or non-existent ids)."""
    method, template = route
    path, query = template, {}
    for param in op.get("parameters", []):
        name = param["name"]
        if param["in"] == "path":
            kind = PATH_KINDS.get(name)
            assert kind is not None, f"{method} {template}: no tenant-A object for path " \
                f"parameter {name!r}; add one to PATH_KINDS and tenant_a()"
            path = path.replace("{" + name + "}", str(_fill(Ref(kind), ids, role, missing)))
        elif param["in"] == "query" and name == "shop":
            query["shop"] = _fill(Ref("shop"), ids, role, missing)
        elif param["in"] == "query" and "all" in param.get("schema", {}).get("enum", []):
            query[name] = "all"  # status, queue, outcome, kind: every row the caller may see
    body = None
    if "requestBody" in op:
        assert route in BODIES, f"{method} {template}: add a minimal body to BODIES"
        body = _fill(BODIES[route], ids, role, missing)
    return path, query, body


def _ids_out(text: str) -> str:
    """A refusal may name the id it was given; compare the answers without the numbers."""
    return re.sub(r"\d+", "#", text)


def _rows(resp: Any) -> list[dict[str, Any]]:
    if resp.headers.get("content-type", "").startswith("text/csv"):
        return list(csv.DictReader(io.StringIO(resp.text)))
    data = resp.json()
    assert isinstance(data, list), data
    return data


def _leaks(rows: list[dict[str, Any]], kind: str, ids: dict[str, int]) -> list[dict[str, Any]]:
    shop = str(ids["shop"])
    own_id = str(ids[kind]) if kind in ids else None
    return [r for r in rows
            if str(r.get("shop", "")) == shop or (own_id and str(r.get("id")) == own_id)]


def test_every_route_refuses_the_other_tenant(api: Api) -> None:
    ids = tenant_a(api)
    routes = openapi_routes(api)
    for route in EXCLUDED:
        assert route in routes, f"stale exclusion {route}"
    for route in {**PUBLIC_TO_BUYERS, **PUBLIC_TO_ALL}:
        assert route in routes, f"stale public route {route}"
    headers = {role: api.as_(role) for role in OTHER_TENANT}  # tokens issued before the snapshot
    before = snapshot(api)
    exercised: set[Route] = set()
    problems: list[str] = []
    for route, op in sorted(routes.items()):
        if route in EXCLUDED:
            continue
        exercised.add(route)
        method = route[0]
        for role in OTHER_TENANT:
            url, query, body = build_request(route, op, ids, role, missing=False)
            resp = api.client.request(method, url, params=query, json=body, headers=headers[role])
            where = f"{method} {url} {query or ''} as {role}"
            if role.startswith("buyer") and route in PUBLIC_TO_BUYERS:
                if resp.status_code != 200:
                    problems.append(f"{where}: public route answered {resp.status_code}")
                continue
            if route in PUBLIC_TO_ALL:
                if resp.status_code != 200:
                    problems.append(f"{where}: public route answered {resp.status_code}")
                continue
            if route in SCOPED_LISTS:
                if resp.status_code != 200:
                    problems.append(f"{where}: list answered {resp.status_code}: {resp.text}")
                elif leaked := _leaks(_rows(resp), SCOPED_LISTS[route], ids):
                    problems.append(f"{where}: LEAK of tenant A rows {leaked}")
                continue
            allowed = {403, 404} | OTHER_REFUSALS.get(route, (set(), ""))[0]
            if resp.status_code not in allowed:
                problems.append(f"{where}: answered {resp.status_code} (want one of "
                                f"{sorted(allowed)}): {resp.text[:300]}")
                continue
            m_url, m_query, m_body = build_request(route, op, ids, role, missing=True)
            ref = api.client.request(method, m_url, params=m_query, json=m_body,
                                     headers=headers[role])
            if (resp.status_code, _ids_out(resp.text)) != (ref.status_code, _ids_out(ref.text)):
                problems.append(f"{where}: answer {resp.status_code} {resp.text} differs from "
                                f"the answer for a non-existent id: {ref.status_code} {ref.text}")
    assert not problems, "\n".join(problems)
    assert exercised == set(routes) - set(EXCLUDED)
    after = snapshot(api)
    changed = [t for t in before if before[t] != after.get(t)]
    assert not changed, f"calls by the other tenant changed tables {changed}"
    # Tenant A's own team still gets through, so the refusals above were about the tenant.
    conv = ids["conversation"]
    assert api.get("agent_a", f"{API}/conversations/{conv}/messages").status_code == 200
    assert api.get("buyer1", f"{API}/conversations/{conv}").status_code == 200


def test_conversation_lists_are_per_tenant_and_staff_sees_all(api: Api) -> None:
    conv_a = api.open_conversation("buyer1", "a")
    conv_b = api.open_conversation("buyer2", "b")
    conv_a2 = api.open_conversation("buyer2", "a")
    for conv, who in ((conv_a, "buyer1"), (conv_b, "buyer2"), (conv_a2, "buyer2")):
        assert api.send(who, conv, "hello").status_code == 201

    def listed(who: str, **params: Any) -> set[int]:
        r = api.get(who, f"{API}/conversations", params=params)
        assert r.status_code == 200, r.text
        return {c["id"] for c in r.json()}

    for seller in ("owner_b", "admin_b", "agent_b"):
        assert listed(seller) == {conv_b}
        assert listed(seller, shop=api.world.shops["a"]) == set()
    for seller in ("owner_a", "agent_a"):
        assert listed(seller) == {conv_a, conv_a2}
    assert listed("buyer1") == {conv_a}
    assert listed("buyer2") == {conv_b, conv_a2}
    assert listed("staff") == {conv_a, conv_b, conv_a2}
    assert api.get("staff", f"{API}/conversations/{conv_a}/messages").status_code == 200


def test_restricted_token_cannot_post(api: Api) -> None:
    conv = api.open_conversation("buyer1", "a")
    r = api.client.post(f"{API}/auth/token", json={
        "username": "buyer1", "password": PASSWORD, "scopes": ["chat:read"]})
    assert r.status_code == 200 and r.json()["scopes"] == ["chat:read"]
    read_only = auth(r.json()["access_token"])
    before = snapshot(api)
    r = api.client.post(f"{API}/conversations/{conv}/messages", headers=read_only,
                        json={"client_id": "c1", "kind": "text", "text": "hi"})
    assert r.status_code == 403 and r.json()["code"] == "insufficient_scope", r.text
    r = api.client.post(f"{API}/conversations", headers=read_only,
                        json={"shop": api.world.shops["b"]})
    assert r.status_code == 403 and r.json()["code"] == "insufficient_scope", r.text
    assert snapshot(api) == before
    r = api.client.get(f"{API}/conversations/{conv}/messages", headers=read_only)
    assert r.status_code == 200


def test_agents_cannot_change_business_hours(api: Api) -> None:
    shop = api.world.shops["a"]
    before = api.get("agent_a", f"{API}/shops/{shop}/hours").json()
    for agent in ("agent_a", "agent2_a"):
        r = api.put(agent, f"{API}/shops/{shop}/hours",
                    {"windows": [{"weekday": 1, "opens": "09:00", "closes": "17:00"}]})
        assert r.status_code == 403 and r.json()["code"] == "role_forbidden", r.text
    assert api.get("agent_a", f"{API}/shops/{shop}/hours").json() == before
    r = api.put("admin_a", f"{API}/shops/{shop}/hours",
                {"windows": [{"weekday": 1, "opens": "09:00", "closes": "17:00"}]})
    assert r.status_code == 200, r.text


def test_revoked_token_stops_working(api: Api) -> None:
    headers = api.as_("buyer1")
    assert api.client.get(f"{API}/me", headers=headers).status_code == 200
    tokens = api.client.get(f"{API}/auth/tokens", headers=headers).json()
    assert len(tokens) == 1
    r = api.client.delete(f"{API}/auth/tokens/{tokens[0]['id']}", headers=headers)
    assert r.status_code == 204, r.text
    for path in ("/me", "/conversations", "/shops"):
        r = api.client.get(API + path, headers=headers)
        assert r.status_code == 401 and r.json()["code"] == "unauthenticated", r.text


def test_cross_tenant_ids_in_bodies_are_refused_like_missing_ones(api: Api) -> None:
    """Tenant B's own routes, with a tenant-A object in the body."""
    ids = tenant_a(api)
    conv_b = ids["conversation_b"]
    assert api.send("agent_b", conv_b, "Hello from shop B").status_code == 201
    cases: list[tuple[str, str, dict[str, Any], str, int]] = [
        ("buyer2", f"{API}/conversations/{conv_b}/messages",
         {"client_id": "x1", "kind": "image", "attachment": "ATT"}, "attachment", 422),
        ("agent_b", f"{API}/conversations/{conv_b}/messages",
         {"client_id": "x2", "kind": "product_card", "product": "PRODUCT"}, "product", 422),
        ("buyer2", f"{API}/conversations/{conv_b}/messages",
         {"client_id": "x3", "kind": "order_card", "order": "ORDER"}, "order", 422),
        ("owner_b", f"{API}/conversations/{conv_b}/transfer", {"agent": "AGENT"}, "agent", 422),
        ("buyer2", f"{API}/tickets", {"shop": api.world.shops["b"], "text": "t",
                                      "conversation": "CONV"}, "conversation", 404),
        ("buyer2", f"{API}/conversations", {"shop": api.world.shops["b"],
                                            "product": "PRODUCT"}, "product", 422),
    ]
    real = dict(ids, product=api.world.products["a"])
    for who in {c[0] for c in cases}:
        api.token(who)  # issued before the snapshot
    before = snapshot(api)
    for who, path, body, kind, status in cases:
        placeholder = next(k for k, v in body.items() if isinstance(v, str) and v.isupper())
        got = api.post(who, path, dict(body, **{placeholder: real[kind]}))
        ref = api.post(who, path, dict(body, **{placeholder: MISSING}))
        assert got.status_code == status, (who, path, got.text)
        assert json.loads(got.text) == json.loads(ref.text), (who, path, got.text, ref.text)
    assert snapshot(api) == before
