"""Force-majeure adjusted regions on the server (FM-1), the fulfilment deadline they move,
PDF proof and evidence (FM-4, DSP-2), and orders' shipped/delivered instants (AS-6)."""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from typing import Any

from PIL import Image
from pypdf import PdfWriter
from sqlalchemy import select
from tests.support.world import FakeClock
from tests.web.conftest import Api
from tests.web.test_casework_flows import escalated_dispute, fm_body, open_ticket

from shopdesk.store.models import AuditEntry, Order

API = "/api/v1"
REGIONS = f"{API}/force-majeure/regions"


def iso(d: datetime) -> str:
    return d.isoformat().replace("+00:00", "Z")


def region_body(clock: FakeClock, **over: Any) -> dict[str, Any]:
    return {
        "name": "Gulf coast hurricane",
        "region_codes": ["US"],
        "starts_at": iso(clock() - timedelta(days=1)),
        "ends_at": iso(clock() + timedelta(days=14)),
        "reason": "Federal emergency declaration FEMA-4999",
        **over,
    }


def declare(api: Api, clock: FakeClock, **over: Any) -> dict[str, Any]:
    r = api.post("staff", REGIONS, region_body(clock, **over))
    assert r.status_code == 201, r.text
    data: dict[str, Any] = r.json()
    return data


def scanned_notice_pdf(pages: int = 1) -> bytes:
    """What a scanned government notice looks like: page images in a PDF (Pillow writes it)."""
    sheets = [Image.new("RGB", (300, 420), "white") for _ in range(pages)]
    buf = io.BytesIO()
    sheets[0].save(buf, "PDF", save_all=True, append_images=sheets[1:])
    return buf.getvalue()


def blank_pdf(pages: int = 1, password: str | None = None) -> bytes:
    w = PdfWriter()
    for _ in range(pages):
        w.add_blank_page(612, 792)
    if password:
        w.encrypt(password)
    buf = io.BytesIO()
    w.write(buf)
    return buf.getvalue()


def upload_file(api: Api, who: str, data: bytes, name: str = "notice.pdf") -> Any:
    return api.client.post(
        f"{API}/casework/files", headers=api.as_(who), files={"file": (name, data)}
    )


def audit_actions(api: Api) -> list[tuple[str, str]]:
    with api.client.app.state.sessions() as db:  # type: ignore[attr-defined]
        rows = db.scalars(
            select(AuditEntry)
            .where(AuditEntry.target_type == "adjusted_region")
            .order_by(AuditEntry.id)
        )
        return [(e.action, e.target_id) for e in rows]


