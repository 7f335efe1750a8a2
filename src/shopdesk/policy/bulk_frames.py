"""Columnar form of an event log for the bulk evaluator (same content as CONTRACTS §1).

Times are int64 microseconds since the Unix epoch, UTC. ``conv`` rows carry message,
handoff and close events with ``code`` 0 buyer, 1 agent (human), 2 bot (automatic),
3 handoff, 4 close, 5 platform (kept only to place the conversation in its shop; it plays
no part in sessions, rule EV-2) and
``subst`` is the substantive flag of agent messages (rule EV-3).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

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
CODE = {"buyer": 0, "agent": 1, "bot": 2, "platform": 5}


def to_us(instant: datetime) -> int:
    return (instant - EPOCH) // _US


def from_us(value: int) -> datetime:
    return EPOCH + value * _US


_US = datetime(1970, 1, 1, 0, 0, 0, 1, tzinfo=UTC) - EPOCH


@dataclass
class BulkLog:
    shops: pl.DataFrame  # shop: str, timezone: str
    chatbot: pl.DataFrame  # shop, at: i64, enabled: bool   (input order = tie order)
    vacations: pl.DataFrame  # shop, start: i64, end: i64 (null: still on)
    conv: pl.DataFrame  # conversation, shop, at, code: i8, subst: bool, author: str
    ratings: pl.DataFrame  # conversation, at, stars: i64
    exclusions: pl.DataFrame  # conversation, at, reason: str


SCHEMAS: dict[str, dict[str, type[pl.DataType] | pl.DataType]] = {
    "shops": {"shop": pl.String, "timezone": pl.String},
    "chatbot": {"shop": pl.String, "at": pl.Int64, "enabled": pl.Boolean},
    "vacations": {"shop": pl.String, "start": pl.Int64, "end": pl.Int64},
    "conv": {"conversation": pl.String, "shop": pl.String, "at": pl.Int64, "code": pl.Int8,
             "subst": pl.Boolean, "author": pl.String},
    "ratings": {"conversation": pl.String, "at": pl.Int64, "stars": pl.Int64},
    "exclusions": {"conversation": pl.String, "at": pl.Int64, "reason": pl.String},
}


def bulk_from_events(events: list[Event]) -> BulkLog:
    """Typed events (e.g. from :func:`read_events`) -> columnar log, input order kept."""
    rows: dict[str, list[tuple[object, ...]]] = {k: [] for k in SCHEMAS}
    conv_shop: dict[str, str] = {}
    for ev in events:
        if isinstance(ev, Message):
            conv_shop.setdefault(ev.conversation, ev.shop)
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
            rows["conv"].append((ev.conversation, ev.shop, to_us(ev.at), CODE[ev.sender],
                                 subst, author))
        elif isinstance(ev, Handoff | Close):
            shop = conv_shop.get(ev.conversation)
            if shop is not None:
                code = 3 if isinstance(ev, Handoff) else 4
                rows["conv"].append((ev.conversation, shop, to_us(ev.at), code, False, None))
        elif isinstance(ev, Rating):
            rows["ratings"].append((ev.conversation, to_us(ev.at), ev.stars))
        elif isinstance(ev, Exclusion):
            rows["exclusions"].append((ev.conversation, to_us(ev.at), ev.reason))
    frames = {
        k: pl.DataFrame(rows[k], schema=SCHEMAS[k], orient="row") for k in SCHEMAS
    }
    return BulkLog(**frames)


def conv_from_messages(df: pl.DataFrame) -> pl.DataFrame:
    """Raw rows (conversation, shop, at, sender, kind, text, author) -> the ``conv`` frame.

    ``sender`` is buyer/agent/bot/platform/handoff/close. The substantive classifier runs
    once per distinct (kind, text) of agent messages (rule EV-3).
    """
    kind = pl.col("kind").fill_null("text")
    agent_text = (pl.col("sender") == "agent") & (kind == "text")
    texts = df.filter(agent_text).get_column("text").fill_null("").unique().to_list()
    verdicts = {t: is_substantive_text(t) for t in texts}
    subst = (
        pl.when(pl.col("sender") != "agent").then(False)
        .when(kind.is_in(list(NON_SUBSTANTIVE_KINDS))).then(False)
        .when(kind != "text").then(True)
        .otherwise(pl.col("text").fill_null("").replace_strict(
            verdicts, default=False, return_dtype=pl.Boolean))
    )
    codes = {"buyer": 0, "agent": 1, "bot": 2, "handoff": 3, "close": 4, "platform": 5}
    return df.select(
        "conversation", "shop", "at",
        pl.col("sender").replace_strict(codes, return_dtype=pl.Int8).alias("code"),
        subst.alias("subst"),
        pl.when(pl.col("sender") == "agent")
        .then(pl.col("author").fill_null("agent")).otherwise(None).alias("author"),
    )


def load_parquet(folder: str) -> BulkLog:
    """Read a log stored as Parquet files (shops, chatbot, vacations, messages, ratings,
    exclusions) in ``folder``; ``messages`` holds raw rows for :func:`conv_from_messages`."""
    def read(name: str) -> pl.DataFrame:
        return pl.read_parquet(f"{folder}/{name}.parquet")

    return BulkLog(
        shops=read("shops"), chatbot=read("chatbot"), vacations=read("vacations"),
        conv=conv_from_messages(read("messages")), ratings=read("ratings"),
        exclusions=read("exclusions"),
    )
