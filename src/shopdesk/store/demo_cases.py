"""Demo casework: cases in every state of every process (issue 6), for `shopdesk demo`.

`seed_cases(session, now)` looks the marketplace up instead of assuming ids: the first three
shops by id with their owners, admins and agents, the buyers `buyer1`…`buyer30` (or any
buyers), and the first staff user. It creates fresh orders for the cases (so the after-sales
time limits hold at `now`) and drives every case through the real engine and the casework
repository, so timelines, timers and data are what the server itself would have written.
Non-final cases are opened shortly before `now`, so their deadlines lie ahead; the states
reached by a deadline (a lapsed request, an expired extension) are played a few days back and
their timers fired. The seeding posts no chat notifications (the demo's chat history is
written separately).

Force majeure also gets platform-declared adjusted regions (FM-1): one for the marketplace of
the third shop, declared minutes ago and renewed once, and one that ended early weeks ago.
The applications' official proof is a scanned government notice as a real PDF, checked like
an upload and stored under ``attachments_dir`` when one is given.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont
from sqlalchemy import select
from sqlalchemy.orm import Session

from shopdesk.chat.attachments import check_evidence, store
from shopdesk.store import adjusted_regions
from shopdesk.store import casework_repo as repo
from shopdesk.store.access import Actor
from shopdesk.store.accounts import actor_for
from shopdesk.store.models import (
    Attachment,
    Membership,
    Order,
    Product,
    Region,
    Shop,
    Timer,
    User,
)
from shopdesk.store.models_casework import Case


class DemoError(Exception):
    pass


@dataclass
class _Shop:
    id: int
    owner: Actor
    admin: Actor
    agent: Actor


NOTICE_LINES = (
    "MUNICIPAL EMERGENCY MANAGEMENT OFFICE",
    "Public notice No. 2026-114",
    "",
    "Owing to flooding, the warehouse district (zones 3 to 7)",
    "is closed to all freight traffic from the date of this",
    "notice until further notice. Businesses in the district",
    "may not dispatch or receive goods during the closure.",
    "",
    "Issued by the Office of Emergency Management.",
)


def notice_pdf() -> bytes:
    """A scanned official notice: a page image in a PDF, as scanners and phones produce."""
    page = Image.new("L", (850, 1100), 255)
    draw = ImageDraw.Draw(page)
    font = ImageFont.load_default(size=22)
    y = 90
    for line in NOTICE_LINES:
        draw.text((80, y), line, fill=0, font=font)
        y += 40
    draw.rectangle((60, 60, 790, y + 30), outline=0, width=3)
    buf = io.BytesIO()
    page.save(buf, "PDF", resolution=100.0)
    return buf.getvalue()


class _Seeder:
    def __init__(self, session: Session, now: datetime, attachments_dir: Path | None) -> None:
        self.s = session
        self.now = now
        self.attachments_dir = attachments_dir
        self._notice = notice_pdf()
        # Checked like any upload, so the demo shows what the server accepts.
        self._notice_checked = check_evidence(self._notice, 5 * 1024 * 1024, 25_000_000, 50)
        self._notice_path = (
            str(store(attachments_dir, self._notice_checked, self._notice))
            if attachments_dir is not None
            else ""
        )
        shops = list(session.scalars(select(Shop).order_by(Shop.id).limit(3)))
        if not shops:
            raise DemoError("the demo needs shops")
        self.shops = [self._team(shop) for shop in shops]
        names = [f"buyer{i}" for i in range(1, 31)]
        buyers = {
            u.username: u
            for u in session.scalars(
                select(User).where(User.username.in_(names), User.kind == "buyer")
            )
        }
        ordered = [buyers[n] for n in names if n in buyers] or list(
            session.scalars(select(User).where(User.kind == "buyer").order_by(User.id).limit(30))
        )
        staff = session.scalars(select(User).where(User.kind == "staff").order_by(User.id)).first()
        if not ordered or staff is None:
            raise DemoError("the demo needs buyers and a staff user")
        self.buyers = [actor_for(session, u) for u in ordered]
        self.staff = actor_for(session, staff)
        self.n = 0

    def _team(self, shop: Shop) -> _Shop:
        members = list(
            self.s.scalars(
                select(Membership).where(Membership.shop_id == shop.id).order_by(Membership.id)
            )
        )

        def first(role: str) -> Actor:
            m = next((m for m in members if m.role == role), None)
            m = m or next((m for m in members if m.role in ("owner", "admin")), None)
            if m is None:
                raise DemoError(f"shop {shop.id} has no owner or admin")
            user = self.s.get(User, m.user_id)
            assert user is not None
            return actor_for(self.s, user)

        return _Shop(shop.id, first("owner"), first("admin"), first("agent"))

    def buyer(self) -> Actor:
        self.n += 1
        return self.buyers[self.n % len(self.buyers)]

    def order(self, buyer: Actor, shop: _Shop, at: datetime, shipped: bool = True) -> int:
        product = self.s.scalars(
            select(Product).where(Product.shop_id == shop.id).order_by(Product.id)
        ).first()
        if product is None:
            raise DemoError(f"shop {shop.id} has no products")
        o = Order(
            shop_id=shop.id,
            buyer_id=buyer.user_id,
            product_id=product.id,
            quantity=1,
            total_cents=product.price_cents,
            status="shipped" if shipped else "paid",
            placed_at=at,
            terms_snapshot=dict(product.terms or {}),
            shipped_at=at + timedelta(hours=6) if shipped else None,
        )
        self.s.add(o)
        self.s.flush()
        return int(o.id)

    def act(
        self, actor: Actor, case: int, steps: Sequence[tuple[str, dict[str, Any]]], at: datetime
    ) -> None:
        for action, params in steps:
            repo.act(self.s, actor, case, action, params, at)

    def fire_until(self, case: int, at: datetime) -> None:
        """Fire this case's due timers in due order, as the runner would have."""
        while True:
            timer = self.s.scalars(
                select(Timer)
                .where(
                    Timer.key.like(f"case:{case}:%"),
                    Timer.fired_at.is_(None),
                    Timer.cancelled_at.is_(None),
                    Timer.due_at <= at,
                )
                .order_by(Timer.due_at, Timer.id)
            ).first()
            if timer is None:
                return
            repo.fire_deadline(self.s, timer, timer.due_at)
            timer.fired_at, timer.fired_by, timer.attempts = timer.due_at, "demo", 1

    # ------------------------------------------------------------ processes

    def aftersales(self, shop: _Shop, at: datetime, kind: str = "refund_only") -> int:
        b = self.buyer()
        out = repo.open_aftersales(
            self.s,
            b,
            order_id=self.order(b, shop, at - timedelta(days=1)),
            kind=kind,
            reason="The item arrived damaged.",
            now=at,
        )
        return out.row.id

    def all_aftersales(self, shop: _Shop, at: datetime, past: datetime) -> None:
        proposal = {
            "proposal": {
                "kind": "refund_only",
                "text": "A partial refund instead",
                "amount_minor": 100,
            }
        }
        self.aftersales(shop, at)  # awaiting_seller
        self.act(shop.agent, self.aftersales(shop, at), [("propose_alternative", proposal)], at)
        self.act(shop.agent, self.aftersales(shop, at), [("reject", {"reason": "Used item"})], at)
        self.act(shop.admin, self.aftersales(shop, at), [("accept", {})], at)
        c = self.aftersales(shop, at)
        self.act(shop.agent, c, [("accept", {})], at)
        self.act(shop.owner, c, [("complete", {"resolution": "Refunded in full"})], at)
        c = self.aftersales(shop, at)
        self.act(shop.agent, c, [("reject", {"reason": "Outside the terms"})], at)
        buyer = self._buyer_of(c)
        self.act(buyer, c, [("escalate", {"reason": "The terms allow it"})], at)  # + dispute
        self.act(self._buyer_of(c := self.aftersales(shop, at)), c, [("withdraw", {})], at)
        c = self.aftersales(shop, past)  # closed: the buyer never answered (CW-3)
        self.act(shop.agent, c, [("propose_alternative", proposal)], past)
        self.fire_until(c, self.now)

    def _buyer_of(self, case: int) -> Actor:
        row = self.s.get(Case, case)
        assert row is not None and row.buyer_id is not None
        user = self.s.get(User, row.buyer_id)
        assert user is not None
        return actor_for(self.s, user)

    def dispute(self, shop: _Shop, at: datetime) -> int:
        b = self.buyer()
        out = repo.open_dispute(
            self.s,
            b,
            now=at,
            claim="The shop never answered my request.",
            order_id=self.order(b, shop, at - timedelta(days=3)),
            kind="no_service",
        )
        return out.row.id

    def all_disputes(self, shop: _Shop, at: datetime) -> None:
        self.dispute(shop, at)  # under_review (DSP-3)
        decision = {
            "outcome": "refund_partial",
            "reason": "The photos show a small dent",
            "amount_minor": 100,
        }
        self.act(self.staff, self.dispute(shop, at), [("decide", decision)], at)
        c = self.dispute(shop, at)
        self.act(self.staff, c, [("decide", decision)], at)
        self.act(self._buyer_of(c), c, [("appeal", {"reason": "The dent is large"})], at)
        c = self.dispute(shop, at)
        self.act(self.staff, c, [("decide", {"outcome": "reject", "reason": "No proof"})], at)
        self.act(self._buyer_of(c), c, [("accept_decision", {})], at)
        c = self.dispute(shop, at)
        self.act(self._buyer_of(c), c, [("withdraw", {})], at)
        # collecting_evidence comes from the escalated after-sales request.

    def complaint(self, at: datetime) -> int:
        return repo.open_complaint(
            self.s,
            self.buyer(),
            now=at,
            subject="Delivery problem",
            text="My parcel is late and nobody answers.",
        ).row.id

    def all_complaints(self, at: datetime) -> None:
        triage = ("triage", {"category": "logistics", "nature": "simple", "urgency": "medium"})
        path: list[tuple[str, dict[str, Any]]] = [
            triage,
            ("acknowledge", {"text": "We are looking into it"}),
            ("assign", {"team": "logistics"}),
            ("propose_resolution", {"resolution": "Refund"}),
        ]
        self.complaint(at)  # received
        self.act(self.staff, self.complaint(at), path[:2], at)
        self.act(self.staff, self.complaint(at), path[:3], at)
        self.act(self.staff, self.complaint(at), path, at)
        for final in ("resolved", "closed", "followed_up"):
            c = self.complaint(at)
            self.act(self.staff, c, path, at)
            self.act(self._buyer_of(c), c, [("confirm", {"satisfaction": 4})], at)
            if final != "resolved":
                self.act(
                    self.staff,
                    c,
                    [
                        (
                            "close",
                            {
                                "cause": "carrier delay",
                                "handling": "refund",
                                "outcome": "buyer refunded",
                            },
                        )
                    ],
                    at,
                )
            if final == "followed_up":
                self.act(self.staff, c, [("record_follow_up", {"text": "All good"})], at)
        c = self.complaint(at)
        self.act(self._buyer_of(c), c, [("withdraw", {})], at)

    def ticket(self, actor: Actor, kind: str, at: datetime, shop: int | None = None) -> int:
        return repo.open_ticket(
            self.s,
            actor,
            now=at,
            kind=kind,
            subject="Need help",
            body="Please look at this.",
            shop_id=shop,
        ).row.id

    def all_tickets(self, shop: _Shop, at: datetime) -> None:
        self.ticket(self.buyer(), "help_centre", at)  # open
        self.act(self.staff, self.ticket(self.buyer(), "help_centre", at), [("take", {})], at)
        self.act(
            self.staff,
            self.ticket(shop.agent, "misconduct_report", at, shop.id),
            [("take", {}), ("ask_requester", {"text": "Which message?"})],
            at,
        )
        self.act(
            shop.agent,
            self.ticket(self.buyer(), "offline_shop", at, shop.id),
            [("take", {}), ("resolve", {"resolution": "Called the buyer back"})],
            at,
        )
        c = self.ticket(shop.agent, "misconduct_report", at, shop.id)
        self.act(shop.agent, c, [("withdraw", {})], at)

    def fm(self, shop: _Shop, at: datetime) -> int:
        ticket = self.ticket(shop.owner, "force_majeure", at, shop.id)
        checked = self._notice_checked
        att = Attachment(
            owner_id=shop.owner.user_id,
            content_type=checked.content_type,
            size=len(self._notice),
            width=checked.width,
            height=checked.height,
            sha256=checked.sha256,
            path=self._notice_path,
            created_at=at,
        )
        self.s.add(att)
        self.s.flush()
        b = self.buyer()
        order = self.order(b, shop, at - timedelta(days=1), shipped=False)
        return repo.submit_force_majeure(
            self.s,
            shop.owner,
            now=at,
            ticket_id=ticket,
            shipping_address="1 Demo Street",
            reason="Flooding closed the warehouse district",
            proofs=[
                {
                    "attachment": att.id,
                    "declared_kind": "government_notice",
                    "file_name": "city-flood-notice.pdf",
                    "issuer": "Office of Emergency Management",
                }
            ],
            affected_orders=[{"order": order, "ship_by": (at + timedelta(days=2)).isoformat()}],
            expected_recovery=(at + timedelta(days=6)).date().isoformat(),
        ).row.id

    def all_fm(self, at: datetime, past: datetime) -> None:
        s1, s2, s3 = (self.shops * 3)[:3]
        c = self.fm(s3, past)  # expired: approved for a day, long over
        self.act(self.staff, c, [("approve", {"days": 1})], past)
        self.fire_until(c, self.now)
        row = self.s.get(Case, c)
        if row is not None and row.parent_id is not None:  # its ticket auto-closed since
            self.fire_until(row.parent_id, self.now)
        self.act(self.staff, self.fm(s3, at), [("reject", {"reason": "Not in the area"})], at)
        self.act(s1.owner, self.fm(s1, at), [("withdraw", {})], at)
        self.fm(s1, at)  # submitted
        self.act(self.staff, self.fm(s2, at), [("approve", {"days": 3})], at)

    def regions(self) -> None:
        """FM-1: an active region (renewed once) around the third shop's marketplace, declared
        after that shop's latest application, and an earlier one that ended early."""
        shop = self.s.get(Shop, self.shops[-1].id)
        assert shop is not None
        market = self.s.get(Region, shop.region_id)
        assert market is not None
        declared = self.now - timedelta(minutes=20)
        active = adjusted_regions.declare(
            self.s,
            self.staff,
            name=f"Typhoon — ports of {market.name} closed",
            region_codes=[market.country],
            starts_at=declared,
            ends_at=self.now + timedelta(days=5),
            reason="Provincial emergency notice: container ports closed to outbound freight",
            now=declared,
        )
        adjusted_regions.renew(
            self.s,
            self.staff,
            active.id,
            ends_at=self.now + timedelta(days=12),
            reason="The ports authority extended the closure",
            now=self.now - timedelta(minutes=10),
        )
        first = self.s.get(Shop, self.shops[0].id)
        assert first is not None
        home = self.s.get(Region, first.region_id)
        assert home is not None
        past = self.now - timedelta(days=21)
        old = adjusted_regions.declare(
            self.s,
            self.staff,
            name="Winter storm — parcel hubs closed",
            region_codes=[home.code],
            starts_at=past,
            ends_at=past + timedelta(days=10),
            reason="State of emergency declared by the governor",
            extension_days=5,
            now=past,
        )
        adjusted_regions.end(
            self.s, self.staff, old.id, reason="Hubs reopened", now=past + timedelta(days=6)
        )


def seed_cases(
    session: Session, now: datetime, attachments_dir: Path | None = None
) -> dict[str, dict[str, int]]:
    """Create demo cases in every state of every process, and the force-majeure adjusted
    regions; returns counts by process and state."""
    seeder = _Seeder(session, now, attachments_dir)
    quiet = session.info.get("casework_quiet")
    session.info["casework_quiet"] = True
    try:
        at, past = now - timedelta(hours=1), now - timedelta(days=5)
        first = seeder.shops[0]
        seeder.all_aftersales(first, at, past)
        seeder.all_disputes(seeder.shops[-1], at)
        seeder.all_complaints(at)
        seeder.all_tickets(first, at)
        seeder.all_fm(at, past)
        seeder.regions()
    finally:
        if quiet is None:
            session.info.pop("casework_quiet", None)
        else:
            session.info["casework_quiet"] = quiet
    counts: dict[str, dict[str, int]] = {}
    for row in session.scalars(select(Case)):
        counts.setdefault(row.process, {}).setdefault(row.state, 0)
        counts[row.process][row.state] += 1
    return counts