def test_staff_declare_renew_and_end_regions_others_are_refused(
    api: Api, clock: FakeClock
) -> None:
    frames: list[tuple[list[int], dict[str, Any]]] = []

    class Recorder:
        async def publish(self, users: Any, frame: dict[str, Any]) -> None:
            frames.append((sorted(users), frame))

    app: Any = api.client.app
    real_broker, app.state.broker = app.state.broker, Recorder()
    try:
        region = declare(api, clock)
    finally:
        app.state.broker = real_broker
    assert region["state"] == "active" and region["extension_days"] == 7  # policy default
    assert region["region_codes"] == ["US"] and region["renewals"] == 0
    # The sellers of the shops inside hear of it on the WebSocket; buyers do not.
    users = api.world.users
    (who, frame), *_ = frames
    assert frame["type"] == "adjusted_region" and "7 more days to ship" in frame["text"]
    assert users["agent_a"] in who and users["owner_b"] in who and users["buyer1"] not in who
    rid = region["id"]

    # Not staff: 403 with the rule, and nothing stored.
    for who_ in ("owner_a", "admin_b", "agent_a", "buyer1"):
        r = api.post(who_, REGIONS, region_body(clock))
        assert r.status_code == 403 and r.json()["code"] == "staff_only", r.text
        assert "only platform staff declare adjusted regions (FM-1)" in r.json()["message"]
        r = api.post(who_, f"{REGIONS}/{rid}/renewals",
                     {"ends_at": iso(clock() + timedelta(days=20)), "reason": "x"})
        assert r.status_code == 403, r.text
        r = api.post(who_, f"{REGIONS}/{rid}/end", {"reason": "x"})
        assert r.status_code == 403, r.text
    # Bad input: 422 saying what is wrong.
    bad = [
        ({"ends_at": iso(clock() - timedelta(days=2))}, "must end after it starts"),
        ({"starts_at": iso(clock() - timedelta(days=9)), "ends_at": iso(clock() - timedelta(
            days=2))}, "already over"),
        ({"ends_at": iso(clock() + timedelta(days=120))}, "at most 90 days"),
        ({"region_codes": ["ATLANTIS"]}, "unknown ATLANTIS"),
        ({"region_codes": []}, "at least one"),
        ({"extension_days": 45}, "at most 30 days (FM-5)"),
        ({"extension_days": 0}, "at least 1"),
        ({"reason": "  "}, "reason is required"),
        ({"starts_at": "2026-11-01T00:00:00"}, "time zone"),
    ]
    for over, message in bad:
        r = api.post("staff", REGIONS, region_body(clock, **over))
        assert r.status_code == 422 and message in r.json()["message"], (over, r.text)
    assert len(api.get("staff", REGIONS).json()) == 1

    # Renewal (FM-1: the platform decides): later end only, bounded.
    r = api.post("staff", f"{REGIONS}/{rid}/renewals",
                 {"ends_at": iso(clock() + timedelta(days=10)), "reason": "still flooded"})
    assert r.status_code == 422 and "later" in r.json()["message"], r.text
    r = api.post("staff", f"{REGIONS}/{rid}/renewals",
                 {"ends_at": iso(clock() + timedelta(days=150)), "reason": "still flooded"})
    assert r.status_code == 422 and "a renewal is at most 90 days" in r.json()["message"]
    new_end = clock() + timedelta(days=28)
    r = api.post("staff", f"{REGIONS}/{rid}/renewals",
                 {"ends_at": iso(new_end), "reason": "Roads still closed"})
    assert r.status_code == 200, r.text
    assert (r.json()["renewals"], r.json()["ends_at"]) == (1, iso(new_end))
    assert [h["action"] for h in r.json()["history"]] == ["declare", "renew"]
    # Ending early, then neither renewing nor ending again (409 region_ended).
    clock.advance(days=3)
    r = api.post("staff", f"{REGIONS}/{rid}/end", {"reason": "Ports reopened"})
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "ended" and r.json()["ends_at"] == iso(clock())
    assert r.json()["ended_early_at"] == iso(clock())
    r = api.post("staff", f"{REGIONS}/{rid}/renewals",
                 {"ends_at": iso(clock() + timedelta(days=5)), "reason": "again"})
    assert r.status_code == 409 and r.json()["code"] == "region_ended", r.text
    assert "declare a new region instead of renewing it (FM-1)" in r.json()["message"]
    r = api.post("staff", f"{REGIONS}/{rid}/end", {"reason": "again"})
    assert r.status_code == 409 and r.json()["code"] == "region_ended", r.text
    r = api.post("staff", f"{REGIONS}/999999/end", {"reason": "x"})
    assert r.status_code == 404, r.text
    assert audit_actions(api) == [
        ("adjusted_region.declare", str(rid)),
        ("adjusted_region.renew", str(rid)),
        ("adjusted_region.end", str(rid)),
    ]

    # Everyone signed in reads them (public notices); filters by state and code.
    later = declare(api, clock, name="Port strike", region_codes=["us"],
                    starts_at=iso(clock() + timedelta(days=2)))
    assert later["state"] == "scheduled" and later["region_codes"] == ["US"]
    for who_ in ("buyer2", "agent_b", "owner_a"):
        listed = api.get(who_, REGIONS).json()
        assert [x["id"] for x in listed] == [later["id"], rid], who_
        one = api.get(who_, f"{REGIONS}/{rid}").json()
        assert one["reason"] == "Federal emergency declaration FEMA-4999", who_
        assert one["history"][-1]["reason"] == "Ports reopened", who_
    assert [x["id"] for x in api.get("buyer1", REGIONS, params={"state": "ended"}).json()] == [
        rid
    ]
    scheduled = api.get("buyer1", REGIONS, params={"state": "scheduled", "code": "us"}).json()
    assert [x["id"] for x in scheduled] == [later["id"]]
    assert api.get("buyer1", REGIONS, params={"code": "CN"}).json() == []
    assert api.get("buyer1", REGIONS, params={"state": "active"}).json() == []
    assert api.get("buyer1", f"{REGIONS}/999999").status_code == 404


