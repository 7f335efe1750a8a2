"""Columnar, integer-encoded form of an event log for the bulk evaluator (CONTRACTS §1).

Times are int64 microseconds since the Unix epoch, UTC. Conversation events (messages,
handoffs, closes) carry ``code`` 0 buyer, 1 agent (human), 2 bot (automatic), 3 handoff,
4 close, 5 platform (kept only to place the conversation in its shop; it plays no part in
sessions, rule EV-2). Whether an agent message is substantive (rule EV-3) is asked only for
the rows an evaluation needs (:meth:`BulkLog.substantive`), not for all of them.

Why integers: every later sort, group-by and lookup of the evaluator runs on dense integer
ids in numpy, never on text. The rows are grouped by conversation once, here, and kept
sorted by (conversation, time, input order) as sessionisation needs:

* a log stored conversation by conversation (each conversation one run of consecutive rows,
  time-ordered inside) is detected in O(n) and not moved at all: its conversations are its
  runs, found by comparing each row's id with the previous one;
* any other order (a time-ordered export, say) is grouped by a 64-bit hash of the
  conversation id: one numpy sort of packed (hash bits, row) integers, which is several
  times faster than sorting ten million strings or an ``argsort``. Ids that share a hash
  are detected with a second, independent hash and then grouped exactly (a dense rank of
  the sorted names) instead, so a collision costs time, never correctness.

Shop ids index ``shop_names`` (sorted, so a shop id orders like its name).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import numpy.typing as npt
import polars as pl

from shopdesk.policy.events import (
    ChatbotSwitch,
    Close,
    Event,
    Exclusion,
    Handoff,
    Message,
    Rating,
    ShopDecl,
    Vacation,
)
from shopdesk.policy.sessions_bulk import argsort_unique
from shopdesk.policy.substantive import (
    NON_SUBSTANTIVE_KINDS,
    is_substantive_text,
)

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
CODE = {"buyer": 0, "agent": 1, "bot": 2, "handoff": 3, "close": 4, "platform": 5}
I64 = npt.NDArray[np.int64]


def to_us(instant: datetime) -> int:
    return (instant - EPOCH) // _US


def from_us(value: int) -> datetime:
    return EPOCH + value * _US


_US = datetime(1970, 1, 1, 0, 0, 0, 1, tzinfo=UTC) - EPOCH


@dataclass
class BulkLog:
    """An encoded log. Conversation rows are grouped by conversation (conversation ``i``
    holds rows ``offsets[i]`` up to the next offset) and sorted by (time, input order)
    inside each conversation.

    ``seq`` is each row's input position (None: rows are in input order). ``conv_names``
    maps a conversation index to its id.
    """

    shops: pl.DataFrame  # shop: str, timezone: str (declarations, input order)
    chatbot: pl.DataFrame  # shop, at: i64, enabled: bool   (input order = tie order)
    vacations: pl.DataFrame  # shop, start: i64, end: i64 (null: still on)
    shop_names: list[str]
    conv_names: pl.Series
    offsets: I64
    at: I64
    code: npt.NDArray[np.int8]
    shop: I64  # shop id named by the row, -1 for none (handoffs and closes)
    seq: I64 | None
    author: pl.Series  # per row in *input* order (see ``seq``), null except agent messages
    kind: pl.Series  # per row in input order (CHAT-2 kind of messages)
    text: pl.Series  # per row in input order
    ratings: pl.DataFrame  # cid: i64 (null: unknown conversation), at, stars
    exclusions: pl.DataFrame  # cid, at, reason
    shop_first_message: I64  # per shop id: earliest message naming it (2**63-1: none)
    mixed_shops: bool  # some conversation's messages name different shops

    def substantive(self, rows: I64) -> npt.NDArray[np.bool_]:
        """Rule EV-3 for the given rows: agent messages that carry information."""
        out = np.zeros(len(rows), dtype=bool)
        agent = np.flatnonzero(self.code[rows] == 1)
        if len(agent) == 0:
            return out
        src = rows[agent] if self.seq is None else self.seq[rows[agent]]
        order = argsort_unique(src)  # gathers in row order are cheap on a chunked column
        idx = pl.Series(src[order])
        frame = pl.DataFrame({"kind": self.kind.gather(idx), "text": self.text.gather(idx)})
        out[agent[order]] = frame.select(_substantive_expr(frame)).to_series().to_numpy()
        return out

    @property
    def cid(self) -> I64:
        """Conversation index of every row."""
        lengths = np.diff(np.append(self.offsets, len(self.at)))
        return np.repeat(np.arange(len(self.offsets), dtype=np.int64), lengths)


SMALL: dict[str, dict[str, type[pl.DataType] | pl.DataType]] = {
    "shops": {"shop": pl.String, "timezone": pl.String},
    "chatbot": {"shop": pl.String, "at": pl.Int64, "enabled": pl.Boolean},
    "vacations": {"shop": pl.String, "start": pl.Int64, "end": pl.Int64},
    "ratings": {"conversation": pl.String, "at": pl.Int64, "stars": pl.Int64},
    "exclusions": {"conversation": pl.String, "at": pl.Int64, "reason": pl.String},
}
CONV: dict[str, type[pl.DataType] | pl.DataType] = {
    "conversation": pl.String, "shop": pl.String, "at": pl.Int64, "code": pl.Int8,
    "kind": pl.String, "text": pl.String, "author": pl.String,
}


def bulk_from_events(events: list[Event]) -> BulkLog:
    """Typed events (e.g. from :func:`read_events`) -> encoded log, input order kept."""
    rows: dict[str, list[tuple[object, ...]]] = {k: [] for k in SMALL}
    conv: list[tuple[object, ...]] = []
    for ev in events:
        if isinstance(ev, ShopDecl):
            rows["shops"].append((ev.shop, ev.timezone))
        elif isinstance(ev, ChatbotSwitch):
            rows["chatbot"].append((ev.shop, to_us(ev.at), ev.enabled))
        elif isinstance(ev, Vacation):
            end = None if ev.end is None else to_us(ev.end)
            rows["vacations"].append((ev.shop, to_us(ev.start), end))
        elif isinstance(ev, Message):
            author = (ev.author or "agent") if ev.sender == "agent" else None
            conv.append((ev.conversation, ev.shop, to_us(ev.at), CODE[ev.sender], ev.kind,
                         ev.text, author))
        elif isinstance(ev, Handoff | Close):
            code = 3 if isinstance(ev, Handoff) else 4
            conv.append((ev.conversation, None, to_us(ev.at), code, None, None, None))
        elif isinstance(ev, Rating):
            rows["ratings"].append((ev.conversation, to_us(ev.at), ev.stars))
        elif isinstance(ev, Exclusion):
            rows["exclusions"].append((ev.conversation, to_us(ev.at), ev.reason))
    frames = {k: pl.DataFrame(rows[k], schema=SMALL[k], orient="row") for k in SMALL}
    raw = pl.DataFrame(conv, schema=CONV, orient="row")
    return encode(raw, **frames)


def _substantive_expr(frame: pl.DataFrame) -> pl.Expr:
    """Rule EV-3 for message rows (kind, text) of human senders; the classifier runs once
    per distinct text."""
    kind = pl.col("kind").fill_null("text")
    texts = frame.lazy().filter(kind == "text").select(
        pl.col("text").fill_null("").unique()).collect().to_series().to_list()
    substantive = [t for t in texts if is_substantive_text(t)]
    return (pl.when(kind == "text").then(pl.col("text").fill_null("").is_in(substantive))
            .otherwise(~kind.is_in(sorted(NON_SUBSTANTIVE_KINDS))))


def conv_lazy(lf: pl.LazyFrame) -> pl.DataFrame:
    """Raw rows (conversation, shop, at, sender, kind, text, author) -> CONV columns.

    ``sender`` is buyer/agent/bot/platform/handoff/close; its code is a when/then chain
    (it stops at the first match: cheaper than summing six equality tests). ``author`` is
    kept as read (a null author of a reply reads as "agent" when reported).
    """
    df = lf.select("conversation", "shop", "at", "sender", "kind", "text", "author").collect()
    sender = pl.col("sender")
    chain: Any = pl.when(sender == "buyer").then(pl.lit(0, pl.Int8))
    for name, value in CODE.items():
        if value:
            chain = chain.when(sender == name).then(pl.lit(value, pl.Int8))
    out = df.lazy().select(
        "conversation", "shop", "at", chain.otherwise(None).alias("code"), "kind", "text",
        "author",
    ).collect()
    if out["code"].null_count():
        bad = df.filter(out["code"].is_null())["sender"][0]
        raise ValueError(f"unknown sender {bad!r}")
    return out


def conv_from_messages(df: pl.DataFrame) -> pl.DataFrame:
    """Eager form of :func:`conv_lazy`."""
    return conv_lazy(df.lazy())


def _starts(change: pl.Series) -> I64:
    """Rows where a run of equal values starts (row 0 always does)."""
    flags = change.to_numpy().copy()
    flags[:1] = True
    return np.flatnonzero(flags).astype(np.int64)


def _distinct(names: pl.Series) -> bool:
    """No id occurs twice. Cheap answers first: strictly ascending ids (no hashing), a
    repeat among the first ids (a log not grouped by conversation shows one at once)."""
    n = names.len()
    if n < 2 or _strictly_ascending(names):
        return True
    head = names.head(1 << 16)
    if head.n_unique() < head.len():
        return False
    h = np.sort(names.hash().to_numpy())
    if not bool((h[1:] == h[:-1]).any()):
        return True
    return names.n_unique() == n


def _runs_distinct(ids: pl.Series) -> bool:
    """Each id of ``ids`` forms one run of consecutive rows."""
    return _distinct(ids.gather(_starts(ids.ne_missing(ids.shift(1)))))


def _conv_hash(ids: pl.Series, seed: int) -> npt.NDArray[np.uint64]:
    return ids.hash(seed=seed).to_numpy()


HashFn = Callable[[pl.Series, int], npt.NDArray[np.uint64]]


def _group_by_hash(ids: pl.Series, hash_fn: HashFn | None = None) -> tuple[I64, I64] | None:
    """Permutation grouping equal ids (input order inside a group) and the groups' first
    positions, or None when two different ids share a hash."""
    hash_fn = hash_fn or _conv_hash
    n = ids.len()
    h = hash_fn(ids, 0).astype(np.uint64, copy=False)
    bits = max((n - 1).bit_length(), 1)
    rows = np.arange(n, dtype=np.int64)
    # the hash's top (64 - bits) bits and the row in one int64: one plain sort
    packed = ((h >> np.uint64(bits)) << np.uint64(bits)).view(np.int64) | rows
    packed.sort()
    top = packed >> bits
    perm = packed & ((1 << bits) - 1)
    hp = h[perm]
    start = np.empty(n, dtype=bool)
    start[:1] = True
    np.not_equal(hp[1:], hp[:-1], out=start[1:])
    top_start = np.empty(n, dtype=bool)
    top_start[:1] = True
    np.not_equal(top[1:], top[:-1], out=top_start[1:])
    if bool((start & ~top_start).any()):
        # ids that share the top bits only: order those groups by (full hash, row)
        group = np.cumsum(top_start) - 1
        mixed = np.zeros(int(group[-1]) + 1, dtype=bool)
        mixed[group[start & ~top_start]] = True
        sub = np.flatnonzero(mixed[group])
        order = np.lexsort((perm[sub], hp[sub], group[sub]))
        perm[sub] = perm[sub][order]
        hp = h[perm]
        np.not_equal(hp[1:], hp[:-1], out=start[1:])
    h2 = hash_fn(ids, 1).astype(np.uint64, copy=False)[perm]
    if bool(((h2[1:] != h2[:-1]) & ~start[1:]).any()):
        return None  # two ids share the first hash
    return perm, np.flatnonzero(start)


def _group_exact(ids: pl.Series) -> tuple[I64, I64]:
    """Like :func:`_group_by_hash`, by a dense rank of the sorted names (slower)."""
    names = ids.unique().drop_nulls().sort()
    rank = ids.cast(pl.Enum(names)).to_physical().to_numpy()
    rank = np.where(np.isnan(rank), len(names), rank) if rank.dtype.kind == "f" else rank
    perm = np.argsort(rank.astype(np.int64), kind="stable")
    r = rank[perm]
    start = np.concatenate(([True], r[1:] != r[:-1])) if len(r) else np.zeros(0, dtype=bool)
    return perm.astype(np.int64), np.flatnonzero(start)


def _lookup(values: pl.Series, names: pl.Series) -> pl.Series:
    """Conversation index of each of ``values`` (null where absent)."""
    if names.len() == 0 or values.len() == 0:
        return pl.Series("cid", [None] * values.len(), dtype=pl.Int64)
    if _strictly_ascending(names):
        idx = names.search_sorted(values, side="left").cast(pl.Int64)
        safe = idx.clip(0, names.len() - 1)
        found = names.gather(safe) == values
        return pl.select(pl.when(found).then(safe).otherwise(None).alias("cid")).to_series()
    # the few names asked for first (a hash-set probe), then a small join
    table = pl.DataFrame({"v": names, "cid": np.arange(names.len(), dtype=np.int64)}).filter(
        pl.col("v").is_in(values.implode()))
    return pl.DataFrame({"v": values}).join(table, on="v", how="left",
                                            maintain_order="left")["cid"]


def _strictly_ascending(names: pl.Series) -> bool:
    return names.len() < 2 or bool((names.slice(1) > names.head(names.len() - 1)).all())


def encode(raw: pl.DataFrame, shops: pl.DataFrame, chatbot: pl.DataFrame,
           vacations: pl.DataFrame, ratings: pl.DataFrame,
           exclusions: pl.DataFrame) -> BulkLog:
    """Assign integer ids (see module docstring) and group the conversation rows."""
    n = raw.height
    conv_s = raw.get_column("conversation")
    shop_s = raw.get_column("shop")
    at = np.asarray(raw.get_column("at").to_numpy(), dtype=np.int64)
    code = np.asarray(raw.get_column("code").to_numpy(), dtype=np.int8)
    seq: I64 | None = None
    shop: I64
    declared = pl.concat([shops["shop"], chatbot["shop"], vacations["shop"]])
    if _runs_distinct(conv_s.head(1 << 16)):  # a time-ordered log fails at once
        offsets = _starts(conv_s.ne_missing(conv_s.shift(1)))
        names = conv_s.gather(offsets)
        grouped = _distinct(names)
    else:
        grouped = False
    if grouped:  # one run per conversation: nothing to move
        s_starts = _starts(shop_s.ne_missing(shop_s.shift(1)))
        s_runs = shop_s.gather(s_starts)
        shop_names = pl.concat([s_runs.drop_nulls().unique(), declared]).unique().sort()
        codes = s_runs.cast(pl.Enum(shop_names)).to_physical().fill_null(-1).to_numpy()
        shop = np.repeat(codes.astype(np.int64), np.diff(np.append(s_starts, n)))
    else:
        perm, offsets = _group_by_hash(conv_s) or _group_exact(conv_s)
        at, code, seq = at[perm], code[perm], perm
        first = perm[offsets]
        order = argsort_unique(first)  # gather in row order: cheap on a chunked column
        names = conv_s.gather(first[order]).gather(np.argsort(order))
        shop_names = pl.concat([shop_s.drop_nulls().unique(), declared]).unique().sort()
        codes = shop_s.cast(pl.Enum(shop_names)).to_physical().fill_null(-1).to_numpy()
        shop = codes.astype(np.int64)[perm]
    if n > 1:
        # (time, input order) inside each conversation; most logs already are
        late = at[1:] < at[:-1]
        late[offsets[1:] - 1] = False
        if bool(late.any()):
            cid = np.repeat(np.arange(len(offsets)), np.diff(np.append(offsets, n)))
            bad = np.zeros(len(offsets), dtype=bool)
            bad[cid[1:][late]] = True
            sub = np.flatnonzero(bad[cid])
            p = np.arange(n, dtype=np.int64)
            p[sub] = sub[np.lexsort((at[sub], cid[sub]))]  # stable: ties keep row order
            at, code, shop = at[p], code[p], shop[p]
            seq = p if seq is None else seq[p]
    first_message, mixed = _shop_facts(shop, at, offsets, shop_names.len(), seq is not None)
    return BulkLog(
        shop_first_message=first_message, mixed_shops=mixed, shops=shops, chatbot=chatbot,
        vacations=vacations,
        shop_names=shop_names.to_list(), conv_names=names, offsets=offsets.astype(np.int64),
        at=at, code=code, shop=shop, seq=seq, author=raw.get_column("author"),
        kind=raw.get_column("kind"), text=raw.get_column("text"),
        ratings=ratings.select(_lookup(ratings["conversation"], names), "at", "stars"),
        exclusions=exclusions.select(_lookup(exclusions["conversation"], names), "at",
                                     "reason"),
    )


def _shop_facts(shop: I64, at: I64, offsets: I64, n_shop: int,
                mixed_check: bool) -> tuple[I64, bool]:
    """Earliest message of every shop (over runs of equal shop ids: one reduction for a
    log stored conversation by conversation) and, if asked, whether some conversation's
    messages name different shops."""
    big = np.iinfo(np.int64).max
    first = np.full(n_shop, big, dtype=np.int64)
    if len(shop) == 0:
        return first, False
    starts = np.flatnonzero(np.concatenate(([True], shop[1:] != shop[:-1])))
    run_shop = shop[starts]
    run_min = np.minimum.reduceat(at, starts)
    named = run_shop >= 0  # handoffs and closes name no shop
    np.minimum.at(first, run_shop[named], run_min[named])
    if not mixed_check:
        return first, False
    lo = np.minimum.reduceat(np.where(shop >= 0, shop, big), offsets)
    hi = np.maximum.reduceat(shop, offsets)
    return first, bool(((hi >= 0) & (lo != hi)).any())


def load_parquet(folder: str) -> BulkLog:
    """Read a log stored as Parquet files (shops, chatbot, vacations, messages, ratings,
    exclusions) in ``folder``; ``messages`` holds raw rows for :func:`conv_lazy`.

    Only the needed columns are read. No row filter is pushed into the scan: events after
    the evaluation instant are dropped by :func:`evaluate_bulk` on integer arrays, which is
    cheaper than filtering ten million rows of text columns while decoding.
    """
    def read(name: str) -> pl.DataFrame:
        return pl.read_parquet(f"{folder}/{name}.parquet", columns=list(SMALL[name]))

    raw = conv_lazy(pl.scan_parquet(f"{folder}/messages.parquet"))
    return encode(raw, shops=read("shops"), chatbot=read("chatbot"),
                  vacations=read("vacations"), ratings=read("ratings"),
                  exclusions=read("exclusions"))


_JSON_SCHEMA: dict[str, type[pl.DataType] | pl.DataType] = {
    "type": pl.String, "shop": pl.String, "timezone": pl.String, "at": pl.String,
    "enabled": pl.Boolean, "start": pl.String, "end": pl.String, "conversation": pl.String,
    "sender": pl.String, "kind": pl.String, "text": pl.String, "author": pl.String,
    "by": pl.String, "stars": pl.Int64, "reason": pl.String,
}
# The canonical ISO 8601 form (what `export-events` writes); other forms the strict reader
# accepts are left to it.
_ISO = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?(Z|[+-]\d\d:\d\d)$"
_REQUIRED = {
    "shop": ("shop", "timezone"), "chatbot": ("shop", "at", "enabled"),
    "vacation": ("shop", "start"), "message": ("conversation", "shop", "at", "sender"),
    "handoff": ("conversation", "at"), "close": ("conversation", "at", "by"),
    "rating": ("conversation", "at", "stars"), "exclusion": ("conversation", "at", "reason"),
}


def _instant_us(col: str) -> pl.Expr:
    return (pl.col(col).str.replace(r"Z$", "+00:00")
            .str.to_datetime("%Y-%m-%dT%H:%M:%S%.f%:z", time_unit="us", strict=False)
            .dt.epoch("us"))


def _load_jsonl_fast(path: str) -> BulkLog | None:
    """Columnar parse of a CONTRACTS §1 log; None when any line needs the strict reader
    (malformed, missing or invalid fields, non-canonical times, a conversation naming two
    shops): then :func:`load_jsonl` re-reads the file with it."""
    df = pl.read_ndjson(path, schema=_JSON_SCHEMA)
    df = df.filter(pl.col("type").is_in(list(_REQUIRED)))  # unknown types are ignored
    checks = [pl.col("type").is_not_null()]
    for kind, fields in _REQUIRED.items():
        ok = pl.all_horizontal([pl.col(f).is_not_null() for f in fields])
        checks.append((pl.col("type") != kind) | ok)
    for col in ("at", "start"):
        checks.append(pl.col(col).is_null() | pl.col(col).str.contains(_ISO))
    checks.append(pl.col("end").is_null() | pl.col("end").str.contains(_ISO))
    for col in ("shop", "conversation"):
        checks.append(pl.col(col).is_null() | (pl.col(col) != ""))
    checks += [
        (pl.col("type") != "message") | pl.col("sender").is_in(["buyer", "agent", "bot",
                                                                 "platform"]),
        (pl.col("type") != "close") | pl.col("by").is_in(["seller", "platform"]),
        (pl.col("type") != "rating") | pl.col("stars").is_between(1, 5),
        (pl.col("type") != "exclusion") | pl.col("reason").is_in(["verified_report",
                                                                  "platform_handled"]),
    ]
    if not df.select(pl.all_horizontal(checks).all()).item():
        return None
    df = df.with_columns(_instant_us("at").alias("at_us"), _instant_us("start").alias("s_us"),
                         _instant_us("end").alias("e_us"))
    bad_time = df.select((pl.col("at").is_not_null() & pl.col("at_us").is_null())
                         | (pl.col("start").is_not_null() & pl.col("s_us").is_null())
                         | (pl.col("end").is_not_null() & pl.col("e_us").is_null())
                         | (pl.col("e_us") < pl.col("s_us"))).to_series().any()
    if bad_time:
        return None
    small = df.filter(~pl.col("type").is_in(["message", "handoff", "close"])).select(
        "type", "shop", "timezone", "enabled", "conversation", "stars", "reason", "at_us",
        "s_us", "e_us")
    of = {k: small.filter(pl.col("type") == k) for k in _REQUIRED}
    for tz in of["shop"]["timezone"].unique().to_list():
        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            return None
    conv_rows = df.filter(pl.col("type").is_in(["message", "handoff", "close"])).select(
        "conversation",
        pl.when(pl.col("type") == "message").then("shop").alias("shop"),
        pl.col("at_us").alias("at"),
        pl.when(pl.col("type") == "message").then("sender").otherwise("type").alias("sender"),
        pl.when(pl.col("kind") != "").then("kind").alias("kind"),  # "" reads as text
        "text", "author",
    )
    del df
    log = encode(
        conv_lazy(conv_rows.lazy()),
        shops=of["shop"].select("shop", "timezone"),
        chatbot=of["chatbot"].select("shop", pl.col("at_us").alias("at"), "enabled"),
        vacations=of["vacation"].select("shop", pl.col("s_us").alias("start"),
                                        pl.col("e_us").alias("end")),
        ratings=of["rating"].select("conversation", pl.col("at_us").alias("at"), "stars"),
        exclusions=of["exclusion"].select("conversation", pl.col("at_us").alias("at"),
                                          "reason"),
    )
    mixed = log.mixed_shops or (log.seq is None and _shop_facts(
        log.shop, log.at, log.offsets, len(log.shop_names), True)[1])
    return None if mixed else log  # a conversation naming two shops: the reader names it


def load_jsonl(path: str) -> BulkLog:
    """Read a CONTRACTS §1 event log (JSON Lines) into the bulk form.

    Columnar (Polars' multi-threaded JSON reader, vectorised checks and time parsing) for
    logs in the canonical form; anything else goes through the strict reader
    (:func:`read_events`), which raises :class:`EventLogError` naming the first bad line,
    so both accept exactly the same logs. Unknown types and fields are ignored; their
    warnings come from :func:`read_events` (as in ``shopdesk evaluate``).
    """
    try:
        log = _load_jsonl_fast(path)
    except (pl.exceptions.PolarsError, ValueError):
        log = None
    if log is not None:
        return log
    from shopdesk.policy.jsonl import read_events

    with open(path, encoding="utf-8") as fh:
        return bulk_from_events(read_events(fh).events)
