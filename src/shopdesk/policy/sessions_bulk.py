"""Lockstep sessionisation (rule EV-2) over every conversation at once, in numpy.

Why not a Polars expression: EV-2 is a state machine (waiting-since, buyer-silence and
bot-grace clocks, handoff flag) whose session boundaries depend on that state, so it is not
a window function. Instead, step k advances *every* conversation by its k-th event with
whole-array numpy operations; conversations are ordered longest first so the active ones are
always a prefix. Work is O(events) vectorised plus one Python iteration per event position
of the longest conversation. It is an exact transcription of :func:`sessions.sessionise`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from shopdesk.policy.profiles import Profile

INF = np.int64(2**62)
I64 = npt.NDArray[np.int64]


@dataclass
class BulkSessions:
    """Sessions numbered in (conversation, start) order, i.e. in event-row order."""

    event_sid: I64  # session id per event (-1: outside any session)
    start: I64  # per session
    end: I64  # per session (INF: no scheduled end)
    first_row: I64  # per session: row of its opening buyer message


def _us(td: object) -> np.int64:
    from datetime import timedelta

    assert isinstance(td, timedelta)
    return np.int64(td // timedelta(microseconds=1))


def sessionise_bulk(
    conv_id: I64, at: I64, code: npt.NDArray[np.int8], profile: Profile
) -> BulkSessions:
    """Events must be sorted by (conversation, time, input order)."""
    n_ev = len(at)
    ss, bs, bg = _us(profile.seller_silence), _us(profile.buyer_silence), _us(profile.bot_grace)
    event_sid = np.full(n_ev, -1, dtype=np.int64)
    if n_ev == 0:
        empty = np.zeros(0, dtype=np.int64)
        return BulkSessions(event_sid, empty, empty, empty)
    bounds = np.flatnonzero(np.diff(conv_id)) + 1
    offsets = np.concatenate(([0], bounds)).astype(np.int64)
    lengths = np.diff(np.concatenate((offsets, [n_ev]))).astype(np.int64)
    order = np.argsort(-lengths, kind="stable")
    offsets, lengths = offsets[order], lengths[order]
    n_conv = len(offsets)
    neg_len = -lengths  # ascending
    max_sessions = int(np.count_nonzero(code == 0)) + 1
    s_start = np.zeros(max_sessions, dtype=np.int64)
    s_end = np.full(max_sessions, INF, dtype=np.int64)
    s_row = np.zeros(max_sessions, dtype=np.int64)
    is_open = np.zeros(n_conv, dtype=bool)
    waiting = np.full(n_conv, INF, dtype=np.int64)
    human_t = np.full(n_conv, INF, dtype=np.int64)
    auto_t = np.full(n_conv, INF, dtype=np.int64)
    handed = np.zeros(n_conv, dtype=bool)
    cur = np.full(n_conv, -1, dtype=np.int64)
    next_sid = 0

    for k in range(int(lengths[0])):
        n = int(np.searchsorted(neg_len, -k, side="left"))  # conversations with length > k
        idx = offsets[:n] + k
        tt, cc = at[idx], code[idx]
        # dense whole-slice updates (np.where) are cheaper than masked scatter here
        w, h, a, hd, c = waiting[:n], human_t[:n], auto_t[:n], handed[:n], cur[:n]
        o = is_open[:n]
        ct = np.minimum(np.minimum(w + ss, h + bs), np.where(hd, INF, a + bg))
        # "after X" is strict; platform messages (code 5) play no part (EV-2)
        closing = o & (tt > ct) & (ct < INF) & (cc != 5)
        if closing.any():
            s_end[c[closing]] = ct[closing]
        o = o & ~closing
        is_close = o & (cc == 4)  # explicit close
        if is_close.any():
            s_end[c[is_close]] = tt[is_close]
        o &= ~is_close
        is_hand = o & (cc == 3)  # handoff
        hd = hd | is_hand
        a = np.where(is_hand, INF, a)
        w = np.where(is_hand & (w == INF), tt, w)
        b = cc == 0
        new = b & ~o  # rule SES-1
        cont = b & o
        n_new = int(np.count_nonzero(new))
        if n_new:
            c = np.where(new, next_sid + np.cumsum(new) - 1, c)
            s_start[next_sid:next_sid + n_new] = tt[new]
            s_row[next_sid:next_sid + n_new] = idx[new]
            next_sid += n_new
        w = np.where(new | (cont & (w == INF)), tt, w)
        hd = hd & ~new
        h = np.where(b, INF, h)
        a = np.where(b, INF, a)
        is_h = o & (cc == 1)  # human
        w = np.where(is_h, INF, w)
        hd = hd & ~is_h
        h = np.where(is_h & (h == INF), tt, h)
        is_a = o & (cc == 2) & ~hd  # automatic before a handoff
        w = np.where(is_a, INF, w)
        a = np.where(is_a & (a == INF), tt, a)
        o = o | new
        event_sid[idx] = np.where((o & (cc < 4)) | is_close, c, -1)
        waiting[:n], human_t[:n], auto_t[:n], handed[:n], cur[:n], is_open[:n] = w, h, a, hd, c, o
    ct = np.minimum(np.minimum(waiting + ss, human_t + bs), np.where(handed, INF, auto_t + bg))
    s_end[cur[is_open]] = ct[is_open]
    # renumber in event-row order: (conversation, start), contiguous per conversation
    order = np.argsort(s_row[:next_sid], kind="stable")
    rank = np.empty(next_sid + 1, dtype=np.int64)
    rank[order] = np.arange(next_sid, dtype=np.int64)
    rank[next_sid] = -1  # event_sid -1 stays -1
    event_sid = rank[event_sid]
    return BulkSessions(event_sid, s_start[order], s_end[order], s_row[order])


@dataclass
class SessionStats:
    """Per-session facts for rules EV-4 and EV-6 (same order as :class:`BulkSessions`)."""

    n_auto: I64
    n_human: I64
    handoff: npt.NDArray[np.bool_]
    last_auto: npt.NDArray[np.bool_]  # the last message of the session is automatic
    reply_row: I64  # row of the first substantive human reply (-1: none)


def session_stats(bs: BulkSessions, code: npt.NDArray[np.int8],
                  subst: npt.NDArray[np.bool_]) -> SessionStats:
    """Member rows of a session are consecutive in row order (platform rows aside), so
    "first"/"last" are where the session id changes along the filtered rows."""
    n_s = len(bs.start)
    sid = bs.event_sid
    member = sid >= 0

    def count(mask: npt.NDArray[np.bool_]) -> I64:
        return np.bincount(sid[member & mask], minlength=n_s).astype(np.int64)

    n_auto, n_human = count(code == 2), count(code == 1)
    handoff = count(code == 3) > 0
    rows = np.flatnonzero(member & (code <= 2))
    last_auto = np.zeros(n_s, dtype=bool)
    if len(rows):
        s = sid[rows]
        last = np.append(s[1:] != s[:-1], True)
        last_auto[s[last]] = code[rows[last]] == 2
    reply_row = np.full(n_s, -1, dtype=np.int64)
    rows = np.flatnonzero(member & (code == 1) & subst)
    if len(rows):
        s = sid[rows]
        first = np.insert(s[1:] != s[:-1], 0, True)
        reply_row[s[first]] = rows[first]
    return SessionStats(n_auto, n_human, handoff, last_auto, reply_row)
