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

Why numpy here and Polars only in ``bulk_frames``: after encoding, every step is arithmetic
on dense integer arrays (segment reductions, bincounts, a vectorised binary search for the
chatbot/vacation state at an instant); numpy does these without building frames or hashing,
while Polars earns its place where text is involved (Parquet/JSON decoding, comparing ids).
DuckDB would add a SQL layer and copies for the same work, and cannot express the EV-2
state machine either.
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
from shopdesk.policy.sessions_bulk import INF, sessionise_bulk

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
    """Local wall-clock microseconds of instants ``t`` in time zones ``tzi`` (rule EV-1).

    zoneinfo is asked once per distinct (zone, 15-minute bucket); the distinct buckets of a
    zone are found with a bitmap over its range (no sort) when the range is dense."""
    out = t.copy()
    if len(t) == 0:
        return out
    bucket = t // BUCKET_US
    for z in np.flatnonzero(np.bincount(tzi)):
        idx = np.flatnonzero(tzi == z) if len(tz_names) > 1 else np.arange(len(t))
        b = bucket[idx]
        lo = int(b.min())
        span = int(b.max()) - lo + 1
        if span <= 4 * len(b) + 4096:
            used = np.zeros(span, dtype=bool)
            used[b - lo] = True
            uniq = np.flatnonzero(used)
            inv = b - lo
            table = np.zeros(span, dtype=np.int64)
        else:
            uniq, inv = np.unique(b - lo, return_inverse=True)
            table = np.zeros(len(uniq), dtype=np.int64)
            inv = inv.reshape(-1)
        tz = tz_names[int(z)]
        offs = np.array([_offset_us(tz, int(u) + lo) for u in uniq], dtype=np.int64)
        if len(table) == len(uniq):
            table[:] = offs
        else:
            table[uniq] = offs
        out[idx] += table[inv]
    return out


def _latest_at_or_before(key_shop: I64, key_at: I64, shop: I64, t: I64) -> I64:
    """For each (shop, t): index of the last entry of ``shop`` with ``key_at <= t``, -1 if
    none. Entries must be sorted by (shop, at); a binary search inside each shop's segment,
    vectorised over all queries (log2 of the longest segment iterations)."""
    n_shop = int(max(int(key_shop.max(initial=-1)), int(shop.max(initial=-1)))) + 1
    seg = np.searchsorted(key_shop, np.arange(n_shop + 1))
    lo = seg[shop].astype(np.int64)
    first = lo.copy()
    hi = seg[shop + 1].astype(np.int64)
    while True:
        act = lo < hi
        if not act.any():
            break
        mid = (lo + hi) // 2
        go = act & (key_at[np.minimum(mid, len(key_at) - 1)] <= t)
        lo = np.where(go, mid + 1, lo)
        hi = np.where(act & ~go, mid, hi)
    return np.where(lo > first, lo - 1, -1)


def _vacation_lookup(vac: pl.DataFrame, shop_code: dict[str, int], now_shop: I64,
                     n_shop: int) -> tuple[B, I64, I64, I64]:
    """Disjoint [start, end) intervals sorted by (shop id, start) (vacations begun by the
    shop's evaluation instant, overlapping ones united) and which shops have any."""
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
    arr = np.array(out, dtype=np.int64).reshape(-1, 3)
    has[arr[:, 0]] = True
    return has, arr[:, 0].copy(), arr[:, 1].copy(), arr[:, 2].copy()


def _in_vacation(shop: I64, t: I64, vac: tuple[B, I64, I64, I64]) -> B:
    """Rule CHAT-6/EV-7 for (shop, instant) pairs; only shops with vacations are looked up."""
    has, v_shop, v_start, v_end = vac
    out = np.zeros(len(t), dtype=bool)
    idx = np.flatnonzero(has[shop]) if len(t) else np.zeros(0, dtype=np.intp)
    if len(idx) == 0:
        return out
    j = _latest_at_or_before(v_shop, v_start, shop[idx], t[idx])
    out[idx] = (j >= 0) & (t[idx] < v_end[np.maximum(j, 0)])
    return out


