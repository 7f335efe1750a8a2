"""Who may download a stored file (`GET /attachments/{id}`, store.access.get_attachment): its
uploader; the people who can see the row that carries it (a chat message, an appeal of the
shop, a case); staff for buyer-message reports. Anyone else gets the missing-id 404."""

from __future__ import annotations

import re
from typing import Any

from tests.support.world import FakeClock
from tests.web.conftest import Api
from tests.web.test_casework_flows import fm_body, open_ticket, upload
from tests.web.test_casework_regions import blank_pdf, upload_file

from shopdesk.policy.penalties import PenaltyDecision
from shopdesk.store import ledger

API = "/api/v1"
EVERYONE = ("owner_a", "admin_a", "agent_a", "owner_b", "agent_b", "buyer1", "buyer2", "staff")


def missing_like(resp: Any, ref: Any) -> bool:
    """The refusal equals the answer for an id that does not exist (digits aside)."""
    return resp.status_code == 404 and re.sub(r"\d+", "#", resp.text) == re.sub(
        r"\d+", "#", ref.text
    )


def appeal_with_evidence(api: Api, clock: FakeClock) -> int:
    with api.client.app.state.sessions() as db, db.begin():  # type: ignore[attr-defined]
        entry = ledger.append(
            db, api.world.shops["a"], PenaltyDecision("violation", "PEN-2", 1, "rate 80%"), clock()
        ).id
    evidence = upload(api, "owner_a")
    r = api.post("owner_a", f"{API}/ledger/{entry}/appeals",
                 {"reason": "The carrier was on strike.", "evidence": [evidence]})
    assert r.status_code == 201, r.text
    return evidence


def reported_with_evidence(api: Api) -> int:
    conv = api.open_conversation("buyer1", "a")
    msg = api.send("buyer1", conv, "Refund me or I post your address everywhere.").json()["id"]
    evidence = upload(api, "agent_a")
    r = api.post("agent_a", f"{API}/messages/{msg}/report",
                 {"reason": "extortion", "evidence": [evidence]})
    assert r.status_code == 201, r.text
    return evidence


def test_each_file_reaches_exactly_the_people_of_the_row_carrying_it(
    api: Api, clock: FakeClock
) -> None:
    appeal_file = appeal_with_evidence(api, clock)
    report_file = reported_with_evidence(api)
    # A buyer's after-sales request with a PDF receipt (a case file).
    receipt = upload_file(api, "buyer1", blank_pdf(1), "receipt.pdf").json()["id"]
    r = api.post("buyer1", f"{API}/aftersales", {
        "order": api.world.orders["a1"], "kind": "refund_only", "reason": "Never arrived.",
        "attachments": [receipt]})
    assert r.status_code == 201, r.text
    # The shop's force-majeure proof (a case of the shop, no buyer).
    body = fm_body(api, clock, open_ticket(api, "owner_a", "force_majeure"))
    proof = body["proofs"][0]["attachment"]
    assert api.post("owner_a", f"{API}/force-majeure", body).status_code == 201
    # Uploaded and never attached: its uploader's alone, staff included.
    loose = upload(api, "buyer2")

    may = {
        appeal_file: {"owner_a", "admin_a", "agent_a", "staff"},
        report_file: {"agent_a", "staff"},
        receipt: {"buyer1", "owner_a", "admin_a", "agent_a", "staff"},
        proof: {"owner_a", "admin_a", "agent_a", "staff"},
        loose: {"buyer2"},
    }
    for who in EVERYONE:
        ref = api.get(who, f"{API}/attachments/999999")
        assert ref.status_code == 404 and ref.json()["code"] == "not_found", ref.text
        for att, allowed in may.items():
            got = api.get(who, f"{API}/attachments/{att}")
            if who in allowed:
                assert got.status_code == 200, (who, att, got.text)
            else:
                assert missing_like(got, ref), (who, att, got.status_code, got.text)

    # A PDF is saved as a file, never rendered in the app's origin; images are shown.
    got = api.get("agent_a", f"{API}/attachments/{receipt}")
    assert got.content.startswith(b"%PDF-")
    assert got.headers["content-type"] == "application/pdf"
    assert got.headers["content-disposition"].startswith("attachment")
    got = api.get("staff", f"{API}/attachments/{appeal_file}")
    assert got.headers["content-type"] == "image/png" and got.content.startswith(b"\x89PNG")
    assert "content-disposition" not in got.headers


def test_an_id_inside_another_id_does_not_open_the_file(api: Api, clock: FakeClock) -> None:
    """Rows are matched on the stored id, not its digits: file 1 is not file 11's evidence."""
    files = [upload(api, "owner_a") for _ in range(11)]
    with api.client.app.state.sessions() as db, db.begin():  # type: ignore[attr-defined]
        entry = ledger.append(
            db, api.world.shops["a"], PenaltyDecision("violation", "PEN-2", 1, "late"), clock()
        ).id
    tens = [f for f in files if f >= 10]
    r = api.post("owner_a", f"{API}/ledger/{entry}/appeals",
                 {"reason": "Several notices.", "evidence": tens})
    assert r.status_code == 201, r.text
    singles = [f for f in files if f < 10 and any(str(f) in str(t) for t in tens)]
    assert singles, files
    for f in singles:
        assert api.get("agent_a", f"{API}/attachments/{f}").status_code == 404
    for f in tens:
        assert api.get("agent_a", f"{API}/attachments/{f}").status_code == 200
