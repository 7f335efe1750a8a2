"""Lockstep sessionisation (rule EV-2) over every conversation at once, in numpy.

Why not a Polars expression: EV-2 is a state machine (waiting-since, buyer-silence and
bot-grace clocks, handoff flag) whose session boundaries depend on that state, so it is not
a window function. Instead, step k advances *every* conversation by its k-th event with
whole-array numpy operations. Conversations are ranked longest first, so the ones still
active at step k are a prefix of the state arrays, and the events are laid out once in
*step-major* order (all first events, then all second events, ...), so each step reads and
writes contiguous slices: no gather or scatter per step except where a session opens or
closes. The facts rules EV-4 and EV-6 need (bot-only, first substantive human reply) are
tracked in the same pass, per conversation for its open session, and written to the session
when the next one opens. Work is O(events) vectorised plus one Python iteration per event
position of the longest conversation. It is an exact transcription of
:func:`sessions.sessionise`; the Hypothesis property test holds the two together.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import numpy as np
import numpy.typing as npt

from shopdesk.policy.profiles import Profile

INF = np.int64(2**62)
I64 = npt.NDArray[np.int64]
B = npt.NDArray[np.bool_]


@dataclass
class BulkSessions:
    """Sessions numbered in (conversation, start) order, i.e. in event-row order."""

    start: I64
    end: I64  # INF: no scheduled end
    first_row: I64  # row of its opening buyer message
    bot_only: B  # rule EV-4
    reply_row: I64  # row of the first substantive human reply (rule EV-6), -1: none


def _us(td: timedelta) -> np.int64:
    return np.int64(td // timedelta(microseconds=1))


def argsort_unique(keys: I64) -> npt.NDArray[np.intp]:
    """argsort of distinct non-negative int64 keys. When key and position fit in 63 bits,
    sorting the packed (key, position) values is several times faster than ``argsort``
    (numpy's plain sort of int64 is vectorised, its argsort is not)."""
    n = len(keys)
    if n == 0:
        return np.zeros(0, dtype=np.intp)
    bits = max(int(n - 1).bit_length(), 1)
    top = int(keys.max())
    if int(keys.min()) < 0 or top.bit_length() + bits > 63:
        return np.argsort(keys, kind="stable")
    packed = (keys << bits) | np.arange(n, dtype=np.int64)
    packed.sort()
    return (packed & ((1 << bits) - 1)).astype(np.intp)


def sessionise_bulk(conv_id: I64, at: I64, code: npt.NDArray[np.int8],
                    subst: B, profile: Profile) -> BulkSessions:
    """Events must be sorted by (conversation, time, input order); ``code`` as in
    ``bulk_frames`` (platform rows, code 5, are skipped: they play no part, EV-2)."""
    rows: npt.NDArray[np.intp] | None = None
    if len(code) and bool((code == 5).any()):
        rows = np.flatnonzero(code != 5)
        conv_id, at, code, subst = conv_id[rows], at[rows], code[rows], subst[rows]
    n_ev = len(at)
    ss, bs, bg = _us(profile.seller_silence), _us(profile.buyer_silence), _us(profile.bot_grace)
    if n_ev == 0:
        e = np.zeros(0, dtype=np.int64)
        return BulkSessions(e, e, e, np.zeros(0, dtype=bool), e)
    offsets = np.flatnonzero(np.concatenate(([True], conv_id[1:] != conv_id[:-1])))
    lengths = np.diff(np.append(offsets, n_ev))
    n_conv = len(offsets)
    longest = int(lengths.max())
    # rank conversations longest first (stable: a radix sort on small integer keys)
    small = np.uint16 if longest < 2**16 else np.int64
    order = np.argsort((longest - lengths).astype(small), kind="stable")
    rank = np.empty(n_conv, dtype=np.int64)
    rank[order] = np.arange(n_conv, dtype=np.int64)
    # active[k]: conversations with more than k events; step k's slots start at first[k]
    active = np.cumsum(np.bincount(lengths, minlength=longest + 1)[::-1])[::-1][1:]
    first = np.concatenate(([0], np.cumsum(active)[:-1]))
    pos = np.arange(n_ev, dtype=np.int64) - np.repeat(offsets, lengths)
    slot = first[pos] + rank[np.repeat(np.arange(n_conv), lengths)]
    src = np.empty(n_ev, dtype=np.int64)  # step-major slot -> event row
    src[slot] = np.arange(n_ev, dtype=np.int64)
    tt_all, cc_all, sub_all = at[src], code[src], subst[src]

    n_buyer = int(np.count_nonzero(code == 0))
    s_start = np.zeros(n_buyer, dtype=np.int64)
    s_end = np.full(n_buyer, INF, dtype=np.int64)
    s_row = np.zeros(n_buyer, dtype=np.int64)
    s_bot = np.zeros(n_buyer, dtype=bool)
    s_reply = np.full(n_buyer, -1, dtype=np.int64)
    # state per conversation (its open session); clocks hold the instant they fire
    is_open = np.zeros(n_conv, dtype=bool)
    w_at = np.full(n_conv, INF, dtype=np.int64)  # waiting since + seller silence
    h_at = np.full(n_conv, INF, dtype=np.int64)  # first human reply + buyer silence
    a_at = np.full(n_conv, INF, dtype=np.int64)  # first automatic reply + bot grace (not handed)
    handed = np.zeros(n_conv, dtype=bool)
    cur = np.full(n_conv, -1, dtype=np.int64)
    seen_h = np.zeros(n_conv, dtype=bool)
    seen_a = np.zeros(n_conv, dtype=bool)
    seen_hand = np.zeros(n_conv, dtype=bool)
    last_auto = np.zeros(n_conv, dtype=bool)
    reply = np.full(n_conv, -1, dtype=np.int64)
    next_sid = 0

    def flush(idx: npt.NDArray[np.intp]) -> None:
        """Write the EV-4/EV-6 facts of the sessions open (or last open) in ``idx``."""
        idx = idx[cur[idx] >= 0]
        sid = cur[idx]
        s_bot[sid] = seen_a[idx] & ~seen_h[idx] & ~seen_hand[idx] & last_auto[idx]
        s_reply[sid] = reply[idx]

    for k in range(longest):
        n = int(active[k])
        lo = int(first[k])
        tt, cc, sub = tt_all[lo:lo + n], cc_all[lo:lo + n], sub_all[lo:lo + n]
        o, w, h, a, hd, c = is_open[:n], w_at[:n], h_at[:n], a_at[:n], handed[:n], cur[:n]
        # "after X" is strict (EV-2)
        ct = np.minimum(np.minimum(w, h), a)
        closing = o & (tt > ct)
        if closing.any():
            s_end[c[closing]] = ct[closing]
            o &= ~closing
        is_close = o & (cc == 4)  # explicit close
        if is_close.any():
            s_end[c[is_close]] = tt[is_close]
            o &= ~is_close
        is_hand = o & (cc == 3)  # handoff: bot messages stop counting as replies
        if is_hand.any():
            hd |= is_hand
            seen_hand[:n] |= is_hand
            np.copyto(a, INF, where=is_hand)
            np.copyto(w, tt + ss, where=is_hand & (w == INF))
        b = cc == 0
        new = b & ~o  # rule SES-1
        if new.any():
            m = np.flatnonzero(new)
            flush(m)
            ids = np.arange(next_sid, next_sid + len(m), dtype=np.int64)
            c[m] = ids
            s_start[ids] = tt[m]
            s_row[ids] = src[lo + m]
            next_sid += len(m)
            w[m] = INF
            hd[m] = False
            seen_h[m] = seen_a[m] = seen_hand[m] = False
            reply[m] = -1
            o |= new
        if b.any():
            np.copyto(w, tt + ss, where=b & (w == INF))
            np.copyto(h, INF, where=b)
            np.copyto(a, INF, where=b)
            last_auto[:n] &= ~b
        is_h = o & (cc == 1)  # human
        if is_h.any():
            np.copyto(w, INF, where=is_h)
            hd &= ~is_h
            np.copyto(h, tt + bs, where=is_h & (h == INF))
            seen_h[:n] |= is_h
            last_auto[:n] &= ~is_h
            r = reply[:n]
            np.copyto(r, src[lo:lo + n], where=is_h & sub & (r < 0))
        is_a = o & (cc == 2)  # automatic
        if is_a.any():
            seen_a[:n] |= is_a
            last_auto[:n] |= is_a
            live = is_a & ~hd
            np.copyto(w, INF, where=live)
            np.copyto(a, tt + bg, where=live & (a == INF))
    still = np.flatnonzero(is_open)
    s_end[cur[still]] = np.minimum(np.minimum(w_at, h_at), a_at)[still]
    flush(np.arange(n_conv))
    # renumber in event-row order: (conversation, start)
    order = argsort_unique(s_row[:next_sid])
    first_row, reply_row = s_row[order], s_reply[order]
    if rows is not None:
        first_row = rows[first_row]
        reply_row = np.where(reply_row >= 0, rows[np.maximum(reply_row, 0)], -1)
    return BulkSessions(s_start[order], s_end[order], first_row, s_bot[order], reply_row)
