"""The chatbot on the send path (KB-7), hand-over (EV-2, EV-4), out-of-hours notice (CHAT-4),
KB-6 inbox marking, assisted reply (KB-5) and how the metrics engine sees automatic answers
(EV-3, EV-4, MET-2)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from tests.support.world import FakeClock
from tests.web.conftest import Api

from shopdesk.jobs.evaluations import shop_log
from shopdesk.policy.evaluate_reference import evaluate_shop
from shopdesk.policy.profiles import load_profile
from shopdesk.store.models import ConversationEvent, Shop

API = "/api/v1"


def chatbot_on(api: Api, shop: str = "a") -> None:
    r = api.put(f"owner_{shop}", f"{API}/shops/{api.world.shops[shop]}/chatbot", {"enabled": True})
    assert r.status_code == 200, r.text


def messages(api: Api, conv: int) -> list[dict[str, Any]]:
    r = api.get("agent_a" if conv else "buyer1", f"{API}/conversations/{conv}/messages")
    return list(r.json())


def conv_json(api: Api, conv: int, who: str = "agent_a") -> dict[str, Any]:
    return dict(api.get(who, f"{API}/conversations/{conv}").json())


def handoffs(api: Api, conv: int) -> list[ConversationEvent]:
    with api.client.app.state.sessions() as db:  # type: ignore[attr-defined]
        return list(
            db.scalars(
                select(ConversationEvent).where(
                    ConversationEvent.conversation_id == conv, ConversationEvent.type == "handoff"
                )
            )
        )


def test_confident_answer_is_a_bot_message(api: Api) -> None:
    chatbot_on(api)
    conv = api.open_conversation("buyer1", "a")
    r = api.send("buyer1", conv, "Do you have this in stock?")
    assert r.status_code == 201, r.text
    msgs = messages(api, conv)
    assert [m["sender"] for m in msgs] == ["buyer", "bot"]
    assert msgs[1]["payload"]["kb"]["entry"] == "en.pre_sale.in_stock"
    assert handoffs(api, conv) == []
    c = conv_json(api, conv)
    assert c["auto_only"] is True and c["handed_over"] is False and c["waiting_since"]
    entry = api.get(
        "owner_a", f"{API}/shops/{api.world.shops['a']}/kb/entries/en.pre_sale.in_stock"
    ).json()
    assert entry["stats"]["auto_answered"] == 1
    # The buyer rates the chat: the entry that answered gets the rating.
    assert api.post("buyer1", f"{API}/conversations/{conv}/rating", {"stars": 5}).status_code == 201
    entry = api.get(
        "owner_a", f"{API}/shops/{api.world.shops['a']}/kb/entries/en.pre_sale.in_stock"
    ).json()
    assert (entry["stats"]["rated"], entry["stats"]["rating_sum"]) == (1, 5)


def test_chatbot_off_says_nothing(api: Api) -> None:
    conv = api.open_conversation("buyer1", "a")
    api.send("buyer1", conv, "Do you have this in stock?")
    assert [m["sender"] for m in messages(api, conv)] == ["buyer"]
    assert handoffs(api, conv) == []


def test_abstention_hands_over_and_stays_quiet_until_a_human_replies(
    api: Api, clock: FakeClock
) -> None:
    chatbot_on(api)
    conv = api.open_conversation("buyer1", "a")
    # First a confident answer, then a message the KB cannot answer: the matcher abstains.
    api.send("buyer1", conv, "Do you have this in stock?")
    clock.advance(minutes=2)
    api.send("buyer1", conv, "my cat likes the colour purple and jazz")
    assert [m["sender"] for m in messages(api, conv)] == ["buyer", "bot", "buyer"]
    events = handoffs(api, conv)
    assert len(events) == 1 and events[0].data["reason"] == "low_confidence"
    c = conv_json(api, conv)
    assert c["handed_over"] is True and c["auto_only"] is False
    waiting = api.get("agent_a", f"{API}/conversations", params={"queue": "waiting"}).json()
    assert conv in [x["id"] for x in waiting]
    stats = api.get(
        "owner_a", f"{API}/shops/{api.world.shops['a']}/kb/entries/en.pre_sale.in_stock"
    ).json()["stats"]
    assert stats["handed_over"] == 1  # the earlier automatic answer did not settle it
    # EV-2: after the handoff the bot stays quiet, even for a question it knows.
    clock.advance(minutes=1)
    api.send("buyer1", conv, "Can I return this item?")
    assert [m["sender"] for m in messages(api, conv)][-1] == "buyer"
    assert len(handoffs(api, conv)) == 1
    # A human reply ends the hand-over; the bot answers again afterwards.
    clock.advance(minutes=1)
    assert api.send("agent_a", conv, "Yes, within 30 days.").status_code == 201
    assert conv_json(api, conv)["handed_over"] is False
    clock.advance(minutes=1)
    api.send("buyer1", conv, "Can I return this item?")
    assert messages(api, conv)[-1]["sender"] == "bot"


def test_asking_for_a_person_hands_over(api: Api) -> None:
    chatbot_on(api)
    conv = api.open_conversation("buyer1", "a")
    api.send("buyer1", conv, "I want to talk to a human please")
    assert [m["sender"] for m in messages(api, conv)] == ["buyer"]
    events = handoffs(api, conv)
    assert len(events) == 1 and events[0].data["reason"] == "asked_for_person"
    assert conv_json(api, conv)["handed_over"] is True


def test_chinese_question_in_a_zh_shop(api: Api) -> None:
    with api.client.app.state.sessions() as db, db.begin():  # type: ignore[attr-defined]
        db.execute(
            update(Shop).where(Shop.id == api.world.shops["b"]).values(listing_language="zh")
        )
    chatbot_on(api, "b")
    conv = api.open_conversation("buyer2", "b")
    api.send("buyer2", conv, "我想退貨")  # traditional characters, folded to simplified
    msgs = api.get("agent_b", f"{API}/conversations/{conv}/messages").json()
    assert [m["sender"] for m in msgs] == ["buyer", "bot"]
    assert msgs[1]["payload"]["kb"]["entry"] == "zh.after_sale.return"


def test_out_of_hours_notice_says_when_the_shop_answers(api: Api) -> None:
    shop = api.world.shops["a"]
    # The clock is Monday 2026-11-02 15:00 UTC = 07:00 in Los Angeles; the shop opens at 09:00.
    r = api.put(
        "owner_a",
        f"{API}/shops/{shop}/hours",
        {"windows": [{"weekday": 0, "opens": "09:00", "closes": "17:00"}]},
    )
    assert r.status_code == 200 and r.json()["open_now"] is False
    chatbot_on(api)
    conv = api.open_conversation("buyer1", "a")
    api.send("buyer1", conv, "my cat likes the colour purple and jazz")
    msgs = messages(api, conv)
    assert [m["sender"] for m in msgs] == ["buyer", "bot"]
    assert "Monday 02 November, 09:00" in msgs[1]["text"]
    assert msgs[1]["payload"]["kb"]["via"] == "out_of_hours"
    assert len(handoffs(api, conv)) == 1
    assert conv_json(api, conv)["auto_only"] is False  # handed over: a person must answer
    # A confident answer is still sent outside hours.
    conv2 = api.open_conversation("buyer2", "a")
    api.send("buyer2", conv2, "Do you have this in stock?")
    assert messages(api, conv2)[-1]["payload"]["kb"]["entry"] == "en.pre_sale.in_stock"


def test_suggestions_and_feedback(api: Api) -> None:
    conv = api.open_conversation("buyer1", "a")
    url = f"{API}/conversations/{conv}/suggestions"
    empty = api.get("agent_a", url)
    assert empty.status_code == 200 and empty.json() == {"message": None, "suggestions": []}
    api.send("buyer1", conv, "How can I track my package?")
    r = api.get("agent_a", url)
    assert r.status_code == 200, r.text
    got = r.json()["suggestions"]
    assert len(got) == 3 and got[0]["entry"] == "en.logistics.tracking"
    assert got[0]["score"] >= got[1]["score"]
    assert api.get("buyer1", url).status_code == 403
    assert api.get("agent_b", url).status_code == 404
    shown = [s["entry"] for s in got]
    r = api.post("agent_a", f"{url}/{shown[1]}/chosen", {"shown": shown})
    assert r.status_code == 200, r.text
    assert r.json()["stats"]["tapped"] == 1 and r.json()["stats"]["shown"] == 1
    base = f"{API}/shops/{api.world.shops['a']}/kb/entries"
    first = api.get("agent_a", f"{base}/{shown[0]}").json()["stats"]
    assert (first["shown"], first["tapped"]) == (1, 0)
    assert api.post("agent_a", f"{url}/nope/chosen", {}).status_code == 404
    assert api.post("agent_b", f"{url}/{shown[1]}/chosen", {}).status_code == 404


def _statuses(api: Api, shop: str, at: Any) -> dict[str, str]:
    with api.client.app.state.sessions() as db:  # type: ignore[attr-defined]
        s = db.get(Shop, api.world.shops[shop])
        result = evaluate_shop(shop_log(db, s, at), load_profile("us"), at, explain=True)
    return {d.conversation: d.status for d in result.sessions_detail}


def test_metrics_treat_automatic_sessions_as_bot_only(api: Api, clock: FakeClock) -> None:
    """EV-3/EV-4: card and chatbot answers are automatic, never replies; a session they alone
    handled is bot-only (MET-2); a handed-over one needs a human reply."""
    chatbot_on(api)
    card = api.open_conversation("buyer1", "a")
    r = api.post("buyer1", f"{API}/conversations/{card}/cards/en.after_sale.return/tap", {})
    assert r.status_code == 201, r.text
    bot = api.open_conversation("buyer2", "a")
    api.send("buyer2", bot, "Do you have this in stock?")
    conv_b = api.open_conversation("buyer1", "b")
    chatbot_on(api, "b")
    api.send("buyer1", conv_b, "I want to talk to a human please")
    clock.advance(days=7)  # the us window is the 7 days before the next Monday
    at = clock() + timedelta(hours=20)
    statuses = _statuses(api, "a", at)
    assert statuses == {str(card): "bot_only", str(bot): "bot_only"}
    assert _statuses(api, "b", at) == {str(conv_b): "unanswered"}


def test_automatic_messages_are_pushed_on_the_websocket(api: Api) -> None:
    from tests.web.test_ws import connect, hello, next_frames

    chatbot_on(api)
    conv = api.open_conversation("buyer1", "a")
    with connect(api, "buyer1") as buyer, connect(api, "agent_a") as agent:
        hello(buyer, api, "buyer1")
        hello(agent, api, "agent_a")
        api.send("buyer1", conv, "Do you have this in stock?")
        r = api.post("buyer1", f"{API}/conversations/{conv}/cards/en.after_sale.return/tap", {})
        assert r.status_code == 201, r.text
        for ws in (buyer, agent):
            frames = next_frames(ws)
            assert [(f["message"]["seq"], f["message"]["sender"]) for f in frames] == [
                (1, "buyer"),
                (2, "bot"),
                (3, "buyer"),
                (4, "bot"),
            ]
