"""Named tests for every EV rule of SPEC §13 (reference evaluator)."""

from __future__ import annotations

from datetime import timedelta

from ev_helpers import (
    US,
    XB,
    ChatbotSwitch,
    Close,
    Exclusion,
    H,
    Handoff,
    M,
    Rating,
    Vacation,
    agent,
    bot,
    buyer,
    evaluate,
    lt,
    shop,
    statuses,
    t,
)

from shopdesk.policy.sessions import sessionise

AT = t("2026-11-23 12:00")  # Monday noon UTC: the `us` evaluation instant (EV-8)
S = timedelta(seconds=1)


# rule EV-1 -------------------------------------------------------------------------------
def test_ev1_window_is_read_in_shop_time_zone() -> None:
    # Sunday 22:00 in New York = Monday 03:00Z: before the shop's window (Mon 00:00 local).
    ev = evaluate([shop("America/New_York"), buyer(t("2026-11-16 03:00"))],
                  t("2026-11-23 18:00"))
    assert ev.sessions == 0
    assert statuses(ev) == ["outside_window"]  # still open at window start: shown, not counted
    ev = evaluate([shop("UTC"), buyer(t("2026-11-16 03:00"))], AT)
    assert ev.sessions == 1


# rule EV-2 -------------------------------------------------------------------------------
def _starts(events: list, profile=US) -> list:  # type: ignore[no-untyped-def,type-arg]
    return [s.start for s in sessionise("c1", events, profile)]


def test_ev2_buyer_silence_is_strict_after_six_hours() -> None:
    t0 = t("2026-11-17 10:00")
    same = [buyer(t0), agent(t0 + H), buyer(t0 + 7 * H)]
    assert _starts(same) == [t0]  # exactly 6 h after the reply: same session
    new = [buyer(t0), agent(t0 + H), buyer(t0 + 7 * H + S)]
    assert _starts(new) == [t0, t0 + 7 * H + S]


def test_ev2_seller_silence_closes_after_72_hours() -> None:
    t0 = t("2026-11-17 10:00")
    assert _starts([buyer(t0), buyer(t0 + 72 * H)]) == [t0]
    assert _starts([buyer(t0), buyer(t0 + 72 * H + S)]) == [t0, t0 + 72 * H + S]
    # a later buyer message does not restart the waiting-since clock
    assert _starts([buyer(t0), buyer(t0 + 50 * H), buyer(t0 + 73 * H)]) == [t0, t0 + 73 * H]


def test_ev2_bot_grace_closes_ten_minutes_after_automatic_reply() -> None:
    t0 = t("2026-11-17 10:00")
    assert _starts([buyer(t0), bot(t0 + M), buyer(t0 + 11 * M)]) == [t0]
    assert _starts([buyer(t0), bot(t0 + M), buyer(t0 + 11 * M + S)]) == [t0, t0 + 11 * M + S]


def test_ev2_handoff_makes_bot_messages_irrelevant_and_waits_for_human() -> None:
    t0 = t("2026-11-17 10:00")
    events = [buyer(t0), bot(t0 + M), Handoff("c1", t0 + 2 * M), bot(t0 + 3 * M),
              agent(t0 + 5 * H, text="Refund issued")]
    [s] = sessionise("c1", events, US)
    assert s.first_reply_at == t0 + 5 * H
    assert s.handoff and not s.bot_only


def test_ev2_explicit_close_ends_session_and_next_buyer_message_opens_new() -> None:
    t0 = t("2026-11-17 10:00")
    events = [buyer(t0), agent(t0 + M), Close("c1", t0 + 2 * M, "seller"), buyer(t0 + 3 * M)]
    sessions = sessionise("c1", events, US)
    assert [s.start for s in sessions] == [t0, t0 + 3 * M]
    assert sessions[0].end == t0 + 2 * M


def test_ev2_platform_messages_play_no_part() -> None:
    from shopdesk.policy.events import Message

    t0 = t("2026-11-17 10:00")
    events = [buyer(t0), Message("c1", "s1", t0 + M, "platform", text="Order shipped")]
    [s] = sessionise("c1", events, US)
    assert s.first_reply_at is None and s.auto_replies == 0


