"""The bulk evaluator: every shop of a marketplace at once, same results as the reference.

Why columnar: a marketplace batch is tens of millions of events. Row-by-row Python (the
reference) spends microseconds per event on object creation and datetime arithmetic. Here
the log arrives integer-encoded and sorted by (conversation, time) (``bulk_frames``), so
everything is whole-array numpy on integer ids: per-conversation facts are segment
reductions (``reduceat``), per-shop counters are ``bincount``s, and no text is joined or
sorted. Conversations that cannot have a session overlapping the window (all their visible
events more than the longest session timeout before it) are dropped before
sessionisation. The stateful part, sessionisation, is a lockstep numpy state machine (see
``sessions_bulk``). Calendar questions (offsets, weekend deadlines, windows) are answered by
the same zoneinfo code as the reference, once per distinct (time zone, 15-minute bucket /
local date), so the two evaluators agree to the microsecond, DST included.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt
import polars as pl

from shopdesk.policy.bulk_frames import BulkLog, from_us, to_us
from shopdesk.policy.evaluate_reference import _outcome
from shopdesk.policy.localtime import minus_local_days, weekend_deadline_from_date, window_for
from shopdesk.policy.profiles import Profile
from shopdesk.policy.report import SessionResult, ShopEvaluation
from shopdesk.policy.sessions_bulk import INF, session_stats, sessionise_bulk

DAY_US = 86_400 * 10**6
BUCKET_US = 900 * 10**6  # tz transitions fall on whole quarter hours (UTC) in the tz database
I64 = npt.NDArray[np.int64]
B = npt.NDArray[np.bool_]
STATUSES = ("outside_window", "verified_report", "platform_handled", "vacation", "bot_only",
            "outside_hours", "answered_in_time", "late", "pending", "unanswered")


@cache
def _offset_us(tz: str, bucket: int) -> int:
    instant = from_us(bucket * BUCKET_US)
    off = instant.astimezone(ZoneInfo(tz)).utcoffset()
    assert off is not None
    return off // timedelta(microseconds=1)


@cache
def _weekend_deadline_us(tz: str, local_day: int, profile: Profile) -> int:
    day = date(1970, 1, 1) + timedelta(days=local_day)
    return to_us(weekend_deadline_from_date(day, ZoneInfo(tz), profile))


def _local_us(tzi: I64, t: I64, tz_names: list[str]) -> I64:
    """Local wall-clock microseconds of instants ``t`` in time zones ``tzi`` (rule EV-1)."""
    if len(t) == 0:
        return t.copy()
    bucket = t // BUCKET_US
    key = tzi * (1 << 40) + (bucket + (1 << 39))
    uniq, inv = np.unique(key, return_inverse=True)
    offs = np.array([_offset_us(tz_names[int(k >> 40)], int((k & ((1 << 40) - 1)) - (1 << 39)))
                     for k in uniq], dtype=np.int64)
    return t + offs[inv.reshape(-1)]


def _vacation_lookup(vac: pl.DataFrame, shop_code: dict[str, int], now_shop: I64,
                     n_shop: int) -> tuple[B, pl.DataFrame]:
    """Disjoint [start, end) intervals per shop id (vacations begun by its evaluation
    instant, overlapping ones united) and which shops have any."""
    out: list[tuple[int, int, int]] = []
    rows = sorted((shop_code[s], a, b) for s, a, b in vac.iter_rows())
    for shop, start, end in rows:
        end = int(INF) if end is None else end
        if start > now_shop[shop] or end <= start:
            continue
        if out and out[-1][0] == shop and start <= out[-1][2]:
            out[-1] = (shop, out[-1][1], max(out[-1][2], end))
        else:
            out.append((shop, start, end))
    has = np.zeros(n_shop, dtype=bool)
    for s, _, _ in out:
        has[s] = True
    frame = pl.DataFrame(out, schema={"shop": pl.Int64, "vstart": pl.Int64, "vend": pl.Int64},
                         orient="row").sort("vstart")
    return has, frame


def _in_vacation(shop: I64, t: I64, has: B, vac: pl.DataFrame) -> B:
    """Rule CHAT-6/EV-7 for (shop, instant) pairs; only shops with vacations are looked up."""
    out = np.zeros(len(t), dtype=bool)
    idx = np.flatnonzero(has[shop]) if len(t) else np.zeros(0, dtype=np.intp)
    if len(idx) == 0:
        return out
    q = pl.DataFrame({"shop": shop[idx], "t": t[idx], "i": np.arange(len(idx))}).sort("t")
    j = q.join_asof(vac, left_on="t", right_on="vstart", by="shop", strategy="backward",
                    check_sortedness=False)
    hit = (j["vend"].is_not_null() & (j["t"] < j["vend"])).to_numpy()
    out[idx[j["i"].to_numpy()]] = hit
    return out


def _chatbot_on(log: BulkLog, shop_code: dict[str, int], shop: I64, t: I64) -> B:
    """Chatbot state at ``t`` (rule EV-5): latest switch at or before it, last on ties."""
    if log.chatbot.height == 0 or len(t) == 0:
        return np.zeros(len(t), dtype=bool)
    bot = (
        log.chatbot.with_columns(
            pl.col("shop").replace_strict(shop_code, return_dtype=pl.Int64))
        .with_row_index("seq").sort(["at", "seq"])
        .unique(["shop", "at"], keep="last").sort("at").drop("seq")
    )
    q = pl.DataFrame({"shop": shop, "t": t, "i": np.arange(len(t))}).sort("t")
    j = q.join_asof(bot, left_on="t", right_on="at", by="shop", strategy="backward",
                    check_sortedness=False)
    out = np.zeros(len(t), dtype=bool)
    out[j["i"].to_numpy()] = j["enabled"].fill_null(False).to_numpy()
    return out


def evaluate_bulk(
    log: BulkLog, profile: Profile, at: datetime, shop: str | None = None, explain: bool = False
) -> list[ShopEvaluation]:
    """Evaluate every shop (or one) like :func:`evaluate_reference.evaluate_log`."""
    at_us = to_us(at)
    names = log.shop_names
    n_shop = len(names)
    shop_code = {s: i for i, s in enumerate(names)}
    cid, t_all, code, shop_row = log.cid, log.at, log.code, log.shop
    n = len(t_all)

    # Conversation -> shop: the shop of its first message (input order) at or before `at`.
    vis_g = t_all <= at_us
    is_msg = vis_g & (code != 3) & (code != 4)
    n_conv = log.conv_names.len()
    offsets = np.flatnonzero(np.diff(cid)) + 1 if n else np.zeros(0, dtype=np.int64)
    offsets = np.concatenate(([0], offsets)).astype(np.int64) if n else offsets
    assert len(offsets) == n_conv or n == 0
    if log.seq is None:  # rows of a conversation are in input order: first message row
        m = np.flatnonzero(is_msg)
        j = np.searchsorted(m, offsets)
        seg_end = np.append(offsets[1:], n)
        mj = m[np.minimum(j, len(m) - 1)] if len(m) else np.zeros(len(j), dtype=np.int64)
        conv_shop = np.where((j < len(m)) & (mj < seg_end), shop_row[mj] if n else 0, -1)
    else:
        pad = max(n_shop, 1)
        big = np.iinfo(np.int64).max
        key = np.where(is_msg, log.seq * pad + shop_row, big)
        first = np.minimum.reduceat(key, offsets) if n else np.zeros(0, dtype=np.int64)
        conv_shop = np.where(first < big, first % pad, -1)

    # Shops (every shop named by a message, declared, or with a chatbot/vacation event).
    present = np.bincount(shop_row[is_msg], minlength=n_shop)[:n_shop] > 0 if n_shop else \
        np.zeros(0, dtype=bool)
    for frame, col in ((log.shops, None), (log.chatbot, "at"), (log.vacations, "start")):
        f = frame if col is None else frame.filter(pl.col(col) <= at_us)
        for s in f["shop"].unique().to_list():
            present[shop_code[s]] = True
    tz_of = ["UTC"] * n_shop
    for s, tz in log.shops.iter_rows():
        tz_of[shop_code[s]] = tz
    unknown = shop is not None and shop not in shop_code
    sel = present.copy()
    if shop is not None:
        sel[:] = False
        if not unknown:
            sel[shop_code[shop]] = True
    tz_names = sorted({tz_of[i] for i in np.flatnonzero(sel)} | ({"UTC"} if unknown else set()))
    tz_idx = {tz: i for i, tz in enumerate(tz_names)}
    # Windows per distinct time zone (rule EV-8), shared code with the reference.
    wins = []
    for tz in tz_names:
        z = ZoneInfo(tz)
        win = window_for(profile, z, at)
        since = minus_local_days(win.evaluated_at, z, profile.satisfaction_days)
        wins.append((to_us(win.start), to_us(win.end), to_us(win.evaluated_at), to_us(since)))
    w_arr = np.array(wins, dtype=np.int64).reshape(-1, 4)
    shop_tz = np.array([tz_idx.get(tz_of[i], 0) if sel[i] else 0 for i in range(n_shop)],
                       dtype=np.int64)
    ws_s, we_s, now_s, since_s = (w_arr[shop_tz, k] if n_shop and len(w_arr) else
                                  np.zeros(n_shop, dtype=np.int64) for k in range(4))

    # Visible rows (at or before the shop's evaluation instant) of relevant conversations.
    conv_ok = conv_shop >= 0
    conv_ok[conv_ok] = sel[conv_shop[conv_ok]]
    cs = np.where(conv_ok, conv_shop, 0)
    now_c = np.where(conv_ok, now_s[cs] if n_shop else 0, np.iinfo(np.int64).min)
    vis = t_all <= now_c[cid] if n else np.zeros(0, dtype=bool)
    n_vis = np.add.reduceat(vis.astype(np.int64), offsets) if n else np.zeros(0, np.int64)
    last_vis = t_all[np.maximum(offsets + n_vis - 1, 0)] if n else np.zeros(0, np.int64)
    longest = max(profile.seller_silence, profile.buyer_silence, profile.bot_grace)
    reach = longest // timedelta(microseconds=1)
    # a session ends at most `reach` after the last event of its conversation (EV-2)
    keep_conv = conv_ok & (n_vis > 0) & (last_vis >= (ws_s[cs] if n_shop else 0) - reach)
    rows = np.flatnonzero(vis & keep_conv[cid]) if n else np.zeros(0, dtype=np.int64)
    k_cid, k_at, k_code, k_subst = cid[rows], t_all[rows], code[rows], log.subst[rows]
    k_shop = conv_shop[k_cid]

    bs = sessionise_bulk(k_cid, k_at, k_code, profile)
    st = session_stats(bs, k_code, k_subst)
    vac_has, vac = _vacation_lookup(log.vacations, shop_code, now_s, n_shop)

    # Buyer messages for the volume gate (rule EV-9).
    b = np.flatnonzero((k_code == 0) & (k_at >= ws_s[k_shop]) & (k_at < we_s[k_shop])) \
        if len(rows) else np.zeros(0, dtype=np.int64)
    b_ok = ~_in_vacation(k_shop[b], k_at[b], vac_has, vac)
    gate = np.bincount(k_shop[b][b_ok], minlength=n_shop)

    # Sessions (rule EV-2, EV-4, EV-6), numbered in (conversation, start) order.
    s_cid = k_cid[bs.first_row]
    s_shop = conv_shop[s_cid]
    start, end = bs.start, bs.end
    # Exclusions (rule SCR-12, MET-2): latest session of the conversation started at/before.
    n_s = len(start)
    vr = np.zeros(n_s, dtype=bool)
    ph = np.zeros(n_s, dtype=bool)
    exc = log.exclusions.drop_nulls("cid")
    if exc.height and n_s:
        e_cid = exc["cid"].to_numpy().astype(np.int64)
        e_at = exc["at"].to_numpy().astype(np.int64)
        e_ok = keep_conv[e_cid] & (e_at <= now_c[e_cid])
        lo = np.searchsorted(s_cid, e_cid, side="left")
        hi = np.searchsorted(s_cid, e_cid, side="right")
        reasons = exc["reason"].to_list()
        for i in np.flatnonzero(e_ok & (hi > lo)):
            j = lo[i] + int(np.searchsorted(start[lo[i]:hi[i]], e_at[i], side="right")) - 1
            if j >= lo[i]:
                if reasons[i] == "verified_report":
                    vr[j] = True
                elif reasons[i] == "platform_handled":
                    ph[j] = True

    ws, we, now = ws_s[s_shop], we_s[s_shop], now_s[s_shop]
    in_window = (start >= ws) & (start < we)
    reported = in_window | (start >= we) | (end >= ws)
    r = np.flatnonzero(reported)
    start, end, s_shop, s_cid = start[r], end[r], s_shop[r], s_cid[r]
    ws, we, now, in_window, vr, ph = ws[r], we[r], now[r], in_window[r], vr[r], ph[r]
    bot_only = ((st.n_auto[r] > 0) & (st.n_human[r] == 0) & ~st.handoff[r]
                & st.last_auto[r])  # rule EV-4
    reply_row = st.reply_row[r]
    has_reply = reply_row >= 0
    reply = np.where(has_reply, k_at[np.maximum(reply_row, 0)] if len(k_at) else 0, INF)

    # Deadlines (rule EV-5) with shop-local weekdays from zoneinfo offsets.
    s_tz = shop_tz[s_shop]
    rw = profile.reply_window // timedelta(microseconds=1)
    plain = start + rw
    l_start = _local_us(s_tz, start, tz_names)
    deadline = plain.copy()
    if profile.weekend_rule and len(start):
        l_plain = _local_us(s_tz, plain, tz_names)
        weekendish = (((l_start // DAY_US) + 3) % 7 >= 5) | (((l_plain // DAY_US) + 3) % 7 >= 5)
        cand = np.flatnonzero(weekendish)
        on = _chatbot_on(log, shop_code, s_shop[cand], start[cand])
        wk = cand[on]
        lday = l_start[wk] // DAY_US
        pairs, inv = np.unique(np.stack([s_tz[wk], lday]), axis=1, return_inverse=True)
        wdl = np.array([_weekend_deadline_us(tz_names[int(z)], int(d), profile)
                        for z, d in pairs.T], dtype=np.int64).reshape(-1)
        deadline[wk] = wdl[inv.reshape(-1)]
    tod = (l_start % DAY_US) // 10**6
    in_vac = _in_vacation(s_shop, start, vac_has, vac)

    status = np.full(len(start), 9, dtype=np.int8)  # unanswered
    status[deadline > now] = 8  # pending
    status[has_reply] = 7  # late
    status[has_reply & (reply <= deadline)] = 6  # answered_in_time
    for code_, mask in ((5, (tod < profile.hours_from_s) | (tod >= profile.hours_until_s)),
                        (4, bot_only), (3, in_vac), (2, ph), (1, vr), (0, ~in_window)):
        status[mask] = code_  # precedence: later assignments win
    counted = status >= 6

    def per_shop(mask: B) -> I64:
        return np.bincount(s_shop[mask], minlength=n_shop).astype(np.int64)

    sessions_n = per_shop(in_window)
    counted_n = per_shop(counted)
    pending_n = per_shop(status == 8)
    in_time_n = per_shop(status == 6)
    # First-response times (rule EV-12), exact microseconds.
    fr = np.flatnonzero(counted & has_reply)
    frt = reply[fr] - start[fr]
    f_shop = s_shop[fr]
    order = np.lexsort((frt, f_shop))
    frt, f_shop = frt[order], f_shop[order]
    f_lo = np.searchsorted(f_shop, np.arange(n_shop), side="left")
    f_hi = np.searchsorted(f_shop, np.arange(n_shop), side="right")
    f_cnt = np.bincount(f_shop, minlength=n_shop)
    csum = np.concatenate(([0], np.cumsum(frt)))

    # Satisfaction (rule EV-10).
    rat = log.ratings.drop_nulls("cid")
    g_shop = np.zeros(0, dtype=np.int64)
    g_good = np.zeros(0, dtype=bool)
    if rat.height:
        r_cid = rat["cid"].to_numpy().astype(np.int64)
        r_at = rat["at"].to_numpy().astype(np.int64)
        rs = conv_shop[r_cid]
        ok = rs >= 0
        ok[ok] = sel[rs[ok]]
        rs0 = np.where(ok, rs, 0)
        ok &= (r_at > since_s[rs0]) & (r_at <= now_s[rs0])
        g_shop = rs0[ok]
        g_good = rat["stars"].to_numpy()[ok] >= profile.satisfaction_min_stars
    ratings_n = np.bincount(g_shop, minlength=n_shop)
    good_n = np.bincount(g_shop[g_good], minlength=n_shop)

    details: dict[int, list[SessionResult]] = {}
    if explain and len(start):
        conv_name = log.conv_names.gather(s_cid).to_list()
        r_rows = rows[np.maximum(reply_row, 0)] if len(rows) else rows
        if log.seq is not None:
            r_rows = log.seq[r_rows]  # author is stored in input order
        authors = (log.author.gather(r_rows).to_list()
                   if len(rows) else [None] * len(start))
        recs = sorted(zip(start.tolist(), conv_name, range(len(start)), strict=True))
        for st_us, conv, x in recs:
            details.setdefault(int(s_shop[x]), []).append(SessionResult(
                conv, from_us(st_us), from_us(int(deadline[x])), STATUSES[status[x]],
                from_us(int(reply[x])) if has_reply[x] else None,
                (authors[x] or "agent") if has_reply[x] else None))

    out: list[ShopEvaluation] = []
    win_dt = [tuple(from_us(int(v)) for v in w[:3]) for w in w_arr]
    for i in np.flatnonzero(sel):
        tzi = int(shop_tz[i])
        k = int(f_cnt[i])
        f0, f1 = int(f_lo[i]), int(f_hi[i])
        assert f1 - f0 == k
        median = mean = None
        if k:
            mid = f0 + k // 2
            median = (int(frt[mid]) if k % 2 else (int(frt[mid - 1]) + int(frt[mid])) / 2) / 1e6
            mean = (int(csum[f1]) - int(csum[f0])) / k / 1e6
        out.append(_evaluation(profile, names[i], tz_names[tzi], win_dt[tzi], int(gate[i]),
                               int(sessions_n[i]), int(counted_n[i]), int(pending_n[i]),
                               int(in_time_n[i]), int(ratings_n[i]), int(good_n[i]), k, median,
                               mean, tuple(details.get(int(i), ()))))
    if unknown:
        assert shop is not None
        t0 = tz_idx["UTC"]
        out.append(_evaluation(profile, shop, "UTC", win_dt[t0], 0, 0, 0, 0, 0, 0, 0, 0, None,
                               None, ()))
    return out


def _evaluation(profile: Profile, shop: str, tz: str, win: tuple[datetime, ...],
                buyer_messages: int, sessions: int, counted: int, pending: int, in_time: int,
                ratings: int, good: int, n_frt: int, median: float | None,
                mean: float | None, detail: tuple[SessionResult, ...]) -> ShopEvaluation:
    gate_ok = buyer_messages >= profile.gate_min_buyer_messages
    denominator = counted - pending
    rate = in_time / denominator if denominator else None
    if not n_frt:
        median = mean = None
    if not gate_ok and profile.gate_below == "not_evaluated":
        rate = median = mean = None
    return ShopEvaluation(
        shop=shop, timezone=tz, window_start=win[0], window_end=win[1], evaluated_at=win[2],
        buyer_messages=buyer_messages, sessions=sessions, counted=counted, pending=pending,
        answered_in_time=in_time, response_rate=rate, ratings=ratings,
        satisfaction_rate=good / ratings if ratings else None,
        first_response_median_s=median, first_response_mean_s=mean,
        outcome=_outcome(profile, rate, gate_ok), sessions_detail=detail,
    )
