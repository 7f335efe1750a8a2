"""Columnar, integer-encoded form of an event log for the bulk evaluator (CONTRACTS §1).

Times are int64 microseconds since the Unix epoch, UTC. Conversation events (messages,
handoffs, closes) carry ``code`` 0 buyer, 1 agent (human), 2 bot (automatic), 3 handoff,
4 close, 5 platform (kept only to place the conversation in its shop; it plays no part in
sessions, rule EV-2); ``subst`` is the substantive flag of agent messages (rule EV-3).

Why integers: every later sort, group-by and lookup of the evaluator runs on dense integer
ids (conversation ``cid``, shop ``sid``) in numpy, never on text. Ids are assigned once here:
conversation ids by *runs* (consecutive rows of the same conversation share one id, so a log
stored conversation by conversation needs no hashing or sorting of its 10 M text ids at all;
otherwise a dense rank of the run names), shop ids by binary search in the sorted shop names.
Conversation events are kept sorted by (conversation, time, input order) as sessionisation
needs; a log already stored in that order is detected in O(n) and not sorted again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

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
from shopdesk.policy.substantive import (
    NON_SUBSTANTIVE_KINDS,
    is_substantive,
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
    """An encoded log. ``conv`` arrays are sorted by (cid, at, input order).

    ``seq`` is each conversation row's input position (None: the input was already in
    that order, so the row index is the input position). ``shop_names`` is sorted, so a shop
    id orders like its name; ``conv_names`` maps cid -> conversation id.
    """

    shops: pl.DataFrame  # shop: str, timezone: str (declarations, input order)
    chatbot: pl.DataFrame  # shop, at: i64, enabled: bool   (input order = tie order)
    vacations: pl.DataFrame  # shop, start: i64, end: i64 (null: still on)
    shop_names: list[str]
    conv_names: pl.Series
    cid: I64
    shop: I64  # shop id named by the row (meaningful for message rows only)
    at: I64
    code: npt.NDArray[np.int8]
    subst: npt.NDArray[np.bool_]
    author: pl.Series  # per row in *input* order (see ``seq``), null except agent messages
    seq: I64 | None
    ratings: pl.DataFrame  # cid: i64 (null: unknown conversation), at, stars
    exclusions: pl.DataFrame  # cid, at, reason


SMALL: dict[str, dict[str, type[pl.DataType] | pl.DataType]] = {
    "shops": {"shop": pl.String, "timezone": pl.String},
    "chatbot": {"shop": pl.String, "at": pl.Int64, "enabled": pl.Boolean},
    "vacations": {"shop": pl.String, "start": pl.Int64, "end": pl.Int64},
    "ratings": {"conversation": pl.String, "at": pl.Int64, "stars": pl.Int64},
    "exclusions": {"conversation": pl.String, "at": pl.Int64, "reason": pl.String},
}
CONV: dict[str, type[pl.DataType] | pl.DataType] = {
    "conversation": pl.String, "shop": pl.String, "at": pl.Int64, "code": pl.Int8,
    "subst": pl.Boolean, "author": pl.String,
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
            subst = ev.sender == "agent" and is_substantive(ev.kind, ev.text)
            author = (ev.author or "agent") if ev.sender == "agent" else None
            conv.append((ev.conversation, ev.shop, to_us(ev.at), CODE[ev.sender], subst,
                         author))
        elif isinstance(ev, Handoff | Close):
            code = 3 if isinstance(ev, Handoff) else 4
            conv.append((ev.conversation, None, to_us(ev.at), code, False, None))
        elif isinstance(ev, Rating):
            rows["ratings"].append((ev.conversation, to_us(ev.at), ev.stars))
        elif isinstance(ev, Exclusion):
            rows["exclusions"].append((ev.conversation, to_us(ev.at), ev.reason))
    frames = {k: pl.DataFrame(rows[k], schema=SMALL[k], orient="row") for k in SMALL}
    raw = pl.DataFrame(conv, schema=CONV, orient="row")
    return encode(raw, **frames)


def conv_lazy(lf: pl.LazyFrame) -> pl.DataFrame:
    """Raw rows (conversation, shop, at, sender, kind, text, author) -> CONV columns.

    ``sender`` is buyer/agent/bot/platform/handoff/close; its code is a sum of equality
    tests (cheap on dictionary-encoded strings; no per-row branching). The substantive
    classifier runs once per distinct text of agent text messages (rule EV-3). ``author``
    is kept as read (a null author of a reply reads as "agent" when reported).
    """
    df = lf.select("conversation", "shop", "at", "sender", "kind", "text", "author").collect()
    sender = pl.col("sender")
    agent = sender == "agent"
    kind = pl.col("kind").fill_null("text")
    texts = df.lazy().filter(agent & (kind == "text")).select(
        pl.col("text").fill_null("").unique()).collect().to_series().to_list()
    substantive = [t for t in texts if is_substantive_text(t)]
    subst = agent & (
        pl.when(kind == "text").then(pl.col("text").fill_null("").is_in(substantive))
        .otherwise(~kind.is_in(sorted(NON_SUBSTANTIVE_KINDS)))
    )
    code = pl.sum_horizontal([(sender == name).cast(pl.Int8) * value
                              for name, value in CODE.items() if value])
    known = pl.any_horizontal([sender == name for name in CODE])
    out = df.lazy().select(
        "conversation", "shop", "at", code.cast(pl.Int8).alias("code"),
        subst.alias("subst"), "author", known.alias("known"),
    ).collect()
    if not out["known"].all():
        bad = df.filter(~out["known"])["sender"][0]
        raise ValueError(f"unknown sender {bad!r}")
    return out.drop("known")


def conv_from_messages(df: pl.DataFrame) -> pl.DataFrame:
    """Eager form of :func:`conv_lazy`."""
    return conv_lazy(df.lazy())


def _runs(change: npt.NDArray[np.bool_]) -> tuple[npt.NDArray[np.intp], I64]:
    """Indices where a new run of equal values starts (row 0 included), run of each row."""
    if len(change) == 0:
        return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.int64)
    change[0] = True
    return np.flatnonzero(change), np.cumsum(change, dtype=np.int64) - 1


def _lookup(values: pl.Series, names: pl.Series) -> pl.Series:
    """Ids of ``values`` in sorted ``names``; null where absent."""
    if names.len() == 0 or values.len() == 0:
        return pl.Series("cid", [None] * values.len(), dtype=pl.Int64)
    idx = names.search_sorted(values, side="left").cast(pl.Int64)
    safe = idx.clip(0, names.len() - 1)
    found = names.gather(safe) == values
    return pl.select(pl.when(found).then(safe).otherwise(None).alias("cid")).to_series()


def encode(raw: pl.DataFrame, shops: pl.DataFrame, chatbot: pl.DataFrame,
           vacations: pl.DataFrame, ratings: pl.DataFrame,
           exclusions: pl.DataFrame) -> BulkLog:
    """Assign integer ids (see module docstring) and sort conversation rows."""
    n = raw.height
    conv_s = raw.get_column("conversation")
    shop_s = raw.get_column("shop")
    change = raw.lazy().select(
        pl.col(c).ne_missing(pl.col(c).shift(1)).fill_null(True) for c in ("conversation", "shop")
    ).collect()
    starts, run_of = _runs(change["conversation"].to_numpy().copy())
    run_names = conv_s.gather(starts)
    if run_names.len() < 2 or bool(
        (run_names.slice(1) > run_names.head(run_names.len() - 1)).all()
    ):
        names = run_names  # already sorted and one run per conversation
        run_cid = np.arange(len(starts), dtype=np.int64)
        cid = run_of
    else:
        names = run_names.unique().sort()
        # Enum with the sorted names as categories: physical value = position (hash lookup)
        run_cid = run_names.cast(pl.Enum(names)).to_physical().to_numpy().astype(np.int64)
        cid = run_cid[run_of]

    sstarts, srun_of = _runs(change["shop"].to_numpy().copy())
    srun = shop_s.gather(sstarts)
    shop_names = pl.concat([
        srun.drop_nulls().unique(), shops["shop"], chatbot["shop"], vacations["shop"]
    ]).unique().sort()
    # Enum with the sorted names as categories: physical value = position (hash lookup)
    scode = srun.cast(pl.Enum(shop_names)).to_physical().fill_null(0).to_numpy()
    shop = scode.astype(np.int64)[srun_of]

    at = np.asarray(raw.get_column("at").to_numpy(), dtype=np.int64)
    code = np.asarray(raw.get_column("code").to_numpy(), dtype=np.int8)
    subst = np.asarray(raw.get_column("subst").to_numpy(), dtype=bool)
    author = raw.get_column("author")
    seq: I64 | None = None
    if n > 1:
        # ids of runs ascending and time ascending inside every run: already in order
        ok = np.diff(at) >= 0
        ok[starts[1:] - 1] = True
        in_order = bool(np.all(np.diff(run_cid) > 0)) and bool(ok.all())
        if not in_order:
            if bool(np.all(np.diff(at) >= 0)):  # time order (as exports write it)
                perm = np.argsort(cid, kind="stable")
            else:
                perm = np.lexsort((at, cid))  # stable: ties keep input order
            cid, shop, at, code, subst = cid[perm], shop[perm], at[perm], code[perm], subst[perm]
            seq = perm.astype(np.int64)
    return BulkLog(
        shops=shops, chatbot=chatbot, vacations=vacations,
        shop_names=shop_names.to_list(), conv_names=names, cid=cid, shop=shop, at=at,
        code=code, subst=subst, author=author, seq=seq,
        ratings=ratings.select(_lookup(ratings["conversation"], names), "at", "stars"),
        exclusions=exclusions.select(_lookup(exclusions["conversation"], names), "at",
                                     "reason"),
    )


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