# rule EV-3 -------------------------------------------------------------------------------
def test_ev3_greeting_reply_does_not_answer_session() -> None:
    t0 = t("2026-11-17 10:00")
    ev = evaluate([buyer(t0), agent(t0 + M, text="Hello! 😊")], AT, US)
    assert statuses(ev) == ["unanswered"]
    ev = evaluate([buyer(t0), agent(t0 + M, text="Hello!"), agent(t0 + H, text="已发货")], AT)
    assert statuses(ev) == ["answered_in_time"]
    assert ev.sessions_detail[0].first_reply_at == t0 + H


def test_ev3_bot_reply_is_automatic_not_a_reply() -> None:
    t0 = t("2026-11-17 10:00")
    ev = evaluate([buyer(t0), bot(t0 + M, text="It ships today"), buyer(t0 + 2 * M)], AT)
    assert statuses(ev) == ["unanswered"]


# rule EV-4 -------------------------------------------------------------------------------
def test_ev4_bot_only_session_leaves_denominator() -> None:
    t0 = t("2026-11-17 10:00")
    ev = evaluate([buyer(t0), bot(t0 + M)], AT)
    assert statuses(ev) == ["bot_only"]
    assert (ev.sessions, ev.counted, ev.response_rate) == (1, 0, None)


def test_ev4_buyer_with_last_word_after_bot_needs_human() -> None:
    t0 = t("2026-11-17 10:00")
    ev = evaluate([buyer(t0), bot(t0 + M), buyer(t0 + 5 * M)], AT)
    assert statuses(ev) == ["unanswered"]


def test_ev4_handoff_session_is_not_bot_only() -> None:
    t0 = t("2026-11-17 10:00")
    ev = evaluate([buyer(t0), bot(t0 + M), Handoff("c1", t0 + 2 * M), bot(t0 + 3 * M)], AT)
    assert statuses(ev) == ["unanswered"]


# rule EV-5 -------------------------------------------------------------------------------
def test_ev5_deadline_is_start_plus_24_hours_without_chatbot() -> None:
    t0 = t("2026-11-21 09:00")  # Saturday, chatbot off: plain 24 h
    ev = evaluate([buyer(t0)], AT)
    assert ev.sessions_detail[0].deadline == t0 + 24 * H


def test_ev5_weekend_deadline_moves_to_monday_noon() -> None:
    on = ChatbotSwitch("s1", t("2026-11-01 00:00"), True)
    sat = t("2026-11-21 09:00")
    ev = evaluate([on, buyer(sat)], AT)
    assert ev.sessions_detail[0].deadline == t("2026-11-23 12:00")
    fri = t("2026-11-20 13:00")  # start + 24 h is Saturday
    ev = evaluate([on, buyer(fri)], AT)
    assert ev.sessions_detail[0].deadline == t("2026-11-23 12:00")
    thu = t("2026-11-19 13:00")  # start + 24 h is Friday: plain rule
    ev = evaluate([on, buyer(thu)], AT)
    assert ev.sessions_detail[0].deadline == thu + 24 * H


def test_ev5_chatbot_must_be_on_at_session_start() -> None:
    sat = t("2026-11-21 09:00")
    late_on = ChatbotSwitch("s1", sat + S, True)
    ev = evaluate([late_on, buyer(sat)], AT)
    assert ev.sessions_detail[0].deadline == sat + 24 * H
    off = ChatbotSwitch("s1", sat - H, False)
    ev = evaluate([ChatbotSwitch("s1", t("2026-11-01 00:00"), True), off, buyer(sat)], AT)
    assert ev.sessions_detail[0].deadline == sat + 24 * H


def test_ev5_weekend_deadline_in_shop_time_across_dst_end() -> None:
    tz = "America/New_York"  # DST ends Sunday 2026-11-01 02:00 local
    sat = lt("2026-10-31 10:00", tz)  # EDT (-4)
    events = [shop(tz), ChatbotSwitch("s1", t("2026-10-01 00:00"), True), buyer(sat)]
    ev = evaluate(events, t("2026-11-02 18:00"))
    assert ev.sessions_detail[0].deadline == t("2026-11-02 17:00")  # Monday 12:00 EST (-5)


