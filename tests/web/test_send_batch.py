"""A batch of sends screens its text drafts together before storing any (`_Prescreened`),
except where a draft's screening depends on a message stored earlier in the same batch."""

from __future__ import annotations

from typing import Any

from shopdesk.chat.service import Draft, Screening
from shopdesk.store.access import Actor
from shopdesk.store.models import Conversation
from shopdesk.web.api.sending import _Prescreened


def test_text_drafts_are_screened_up_front_and_the_rest_when_stored() -> None:
    calls: list[str] = []

    def screener(_db: Any, draft: Draft, _actor: Any, _conv: Any) -> Screening:
        calls.append(draft.client_id)
        return Screening("flag" if "555" in draft.text else "allow")

    seller = Actor(1, "agent", "seller", {10: "agent"})
    buyer = Actor(2, "buyer", "buyer")
    a, b, c = (Conversation(id=n, shop_id=10, buyer_id=2) for n in (1, 2, 3))
    first = Draft("d1", text="call me on 555")
    second = Draft("d2", text="0100 please")  # same conversation: after d1 is stored
    other = Draft("d3", text="hello")
    image = Draft("d4", kind="image", attachment_id=7)  # attachments: when stored
    screened = _Prescreened(screener, None, [  # type: ignore[arg-type]
        (first, seller, a), (second, seller, a), (other, buyer, b), (image, buyer, c),
    ])
    assert calls == ["d1", "d3"]
    assert screened(None, first, seller, a) == Screening("flag")  # type: ignore[arg-type]
    assert screened(None, second, seller, a) == Screening("allow")  # type: ignore[arg-type]
    assert screened(None, other, buyer, b) == Screening("allow")  # type: ignore[arg-type]
    assert screened(None, image, buyer, c) == Screening("allow")  # type: ignore[arg-type]
    assert calls == ["d1", "d3", "d2", "d4"]  # each screened once
    assert _Prescreened(None, None, [(first, seller, a)])(  # type: ignore[arg-type]
        None, first, seller, a) is None  # type: ignore[arg-type]