def _chatbot_on(log: BulkLog, shop_code: dict[str, int], shop: I64, t: I64) -> B:
    """Chatbot state at ``t`` (rule EV-5): latest switch at or before it, last on ties."""
    if log.chatbot.height == 0 or len(t) == 0:
        return np.zeros(len(t), dtype=bool)
    sw_shop = np.array([shop_code[s] for s in log.chatbot["shop"].to_list()], dtype=np.int64)
    sw_at = log.chatbot["at"].to_numpy().astype(np.int64)
    order = np.lexsort((np.arange(len(sw_at)), sw_at, sw_shop))  # ties: input order
    j = _latest_at_or_before(sw_shop[order], sw_at[order], shop, t)
    enabled = log.chatbot["enabled"].to_numpy()[order]
    return (j >= 0) & enabled[np.maximum(j, 0)]


def _segment_rows(offsets: I64, counts: I64) -> tuple[I64, I64]:
    """Rows ``offsets[i] .. offsets[i] + counts[i] - 1`` of every i, in order, and where
    each segment starts in that list."""
    starts = np.cumsum(counts) - counts
    rows = np.arange(int(counts.sum()), dtype=np.int64) + np.repeat(offsets - starts, counts)
    return rows, starts


def _conversation_shops(log: BulkLog, at_us: int, lengths: I64, n_shop: int) -> I64:
    """Shop of each conversation: that of its first message (input order) at or before
    ``at_us``, -1 if none. When rows are in input order, or every conversation's messages
    name one shop, the first row usually settles it; the rest are reduced row by row."""
    t, shop_row, offsets = log.at, log.shop, log.offsets
    out = np.full(len(offsets), -2, dtype=np.int64)
    if log.seq is None or not log.mixed_shops:
        f = offsets
        ok = (t[f] <= at_us) & (shop_row[f] >= 0)  # handoffs and closes name no shop
        out[ok] = shop_row[f[ok]]
    todo = np.flatnonzero(out == -2)
    if len(todo):
        rows, starts = _segment_rows(offsets[todo], lengths[todo])
        pad = max(n_shop, 1)
        big = np.iinfo(np.int64).max
        pos = rows if log.seq is None else log.seq[rows]
        is_msg = (t[rows] <= at_us) & (shop_row[rows] >= 0)
        key = np.where(is_msg, pos * pad + shop_row[rows], big)
        first = np.minimum.reduceat(key, starts) if len(rows) else key
        out[todo] = np.where(first < big, first % pad, -1)
    return out