def test_ev5_plain_deadline_is_24_real_hours_across_dst_start() -> None:
    tz = "Europe/Berlin"  # DST starts Sunday 2026-03-29
    start = lt("2026-03-28 23:30", tz)  # Saturday night, chatbot off
    ev = evaluate([shop(tz), buyer(start)], lt("2026-03-30 12:00", tz))
    d = ev.sessions_detail[0].deadline
    assert d == start + 24 * H
    assert d.astimezone(__import__("zoneinfo").ZoneInfo(tz)).hour == 0  # 00:30 local, not 23:30


# rule EV-6 -------------------------------------------------------------------------------
def test_ev6_reply_exactly_at_deadline_is_in_time_one_second_later_is_late() -> None:
    t0 = t("2026-11-17 10:00")
    ev = evaluate([buyer(t0), agent(t0 + 24 * H)], AT)
    assert statuses(ev) == ["answered_in_time"]
    ev = evaluate([buyer(t0), agent(t0 + 24 * H + S)], AT)
    assert statuses(ev) == ["late"]
    assert ev.answered_in_time == 0 and ev.response_rate == 0.0


# rule EV-7 -------------------------------------------------------------------------------
def test_ev7_pending_when_deadline_after_evaluation_instant() -> None:
    sun = t("2026-11-22 20:00")  # deadline Monday 20:00 > Monday 12:00
    ev = evaluate([buyer(sun), buyer(t("2026-11-17 10:00"), conv="c2"),
                   agent(t("2026-11-17 11:00"), conv="c2")], AT)
    assert sorted(statuses(ev)) == ["answered_in_time", "pending"]
    assert (ev.counted, ev.pending, ev.response_rate) == (2, 1, 1.0)


def test_ev7_vacation_sessions_are_excluded() -> None:
    vac = Vacation("s1", t("2026-11-17 00:00"), t("2026-11-18 00:00"))
    ev = evaluate([vac, buyer(t("2026-11-17 10:00")), buyer(t("2026-11-18 00:00"), conv="c2")],
                  AT)
    assert statuses(ev) == ["vacation", "unanswered"]  # vacation end is exclusive
    assert ev.buyer_messages == 1


def test_ev7_open_vacation_covers_everything_after_start() -> None:
    ev = evaluate([Vacation("s1", t("2026-11-17 00:00"), None),
                   buyer(t("2026-11-20 10:00"))], AT)
    assert statuses(ev) == ["vacation"] and ev.buyer_messages == 0


def test_ev7_verified_report_and_platform_handled_are_excluded() -> None:
    t0 = t("2026-11-17 10:00")
    ev = evaluate([buyer(t0), Exclusion("c1", t0 + 48 * H, "verified_report"),
                   buyer(t0, conv="c2"), Exclusion("c2", t0, "platform_handled")], AT)
    assert statuses(ev) == ["verified_report", "platform_handled"]
    assert ev.counted == 0 and ev.response_rate is None and ev.outcome == "not_evaluated"


def test_ev7_exclusion_hits_latest_session_started_before_it() -> None:
    t0 = t("2026-11-17 10:00")
    events = [buyer(t0), agent(t0 + H), buyer(t0 + 10 * H), Exclusion("c1", t0 + 9 * H,
                                                                      "verified_report")]
    ev = evaluate(events, AT)
    assert statuses(ev) == ["verified_report", "unanswered"]


def test_ev7_cross_border_counts_only_0800_to_2259_starts() -> None:
    at = t("2026-11-16 00:00")
    day = "2026-11-10 "
    events = [buyer(t(day + "07:59:59"), conv="a"), buyer(t(day + "08:00:00"), conv="b"),
              buyer(t(day + "22:59:59"), conv="c"), buyer(t(day + "23:00:00"), conv="d")]
    ev = evaluate(events, at, XB)
    assert statuses(ev) == ["outside_hours", "unanswered", "unanswered", "outside_hours"]


# rule EV-8 -------------------------------------------------------------------------------
def test_ev8_us_window_is_previous_monday_to_monday_evaluated_at_noon() -> None:
    ev = evaluate([], t("2026-11-23 12:00"))
    assert (ev.window_start, ev.window_end) == (t("2026-11-16 00:00"), t("2026-11-23 00:00"))
    assert ev.evaluated_at == t("2026-11-23 12:00")
    ev = evaluate([], t("2026-11-23 11:59:59"))  # before noon: last week's evaluation
    assert ev.evaluated_at == t("2026-11-16 12:00")


