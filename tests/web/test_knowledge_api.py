"""Knowledge-base API: TEAM-2 permissions, presets (KB-3) in both languages, reset,
import/export in the CONTRACTS §4 format, greeting and FAQ cards (KB-4)."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import update
from tests.web.conftest import Api

from shopdesk.knowledge.presets import load_presets
from shopdesk.store.models import Shop

API = "/api/v1"


def entries_url(api: Api, shop: str = "a") -> str:
    return f"{API}/shops/{api.world.shops[shop]}/kb/entries"


def set_language(api: Api, shop: str, lang: str) -> None:
    with api.client.app.state.sessions() as db, db.begin():  # type: ignore[attr-defined]
        db.execute(
            update(Shop).where(Shop.id == api.world.shops[shop]).values(listing_language=lang)
        )


def import_kb(api: Api, who: str, content: bytes, shop: str = "a", mode: str = "merge") -> Any:
    return api.client.post(
        f"{API}/shops/{api.world.shops[shop]}/kb/import",
        params={"mode": mode},
        content=content,
        headers=api.as_(who) | {"content-type": "application/x-ndjson"},
    )


def export(api: Api, who: str, shop: str = "a") -> Any:
    return api.get(who, f"{API}/shops/{api.world.shops[shop]}/kb/export")


def test_presets_seeded_in_the_shop_language(api: Api) -> None:
    # rule KB-3: an en shop gets the English presets, a zh shop Chinese and English.
    set_language(api, "b", "zh")
    r = api.get("agent_a", entries_url(api))
    assert r.status_code == 200, r.text
    rows = r.json()
    assert {e["lang"] for e in rows} == {"en"}
    assert {e["id"] for e in rows} == {p.id for p in load_presets("en")}
    assert all(e["preset"] == e["id"] for e in rows)
    assert {e["category"] for e in rows} == {
        "greeting",
        "pre_sale",
        "logistics",
        "after_sale",
        "other",
    }
    zh = api.get("owner_b", entries_url(api, "b")).json()
    assert {e["lang"] for e in zh} == {"zh", "en"}
    assert len(zh) == len(load_presets("zh")) + len(load_presets("en"))
    only = api.get("agent_a", entries_url(api), params={"category": "logistics"}).json()
    assert only and {e["category"] for e in only} == {"logistics"}


def test_team2_only_owner_and_admin_edit(api: Api) -> None:
    shop = api.world.shops["a"]
    base = entries_url(api)
    key = "en.logistics.tracking"
    body = {"category": "other", "question": "Do you gift wrap?", "answer": "Yes, for free."}
    for agent in ("agent_a", "agent2_a"):
        for method, path, payload in (
            ("POST", base, body),
            ("PUT", f"{base}/{key}", {"answer": "changed"}),
            ("DELETE", f"{base}/{key}", None),
            ("POST", f"{base}/{key}/reset", None),
            ("PUT", f"{API}/shops/{shop}/kb/cards", {"cards": [key]}),
        ):
            r = api.client.request(method, path, json=payload, headers=api.as_(agent))
            assert r.status_code == 403 and r.json()["code"] == "role_forbidden", (method, r.text)
        r = import_kb(api, agent, b"")
        assert r.status_code == 403, r.text
        # Agents read (TEAM-3).
        assert api.get(agent, f"{base}/{key}").status_code == 200
        assert export(api, agent).status_code == 200
    # Other tenants and buyers: the shop's KB does not exist for them.
    for other in ("owner_b", "admin_b", "agent_b", "buyer1"):
        r = api.get(other, base)
        assert r.status_code == 404, r.text
        assert api.post(other, base, body).status_code == 404
    created = api.post("admin_a", base, body)
    assert created.status_code == 201, created.text
    new_key = created.json()["id"]
    r = api.put("owner_a", f"{base}/{new_key}", {"answer": "Yes, free of charge."})
    assert r.status_code == 200 and r.json()["answer"] == "Yes, free of charge."
    assert r.json()["question"] == "Do you gift wrap?"
    assert api.post("owner_a", base, dict(body, id=new_key)).status_code == 409
    r = api.client.delete(f"{base}/{new_key}", headers=api.as_("owner_a"))
    assert r.status_code == 204
    assert api.get("agent_a", f"{base}/{new_key}").status_code == 404


def test_reset_to_preset_and_no_reseed(api: Api) -> None:
    base = entries_url(api)
    key = "en.pre_sale.in_stock"
    original = api.get("owner_a", f"{base}/{key}").json()
    r = api.put(
        "owner_a",
        f"{base}/{key}",
        {"answer": "Only on Tuesdays.", "enabled": False, "similar": ["got any?"]},
    )
    assert r.status_code == 200 and r.json()["answer"] == "Only on Tuesdays."
    r = api.post("owner_a", f"{base}/{key}/reset")
    assert r.status_code == 200, r.text
    reset = r.json()
    assert reset["answer"] == original["answer"] and reset["similar"] == original["similar"]
    assert reset["enabled"] is False  # the enabled flag is the shop's choice, kept
    custom = api.post("owner_a", base, {"category": "other", "question": "q?", "answer": "a"})
    r = api.post("owner_a", f"{base}/{custom.json()['id']}/reset")
    assert r.status_code == 422 and r.json()["code"] == "no_preset"
    # A shop that deleted everything is not re-seeded on its next access.
    r = import_kb(api, "owner_a", b"", mode="replace")
    assert r.status_code == 200 and r.json()["entries"] == 0, r.text
    assert api.get("owner_a", base).json() == []


def test_import_errors_change_nothing_and_export_round_trips(api: Api) -> None:
    before = export(api, "owner_a")
    assert before.status_code == 200
    assert before.headers["content-type"].startswith("application/x-ndjson")
    good = {"id": "gift", "category": "other", "question": "Do you gift wrap?", "answer": "Yes."}
    bad = "\n".join(
        [
            json.dumps(good),
            json.dumps({"id": "x", "category": "nope", "question": "q", "answer": "a"}),
        ]
    )
    r = import_kb(api, "owner_a", bad.encode())
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "invalid_kb" and r.json()["message"].startswith("line 2:")
    r = import_kb(api, "owner_a", b'{"id": 1, "category": "other"\n')
    assert r.status_code == 422 and "line 1" in r.json()["message"]
    assert export(api, "owner_a").text == before.text  # all or nothing
    # Round trip: the export imported into another shop exports the same text.
    r = import_kb(api, "owner_b", before.content, shop="b", mode="replace")
    assert r.status_code == 200, r.text
    assert export(api, "owner_b", "b").text == before.text
    # Merge: new ids are added, existing ones updated, the rest kept.
    lines = [
        json.dumps(good),
        json.dumps(
            {
                "id": "en.pre_sale.in_stock",
                "category": "pre_sale",
                "question": "In stock?",
                "answer": "Yes!",
            }
        ),
    ]
    r = import_kb(api, "owner_a", "\n".join(lines).encode())
    assert r.status_code == 200 and (r.json()["created"], r.json()["updated"]) == (1, 1)
    rows = {e["id"]: e for e in api.get("owner_a", entries_url(api)).json()}
    assert rows["gift"]["answer"] == "Yes." and rows["en.pre_sale.in_stock"]["answer"] == "Yes!"
    assert len(rows) == len(load_presets("en")) + 1


def test_greeting_and_cards_then_tap(api: Api) -> None:
    shop = api.world.shops["a"]
    conv = api.open_conversation("buyer1", "a")
    cards = ["en.logistics.tracking", "en.after_sale.return"]
    r = api.put(
        "admin_a",
        f"{API}/shops/{shop}/kb/cards",
        {"greeting": "Welcome to Shop A!", "cards": cards},
    )
    assert r.status_code == 200 and r.json()["cards"] == cards, r.text
    r = api.put("admin_a", f"{API}/shops/{shop}/kb/cards", {"cards": ["nope"]})
    assert r.status_code == 422
    r = api.put("admin_a", f"{API}/shops/{shop}/kb/cards", {"cards": [f"c{i}" for i in range(6)]})
    assert r.status_code == 422  # at most 5 cards
    seen = api.get("buyer1", f"{API}/conversations/{conv}/cards")
    assert seen.status_code == 200, seen.text
    assert seen.json()["greeting"] == "Welcome to Shop A!"
    assert [c["entry"] for c in seen.json()["cards"]] == cards
    assert api.get("buyer2", f"{API}/conversations/{conv}/cards").status_code == 404
    # Tapping: the question as the buyer's message, the answer as an automatic bot message.
    r = api.post(
        "buyer1", f"{API}/conversations/{conv}/cards/{cards[1]}/tap", {"client_id": "tap-1"}
    )
    assert r.status_code == 201, r.text
    assert r.json()["question"]["sender"] == "buyer"
    assert r.json()["answer"]["sender"] == "bot"
    again = api.post(
        "buyer1", f"{API}/conversations/{conv}/cards/{cards[1]}/tap", {"client_id": "tap-1"}
    )
    assert again.status_code == 200 and again.json() == r.json()
    msgs = api.get("buyer1", f"{API}/conversations/{conv}/messages").json()
    entry = api.get("owner_a", f"{entries_url(api)}/{cards[1]}").json()
    assert [(m["sender"], m["text"]) for m in msgs] == [
        ("buyer", entry["question"]),
        ("bot", entry["answer"]),
    ]
    assert entry["stats"]["tapped"] == 1 and entry["stats"]["auto_answered"] == 1
    assert entry["stats"]["shown"] == 1
    assert (
        api.post("agent_a", f"{API}/conversations/{conv}/cards/{cards[1]}/tap", {}).status_code
        == 403
    )
    assert api.post("buyer1", f"{API}/conversations/{conv}/cards/nope/tap", {}).status_code == 404
    # rule KB-6: still unreplied in the inbox, marked as answered only automatically.
    listed = api.get("agent_a", f"{API}/conversations", params={"queue": "auto_only"}).json()
    assert [c["id"] for c in listed] == [conv] and listed[0]["auto_only"] is True
    waiting = api.get("agent_a", f"{API}/conversations", params={"queue": "waiting"}).json()
    assert conv in [c["id"] for c in waiting]
    assert api.send("agent_a", conv, "Happy to help with the return!").status_code == 201
    assert api.get("agent_a", f"{API}/conversations/{conv}").json()["auto_only"] is False
    assert api.get("agent_a", f"{API}/conversations", params={"queue": "auto_only"}).json() == []


def test_default_cards_and_greeting_follow_the_language(api: Api) -> None:
    set_language(api, "b", "zh")
    conv = api.open_conversation("buyer1", "b")
    with api.client.app.state.sessions() as db, db.begin():  # type: ignore[attr-defined]
        db.execute(update(Shop).where(Shop.id == api.world.shops["b"]).values(greeting=""))
    seen = api.get("buyer1", f"{API}/conversations/{conv}/cards").json()
    assert seen["lang"] == "zh"
    assert seen["greeting"] == load_presets("zh")[0].answer
    assert 0 < len(seen["cards"]) <= 5
    assert all(c["entry"].startswith("zh.") and c["category"] != "greeting" for c in seen["cards"])