def test_region_extends_fulfilment_and_replaces_applications(api: Api, clock: FakeClock) -> None:
    order = api.world.orders["a1"]
    path = f"{API}/orders/{order}/fulfilment"
    base = api.get("owner_a", path).json()
    # Monday 07:00 in Los Angeles + 2 business days (CW-23).
    assert base["base_ship_by"] == base["ship_by"] == "2026-11-04T15:00:00Z"
    assert (base["extension_days"], base["extended_by"]) == (0, None)
    # Who may see it: the order's buyer, the shop's team, staff; others as if it did not exist.
    missing = api.get("owner_b", f"{API}/orders/999999/fulfilment")
    assert missing.status_code == 404
    for who in ("owner_b", "agent_b", "buyer2"):
        r = api.get(who, path)
        assert (r.status_code, r.json()) == (404, missing.json()), who
    for who in ("buyer1", "agent_a", "staff"):
        assert api.get(who, path).status_code == 200, who

    # A force-majeure application is possible before the region is declared …
    ticket = open_ticket(api, "owner_a", "force_majeure")
    region = declare(api, clock, region_codes=["US"], extension_days=7)
    sla = api.get("buyer1", path).json()
    assert sla["ship_by"] == "2026-11-11T15:00:00Z" and sla["extension_days"] == 7
    assert sla["extended_by"] == {"kind": "region", "id": region["id"], "name": region["name"]}
    assert sla["overdue"] is False and sla["shipped_late"] is None
    # … but a shop inside an active region does not apply: its SLA is already extended (FM-1).
    r = api.post("owner_a", f"{API}/force-majeure", fm_body(api, clock, ticket))
    assert r.status_code == 422, r.text
    assert f"adjusted region {region['id']}: its SLA is already extended" in r.json()["message"]
    # Once ended early, orders due afterwards get no extension, and the shop may apply.
    r = api.post("staff", f"{REGIONS}/{region['id']}/end", {"reason": "over"})
    assert r.status_code == 200
    clock.advance(days=1)
    api._tokens.clear()
    later = new_order(api, clock)
    sla = api.get("buyer1", f"{API}/orders/{later}/fulfilment").json()
    assert sla["extension_days"] == 0 and sla["extended_by"] is None
    r = api.post("owner_a", f"{API}/force-majeure", fm_body(api, clock, ticket))
    assert r.status_code == 201, r.text
    # The order placed inside the period keeps its extension; it is overdue after it only.
    clock.advance(days=10)
    api._tokens.clear()
    assert api.get("buyer1", path).json()["overdue"] is True


def new_order(api: Api, clock: FakeClock, **cols: Any) -> int:
    w = api.world
    with api.client.app.state.sessions() as db, db.begin():  # type: ignore[attr-defined]
        o = Order(shop_id=w.shops["a"], buyer_id=w.users["buyer1"], product_id=w.products["a"],
                  quantity=1, total_cents=1200, status=cols.pop("status", "paid"),
                  placed_at=cols.pop("placed_at", clock()), terms_snapshot={"return_days": 30},
                  **cols)
        db.add(o)
        db.flush()
        return int(o.id)