def test_ev8_cross_border_half_month_windows() -> None:
    ev = evaluate([], t("2026-11-16 00:00"), XB)
    assert (ev.window_start, ev.window_end) == (t("2026-11-01 00:00"), t("2026-11-16 00:00"))
    ev = evaluate([], t("2026-12-01 05:00"), XB)
    assert (ev.window_start, ev.window_end) == (t("2026-11-16 00:00"), t("2026-12-01 00:00"))
    ev = evaluate([], t("2026-03-10 00:00"), XB)
    assert ev.window_start == t("2026-02-16 00:00") and ev.window_end == t("2026-03-01 00:00")


def test_ev8_events_after_evaluation_instant_are_ignored() -> None:
    t0 = t("2026-11-22 20:00")
    ev = evaluate([buyer(t0), agent(t("2026-11-23 12:00:01"))], t("2026-11-23 18:00"))
    assert statuses(ev) == ["pending"]


# rule EV-9 -------------------------------------------------------------------------------
def test_ev9_us_below_five_buyer_messages_is_not_penalised() -> None:
    t0 = t("2026-11-17 10:00")
    ev = evaluate([buyer(t0 + i * 100 * H // 100, conv=f"c{i}") for i in range(4)], AT)
    assert ev.buyer_messages == 4 and ev.response_rate == 0.0
    assert ev.outcome == "not_evaluated"
    ev = evaluate([buyer(t0, conv=f"c{i}") for i in range(5)], AT)
    assert ev.outcome == "violation"


def test_ev9_cross_border_below_twenty_is_not_evaluated() -> None:
    t0 = t("2026-11-10 10:00")
    ev = evaluate([buyer(t0, conv=f"c{i}") for i in range(19)], t("2026-11-16 00:00"), XB)
    assert ev.response_rate is None and ev.outcome == "not_evaluated"
    ev = evaluate([buyer(t0, conv=f"c{i}") for i in range(20)], t("2026-11-16 00:00"), XB)
    assert ev.response_rate == 0.0 and ev.outcome == "violation"


# rule EV-10 ------------------------------------------------------------------------------
def test_ev10_satisfaction_over_30_local_days_start_exclusive_end_inclusive() -> None:
    t0 = t("2026-11-17 10:00")
    events = [buyer(t0), Rating("c1", t("2026-10-24 12:00"), 5),
              Rating("c1", t("2026-10-24 12:00:01"), 4), Rating("c1", AT, 3),
              Rating("c1", AT + S, 1)]
    ev = evaluate(events, AT)
    assert ev.ratings == 2 and ev.satisfaction_rate == 0.5


def test_ev10_no_ratings_no_satisfaction_rate() -> None:
    assert evaluate([], AT).satisfaction_rate is None


# rule EV-11 ------------------------------------------------------------------------------
def _shop_with(in_time: int, total: int):  # type: ignore[no-untyped-def]
    t0 = t("2026-11-17 10:00")
    events = []
    for i in range(total):
        events.append(buyer(t0, conv=f"c{i}"))
        if i < in_time:
            events.append(agent(t0 + H, conv=f"c{i}"))
    return evaluate(events, AT)


def test_ev11_outcome_thresholds() -> None:
    assert _shop_with(17, 20).outcome == "warning"  # exactly 85 %: not a violation
    assert _shop_with(16, 20).outcome == "violation"
    assert _shop_with(18, 20).outcome == "ok"  # exactly 90 %
    assert _shop_with(17, 20).response_rate == 0.85


# rule EV-12 ------------------------------------------------------------------------------
def test_ev12_first_response_median_and_mean_over_answered_counted_sessions() -> None:
    t0 = t("2026-11-17 10:00")
    events = [buyer(t0, conv="a"), agent(t0 + H, conv="a"),
              buyer(t0, conv="b"), agent(t0 + 2 * H, conv="b"),
              buyer(t0, conv="c"), agent(t0 + 30 * H, conv="c"),  # late still counts
              buyer(t0, conv="d"), bot(t0 + M, conv="d")]  # bot-only: no
    ev = evaluate(events, AT)
    assert ev.first_response_median_s == 7200.0
    assert ev.first_response_mean_s == (3600 + 7200 + 30 * 3600) / 3
