"""`shopdesk export-events` writes what the live system did as a CONTRACTS §1 log."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.web.conftest import Api

from shopdesk.config import Settings


def test_export_contains_the_live_history(api: Api, settings: Settings) -> None:
    clock = api.client.app.state.clock  # type: ignore[attr-defined]
    shop = api.world.shops["a"]
    conv = api.open_conversation("buyer1", "a")
    api.send("buyer1", conv, "Is the blue mug in stock?")
    clock.advance(hours=2)
    api.send("agent_a", conv, "Yes, 12 left, ships tomorrow.")
    api.post("buyer1", f"/api/v1/conversations/{conv}/rating", {"stars": 4})
    api.put("owner_a", f"/api/v1/shops/{shop}/chatbot", {"enabled": True})
    api.put("owner_a", f"/api/v1/shops/{shop}/vacation", {"enabled": True})
    clock.advance(days=1)
    api.put("owner_a", f"/api/v1/shops/{shop}/vacation", {"enabled": False})
    api.post("agent_a", f"/api/v1/conversations/{conv}/close")

    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOPDESK_")}
    env |= {"SHOPDESK_DATABASE_URL": settings.resolved_database_url()}
    out = Path(settings.data_dir) / "events.jsonl"
    r = subprocess.run(
        [str(Path(sys.executable).with_name("shopdesk")), "export-events", str(out),
         "--shop", str(shop)], env=env, capture_output=True, text=True, timeout=120, check=False,
    )
    assert r.returncode == 0, r.stderr
    events = [json.loads(line) for line in out.read_text().splitlines()]
    by_type: dict[str, list[dict[str, object]]] = {}
    for e in events:
        by_type.setdefault(str(e["type"]), []).append(e)
    assert by_type["shop"] == [{"type": "shop", "shop": str(shop),
                                "timezone": "America/Los_Angeles", "name": "Shop A"}]
    msgs = by_type["message"]
    assert [(m["sender"], m["text"]) for m in msgs] == [
        ("buyer", "Is the blue mug in stock?"), ("agent", "Yes, 12 left, ships tomorrow.")]
    assert msgs[1]["author"] == "agent_a" and msgs[0]["conversation"] == str(conv)
    assert msgs[0]["at"] == "2026-11-02T15:00:00Z" and msgs[1]["at"] == "2026-11-02T17:00:00Z"
    assert by_type["rating"][0]["stars"] == 4
    assert by_type["chatbot"][0]["enabled"] is True
    assert by_type["vacation"] == [{"type": "vacation", "shop": str(shop),
                                    "start": "2026-11-02T17:00:00Z",
                                    "end": "2026-11-03T17:00:00Z"}]
    assert by_type["close"][0]["by"] == "seller"

    bad = subprocess.run(
        [str(Path(sys.executable).with_name("shopdesk")), "export-events", "--since", "yesterday"],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )
    assert bad.returncode == 2 and "ISO 8601" in bad.stderr and bad.stdout == ""