def evaluate_bulk(
    log: BulkLog, profile: Profile, at: datetime, shop: str | None = None, explain: bool = False
) -> list[ShopEvaluation]:
    """Evaluate every shop (or one) like :func:`evaluate_reference.evaluate_log`."""
    at_us = to_us(at)
    names = log.shop_names
    n_shop = len(names)
    shop_code = {s: i for i, s in enumerate(names)}
    t_all, code, offsets = log.at, log.code, log.offsets
    n = len(t_all)
    lengths = np.diff(np.append(offsets, n)).astype(np.int64)

    conv_shop = _conversation_shops(log, at_us, lengths, n_shop)
    # Shops (every shop named by a message, declared, or with a chatbot/vacation event).
    present = log.shop_first_message <= at_us
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

    # Visible rows (at or before the shop's evaluation instant) of relevant conversations:
    # rows are time-ordered inside a conversation, so its visible rows are a prefix.
    conv_ok = conv_shop >= 0
    conv_ok[conv_ok] = sel[conv_shop[conv_ok]]
    cs = np.where(conv_ok, conv_shop, 0)
    now_c = np.where(conv_ok, now_s[cs] if n_shop else 0, np.iinfo(np.int64).min)
    first_t, last_t = t_all[offsets], t_all[offsets + lengths - 1]
    n_vis = np.where(last_t <= now_c, lengths, 0)
    partial = np.flatnonzero((first_t <= now_c) & (last_t > now_c))
    if len(partial):
        p_rows, p_starts = _segment_rows(offsets[partial], lengths[partial])
        seen = t_all[p_rows] <= np.repeat(now_c[partial], lengths[partial])
        n_vis[partial] = np.add.reduceat(seen, p_starts, dtype=np.int64)
    last_vis = t_all[np.maximum(offsets + n_vis - 1, 0)] if n else np.zeros(0, np.int64)
    longest = max(profile.seller_silence, profile.buyer_silence, profile.bot_grace)
    reach = longest // timedelta(microseconds=1)
    # a session ends at most `reach` after the last event of its conversation (EV-2)
    keep_conv = conv_ok & (n_vis > 0) & (last_vis >= (ws_s[cs] if n_shop else 0) - reach)
    kc = np.flatnonzero(keep_conv)
    kl = n_vis[kc]
    rows, _ = _segment_rows(offsets[kc], kl)
    k_cid, k_at, k_code = np.repeat(kc, kl), t_all[rows], code[rows]
    k_subst = log.substantive(rows)
    k_shop = conv_shop[k_cid]

    bs = sessionise_bulk(k_cid, k_at, k_code, k_subst, profile)
    vac = _vacation_lookup(log.vacations, shop_code, now_s, n_shop)

    # Buyer messages for the volume gate (rule EV-9).
    b = np.flatnonzero((k_code == 0) & (k_at >= ws_s[k_shop]) & (k_at < we_s[k_shop])) \
        if len(rows) else np.zeros(0, dtype=np.int64)
    b_ok = ~_in_vacation(k_shop[b], k_at[b], vac)
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
    bot_only = bs.bot_only[r]  # rule EV-4
    reply_row = bs.reply_row[r]
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
        d_lo = int(lday.min(initial=0))
        span = int(lday.max(initial=0)) - d_lo + 1
        pairs, inv = np.unique(s_tz[wk] * span + (lday - d_lo), return_inverse=True)
        wdl = np.array([_weekend_deadline_us(tz_names[int(k // span)], int(k % span) + d_lo,
                                             profile) for k in pairs], dtype=np.int64)
        deadline[wk] = wdl[inv.reshape(-1)]
    tod = (l_start % DAY_US) // 10**6
    in_vac = _in_vacation(s_shop, start, vac)

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
    bits = int(frt.max(initial=0)).bit_length()
    if n_shop.bit_length() + bits <= 62 and bool((frt >= 0).all()):
        packed = np.sort((f_shop << bits) | frt)  # one plain sort instead of a lexsort
        f_shop, frt = packed >> bits, packed & ((1 << bits) - 1)
    else:
        order = np.lexsort((frt, f_shop))
        frt, f_shop = frt[order], f_shop[order]
    f_lo = np.searchsorted(f_shop, np.arange(n_shop), side="left")
    f_cnt = np.bincount(f_shop, minlength=n_shop)
    csum = np.concatenate(([0], np.cumsum(frt)))

    # Satisfaction (rule EV-10).
    rat = log.ratings.drop_nulls("cid")
    g_shop = np.zeros(0, dtype=np.int64)
    g_good = np.zeros(0, dtype=bool)
    if rat.height and n_shop:
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
    # plain Python numbers from here: 10,000 shops of numpy scalar access add up
    cols = [a.tolist() for a in (shop_tz, f_cnt, f_lo, gate, sessions_n, counted_n, pending_n,
                                 in_time_n, ratings_n, good_n)]
    frt_l, csum_l = frt.tolist(), csum.tolist()
    for si in np.flatnonzero(sel).tolist():
        tzi, k, f0, g, ns, nc, npd, nit, nr, ng = (c[si] for c in cols)
        median = mean = None
        if k:
            mid = f0 + k // 2
            median = (frt_l[mid] if k % 2 else (frt_l[mid - 1] + frt_l[mid]) / 2) / 1e6
            mean = (csum_l[f0 + k] - csum_l[f0]) / k / 1e6
        out.append(_evaluation(profile, names[si], tz_names[tzi], win_dt[tzi], g, ns, nc, npd,
                               nit, nr, ng, k, median, mean, tuple(details.get(si, ()))))
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