def test_pdf_proof_and_evidence_chat_stays_image_only(api: Api, clock: FakeClock) -> None:
    notice = scanned_notice_pdf(2)
    r = upload_file(api, "owner_a", notice)
    assert r.status_code == 201, r.text
    assert (r.json()["content_type"], r.json()["pages"]) == ("application/pdf", 2)
    pdf = r.json()["id"]
    refusals = [
        (blank_pdf(password="secret"), "encrypted_pdf", "encrypted or password-protected"),
        (notice[: len(notice) // 2], "broken_pdf", "damaged and cannot be read"),
        (b"%PDF-1.7\n" + b"garbage " * 50, "broken_pdf", "damaged"),
        (blank_pdf(51), "too_many_pages", "has 51 pages; at most 50"),
        (b"PK\x03\x04 a zip file", "unsupported_type", "only PDF documents and images"),
    ]
    for data, code, message in refusals:
        r = upload_file(api, "owner_a", data)
        assert r.status_code == 422 and r.json()["code"] == code, (code, r.text)
        assert message in r.json()["message"], r.text
    # Chat attachments stay images.
    r = api.client.post(f"{API}/attachments", headers=api.as_("buyer1"),
                        files={"file": ("n.pdf", notice, "application/pdf")})
    assert r.status_code == 422 and r.json()["code"] == "unsupported_type", r.text

    # A PDF government notice is official proof (FM-4) …
    ticket = open_ticket(api, "owner_a", "force_majeure")
    body = fm_body(api, clock, ticket)
    body["proofs"] = [{"attachment": pdf, "declared_kind": "government_notice",
                       "file_name": "county-emergency-order.pdf"}]
    # … but not when declared a screenshot or named like one, whatever the file type.
    for kind, name, reason in (
        ("screenshot", "order.pdf", "screenshots are not accepted as proof (FM-4)"),
        ("government_notice", "Screenshot 2026-11-01.pdf", "looks like a screenshot"),
    ):
        bad = dict(body, proofs=[{"attachment": pdf, "declared_kind": kind, "file_name": name}])
        r = api.post("owner_a", f"{API}/force-majeure", bad)
        assert r.status_code == 422 and reason in r.json()["message"], r.text
    r = api.post("owner_a", f"{API}/force-majeure", body)
    assert r.status_code == 201, r.text
    proof = r.json()["data"]["proofs"][0]["attachment"]
    assert (proof["media_type"], proof["file_name"]) == (
        "application/pdf", "county-emergency-order.pdf")
    # Someone else's upload is not proof of this shop.
    other = upload_file(api, "owner_b", notice).json()["id"]
    bad = dict(body, proofs=[{"attachment": other, "declared_kind": "government_notice"}])
    r = api.post("owner_a", f"{API}/force-majeure", bad)
    assert r.status_code == 422 and "not one of your uploads" in r.json()["message"]

    # Dispute evidence as PDF, downloaded (not rendered) by the parties only.
    dispute = escalated_dispute(api, clock)
    path = f"{API}/cases/{dispute}/attachments"
    r = api.client.post(path, headers=api.as_("agent_a"), data={"evidence_id": "invoice"},
                        files={"file": ("invoice.pdf", blank_pdf(1))})
    assert r.status_code == 201, r.text
    att = r.json()["attachment"]
    assert r.json()["data"]["evidence"][-1]["attachment"]["media_type"] == "application/pdf"
    got = api.get("buyer1", f"{path}/{att}")
    assert got.status_code == 200 and got.content.startswith(b"%PDF-")
    assert got.headers["content-disposition"].startswith("attachment")
    assert api.get("buyer2", f"{path}/{att}").status_code == 404
    r = api.client.post(path, headers=api.as_("buyer1"), data={"evidence_id": "locked"},
                        files={"file": ("x.pdf", blank_pdf(1, password="pw"))})
    assert r.status_code == 422 and r.json()["code"] == "encrypted_pdf", r.text


def test_after_sales_limits_count_from_the_recorded_delivery(api: Api, clock: FakeClock) -> None:
    now = clock()

    def request(order: int, kind: str) -> Any:
        return api.post("buyer1", f"{API}/aftersales",
                        {"order": order, "kind": kind, "reason": "It broke."})

    # Placed 40 days ago, delivered 5 days ago: the 30-day return window runs from delivery.
    late_parcel = new_order(api, clock, status="delivered", placed_at=now - timedelta(days=40),
                            shipped_at=now - timedelta(days=30),
                            delivered_at=now - timedelta(days=5))
    assert request(late_parcel, "return_and_refund").status_code == 201
    # Delivered 31 days ago: the window (the order's 30 days) is over.
    old = new_order(api, clock, status="delivered", placed_at=now - timedelta(days=35),
                    shipped_at=now - timedelta(days=33), delivered_at=now - timedelta(days=31))
    r = request(old, "return_and_refund")
    assert r.status_code == 422 and "window of 30 days after delivery ended" in r.json()["message"]
    # Shipped, not yet delivered: no return yet, no cancellation any more; refund-only is open.
    moving = new_order(api, clock, status="shipped", shipped_at=now - timedelta(days=1))
    r = request(moving, "return_and_refund")
    assert r.status_code == 422 and "needs the order delivered first" in r.json()["message"]
    r = request(moving, "cancellation")
    assert r.status_code == 422 and "the order has shipped" in r.json()["message"]
    # Not shipped: cancellation is possible (AS-1).
    assert request(new_order(api, clock), "cancellation").status_code == 201
    sla = api.get("buyer1", f"{API}/orders/{moving}/fulfilment").json()
    assert sla["shipped_at"] == iso(now - timedelta(days=1)) and sla["shipped_late"] is False
