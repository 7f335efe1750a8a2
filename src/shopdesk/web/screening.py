"""Screening on the chat's send path (SCR-D1): seller messages before they are stored,
buyer messages for abuse (SCR-8, SCR-12)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shopdesk.chat.service import Draft, Screener, Screening
from shopdesk.screening import ConversationScreener, load_policy, screen_message
from shopdesk.store.access import Actor
from shopdesk.store.models import Attachment, Conversation, Message, Region, Shop
from shopdesk.store.prepared import held_or_get

CONTEXT_MESSAGES = 2  # earlier messages replayed so split contact details are seen


def _region(session: Session, conv: Conversation) -> str:
    shop = held_or_get(session, Shop, conv.shop_id)
    region = held_or_get(session, Region, shop.region_id) if shop else None
    return region.country if region else "US"


def make_screener(policy_name: str = "us", attachments_dir: Path | None = None) -> Screener:
    policy = load_policy(policy_name)

    def screen(session: Session, draft: Draft, actor: Actor, conv: Conversation
               ) -> Screening | None:
        if actor.is_staff:
            return None  # platform messages are the platform's own
        sender = "buyer" if actor.is_buyer else "seller"
        paths: tuple[str, ...] = ()
        if draft.attachment_id is not None and attachments_dir is not None:
            att = session.get(Attachment, draft.attachment_id)
            if att is not None:
                paths = (str(attachments_dir / att.path),)
        if not draft.text and not paths:
            return None
        region = _region(session, conv)
        if sender == "buyer":
            result = screen_message(draft.text, sender="buyer", policy=policy, region=region)
        else:
            # Replay the latest messages so a phone number typed over several messages is
            # caught on the message that completes it (CONTRACTS §3).
            cs = ConversationScreener(policy=policy, region=region)
            earlier = list(session.scalars(
                select(Message).where(Message.conversation_id == conv.id)
                .order_by(Message.seq.desc()).limit(CONTEXT_MESSAGES)))
            for m in reversed(earlier):
                cs.screen(m.text, sender="buyer" if m.sender == "buyer" else "seller")
            result = cs.screen(draft.text, sender="seller", attachments=paths)
        return Screening(result.verdict, [f.to_json() for f in result.findings])

    return screen


def check_text(policy_name: str = "us") -> Any:
    """A draft check for the composer: the same verdict the send path would give."""
    policy = load_policy(policy_name)

    def check(text: str, sender: str, region: str = "US") -> dict[str, Any]:
        result = screen_message(text, sender=sender, policy=policy, region=region)
        return {"verdict": result.verdict, "findings": [f.to_json() for f in result.findings]}

    return check
