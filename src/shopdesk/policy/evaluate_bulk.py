"""The bulk evaluator: every shop of a marketplace at once, same results as the reference.

Why Polars: a marketplace batch is tens of millions of events. Row-by-row Python (the
reference) spends microseconds per event on object creation and datetime arithmetic;
Polars keeps the columns in Arrow memory, sorts, joins (as-of joins for chatbot state,
vacations and exclusions) and aggregates in multi-threaded native code. The one stateful
part, sessionisation, runs as a lockstep numpy state machine (see ``sessions_bulk``).
Calendar questions (offsets, weekend deadlines, windows) are answered by the same zoneinfo
code as the reference, once per distinct (time zone, 15-minute bucket / local date), so
the two evaluators agree to the microsecond, DST included.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import numpy as np
import polars as pl

from shopdesk.policy.bulk_frames import BulkLog, from_us, to_us
from shopdesk.policy.evaluate_reference import _outcome
from shopdesk.policy.localtime import minus_local_days, weekend_deadline_from_date, window_for
from shopdesk.policy.profiles import Profile
from shopdesk.policy.report import SessionResult, ShopEvaluation
from shopdesk.policy.sessions_bulk import INF, sessionise_bulk

DAY_US = 86_400 * 10**6
BUCKET_US = 900 * 10**6  # tz transitions fall on whole quarter hours (UTC) in the tz database


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


def _local_us(df: pl.DataFrame, col: str) -> pl.Series:
    """Local wall-clock microseconds of ``col`` in the row's ``tz`` (rule EV-1)."""
    keys = df.select("tz", (pl.col(col) // BUCKET_US).alias("b")).unique()
    offs = [_offset_us(tz, int(b)) for tz, b in keys.iter_rows()]
    keys = keys.with_columns(pl.Series("off", offs, dtype=pl.Int64))
    joined = df.select("tz", (pl.col(col) // BUCKET_US).alias("b"), pl.col(col)).join(
        keys, on=["tz", "b"], how="left", maintain_order="left"
    )
    return joined["off"] + joined[col]


def _merged_vacations(vac: pl.DataFrame, now: dict[str, int]) -> pl.DataFrame:
    """Disjoint [start, end) intervals per shop (vacations begun by the evaluation instant)."""
    out: list[tuple[str, int, int]] = []
    rows = sorted(vac.iter_rows(), key=lambda r: (r[0], r[1]))
    for shop, start, end in rows:
        end = int(INF) if end is None else end
        if start > now.get(shop, -1) or end <= start:
            continue
        if out and out[-1][0] == shop and start <= out[-1][2]:
            out[-1] = (shop, out[-1][1], max(out[-1][2], end))
        else:
            out.append((shop, start, end))
    return pl.DataFrame(out, schema={"shop": pl.String, "vstart": pl.Int64, "vend": pl.Int64},
                        orient="row").sort("vstart")


def _in_vacation(df: pl.DataFrame, col: str, vac: pl.DataFrame) -> pl.Series:
    if vac.height == 0:
        return pl.Series("vac", [False] * df.height, dtype=pl.Boolean)
    j = df.select("shop", pl.col(col), pl.int_range(pl.len()).alias("_i")).sort(col).join_asof(
        vac, left_on=col, right_on="vstart", by="shop", strategy="backward", check_sortedness=False
    ).sort("_i")
    return (j["vend"].is_not_null() & (j[col] < j["vend"])).alias("vac")


def evaluate_bulk(
    log: BulkLog, profile: Profile, at: datetime, shop: str | None = None, explain: bool = False
) -> list[ShopEvaluation]:
    """Evaluate every shop (or one) like :func:`evaluate_reference.evaluate_log`."""
    at_us = to_us(at)
    conv = log.conv.filter(pl.col("at") <= at_us)
    # a conversation belongs to a shop through its messages (handoff/close rows alone: dropped)
    conv_shop = conv.filter(pl.col("code") != 3, pl.col("code") != 4).group_by(
        "conversation").agg(pl.col("shop").first())
    # integer conversation ids: every later sort, group-by and as-of join works on integers
    conv_shop = conv_shop.with_row_index("cid")
    conv = conv.join(conv_shop.select("conversation", "cid"), on="conversation").drop(
        "conversation")
    shop_tz: dict[str, str] = {}
    for name in sorted(set(
        conv["shop"].unique().to_list()
        + log.vacations.filter(pl.col("start") <= at_us)["shop"].unique().to_list()
        + log.chatbot.filter(pl.col("at") <= at_us)["shop"].unique().to_list()
    )):
        shop_tz.setdefault(name, "UTC")
    for name, tz in log.shops.iter_rows():
        shop_tz[name] = tz
    if shop is not None:
        shop_tz = {shop: shop_tz.get(shop, "UTC")}
    # Windows per distinct time zone (rule EV-8), shared code with the reference.
    tz_rows = []
    for tz in set(shop_tz.values()):
        z = ZoneInfo(tz)
        win = window_for(profile, z, at)
        since = minus_local_days(win.evaluated_at, z, profile.satisfaction_days)
        tz_rows.append((tz, to_us(win.start), to_us(win.end), to_us(win.evaluated_at),
                        to_us(since)))
    tzs = pl.DataFrame(tz_rows, schema={"tz": pl.String, "ws": pl.Int64, "we": pl.Int64,
                                        "now": pl.Int64, "since": pl.Int64}, orient="row")
    shops = pl.DataFrame({"shop": list(shop_tz), "tz": list(shop_tz.values())},
                         schema={"shop": pl.String, "tz": pl.String}).join(tzs, on="tz")
    now_of = dict(zip(shops["shop"].to_list(), shops["now"].to_list(), strict=True))

    ev = (
        conv.with_row_index("seq")
        .join(shops, on="shop", how="inner")
        .filter(pl.col("at") <= pl.col("now"))
        .sort(["cid", "at", "seq"])
    )
    # rows are sorted by (conversation id, time, input order), as sessionise_bulk needs
    bs = sessionise_bulk(ev["cid"].to_numpy().astype(np.int64),
                         ev["at"].to_numpy().astype(np.int64),
                         ev["code"].to_numpy().astype(np.int8), profile)
    ev = ev.with_columns(pl.Series("sid", bs.event_sid))
    vac = _merged_vacations(log.vacations, now_of)

    # Buyer messages for the volume gate (rule EV-9).
    buyers = ev.filter((pl.col("code") == 0) & (pl.col("at") >= pl.col("ws"))
                       & (pl.col("at") < pl.col("we")))
    buyers = buyers.with_columns(_in_vacation(buyers, "at", vac))
    gate = buyers.filter(~pl.col("vac")).group_by("shop").agg(pl.len().alias("buyer_messages"))

    # Sessions (rule EV-2, EV-4, EV-6).
    # rows are in time order inside a session, so "first"/"last" are positional (row r)
    code = pl.col("code")
    is_reply = (code == 1) & pl.col("subst")
    members = ev.filter(pl.col("sid") >= 0).with_row_index("r")
    sess = members.group_by("sid").agg(
        pl.col("cid").first(),
        pl.col("shop").first(),
        pl.col("tz").first(), pl.col("ws").first(), pl.col("we").first(),
        pl.col("now").first(),
        (code == 2).sum().alias("n_auto"),
        (code == 1).sum().alias("n_human"),
        (code == 3).any().alias("handoff"),
        pl.when(code <= 2).then(pl.col("r")).max().alias("last_msg_r"),
        pl.when(code == 2).then(pl.col("r")).max().alias("last_auto_r"),
        pl.when(is_reply).then(pl.col("r")).min().alias("reply_r"),
    ).with_columns((pl.col("last_msg_r") == pl.col("last_auto_r")).fill_null(False)
                   .alias("last_auto"))
    replies = members.filter(is_reply).select(
        pl.col("r").alias("reply_r"), pl.col("at").alias("reply"),
        pl.col("author").alias("reply_by"))
    sess = sess.join(replies, on="reply_r", how="left")
    sess = sess.with_columns(
        pl.Series("start", bs.start[sess["sid"].to_numpy()]),
        pl.Series("end", bs.end[sess["sid"].to_numpy()]),
    ).with_columns(
        ((pl.col("n_auto") > 0) & (pl.col("n_human") == 0) & ~pl.col("handoff")
         & pl.col("last_auto")).alias("bot_only")  # rule EV-4
    )
    sess = sess.filter(
        ((pl.col("start") >= pl.col("ws")) & (pl.col("start") < pl.col("we")))
        | (pl.col("start") >= pl.col("we")) | (pl.col("end") >= pl.col("ws"))
    )

    # Chatbot state at the start (rule EV-5): latest switch at or before it, last on ties.
    bot = (
        log.chatbot.with_row_index("seq").sort(["at", "seq"])
        .unique(["shop", "at"], keep="last").sort("at").drop("seq")
    )
    sess = sess.sort("start")
    if bot.height:
        sess = sess.join_asof(bot.rename({"at": "bot_at"}), left_on="start", right_on="bot_at",
                              by="shop", strategy="backward", check_sortedness=False)
        sess = sess.with_columns(pl.col("enabled").fill_null(False).alias("bot_on"))
    else:
        sess = sess.with_columns(pl.lit(False).alias("bot_on"))

    # Deadlines (rule EV-5) with shop-local weekdays from zoneinfo offsets.
    rw = profile.reply_window // timedelta(microseconds=1)
    sess = sess.with_columns((pl.col("start") + rw).alias("plain"))
    sess = sess.with_columns(_local_us(sess, "start").alias("l_start"),
                             _local_us(sess, "plain").alias("l_plain"))
    wd = ((pl.col("l_start") // DAY_US) + 3) % 7
    wd_plain = ((pl.col("l_plain") // DAY_US) + 3) % 7
    weekendish = (wd >= 5) | (wd_plain >= 5)
    use_weekend = weekendish & pl.col("bot_on") & pl.lit(profile.weekend_rule)
    sess = sess.with_columns(use_weekend.alias("wk"),
                             ((pl.col("l_start") % DAY_US) // 10**6).alias("tod"))
    sess = sess.with_columns((pl.col("l_start") // DAY_US).alias("lday"))
    wk_rows = sess.filter(pl.col("wk")).select("tz", "lday").unique()
    wk_map = pl.DataFrame(
        {"tz": wk_rows["tz"], "lday": wk_rows["lday"],
         "wdl": [_weekend_deadline_us(tz, d, profile) for tz, d in wk_rows.iter_rows()]},
        schema={"tz": pl.String, "lday": pl.Int64, "wdl": pl.Int64},
    )
    sess = sess.join(wk_map, on=["tz", "lday"], how="left").with_columns(
        pl.when(pl.col("wk")).then(pl.col("wdl")).otherwise(pl.col("plain")).alias("deadline")
    )

    # Exclusions (rule SCR-12, MET-2): latest session of the conversation started at/before.
    exc = log.exclusions.join(conv_shop, on="conversation").join(
        shops.select("shop", "now"), on="shop").filter(pl.col("at") <= pl.col("now"))
    all_sess = pl.DataFrame({"sid": np.arange(len(bs.start)), "start": bs.start}).join(
        ev.filter(pl.col("sid") >= 0).group_by("sid").agg(pl.col("cid").first()),
        on="sid").sort("start")
    if exc.height:
        hit = exc.sort("at").join_asof(all_sess, left_on="at", right_on="start",
                                       by="cid", strategy="backward",
                                       check_sortedness=False)
        reasons = hit.filter(pl.col("sid").is_not_null()).group_by("sid").agg(
            (pl.col("reason") == "verified_report").any().alias("vr"),
            (pl.col("reason") == "platform_handled").any().alias("ph"),
        )
        sess = sess.join(reasons, on="sid", how="left")
    else:
        sess = sess.with_columns(pl.lit(None, pl.Boolean).alias("vr"),
                                 pl.lit(None, pl.Boolean).alias("ph"))
    sess = sess.with_columns(pl.col("vr").fill_null(False), pl.col("ph").fill_null(False),
                             _in_vacation(sess, "start", vac))

    in_window = (pl.col("start") >= pl.col("ws")) & (pl.col("start") < pl.col("we"))
    status = (
        pl.when(~in_window).then(pl.lit("outside_window"))
        .when(pl.col("vr")).then(pl.lit("verified_report"))
        .when(pl.col("ph")).then(pl.lit("platform_handled"))
        .when(pl.col("vac")).then(pl.lit("vacation"))
        .when(pl.col("bot_only")).then(pl.lit("bot_only"))
        .when((pl.col("tod") < profile.hours_from_s) | (pl.col("tod") >= profile.hours_until_s))
        .then(pl.lit("outside_hours"))
        .when(pl.col("reply").is_not_null() & (pl.col("reply") <= pl.col("deadline")))
        .then(pl.lit("answered_in_time"))
        .when(pl.col("reply").is_not_null()).then(pl.lit("late"))
        .when(pl.col("deadline") > pl.col("now")).then(pl.lit("pending"))
        .otherwise(pl.lit("unanswered"))
    )
    sess = sess.with_columns(status.alias("status"), in_window.alias("in_window"))
    counted_expr = pl.col("status").is_in(["answered_in_time", "late", "pending", "unanswered"])
    agg = sess.group_by("shop").agg(
        pl.col("in_window").sum().alias("sessions"),
        counted_expr.sum().alias("counted"),
        (pl.col("status") == "pending").sum().alias("pending"),
        (pl.col("status") == "answered_in_time").sum().alias("in_time"),
        (pl.col("reply") - pl.col("start")).filter(counted_expr & pl.col("reply").is_not_null())
        .alias("frt"),
    ).with_columns(
        pl.col("frt").list.len().alias("frt_n"), pl.col("frt").list.sum().alias("frt_sum"),
        pl.col("frt").list.median().alias("frt_median"),
    ).drop("frt")

    # Satisfaction (rule EV-10).
    rat = log.ratings.join(conv_shop, on="conversation").join(
        shops.select("shop", "now", "since"), on="shop"
    ).filter((pl.col("at") > pl.col("since")) & (pl.col("at") <= pl.col("now")))
    sat = rat.group_by("shop").agg(
        pl.len().alias("ratings"),
        (pl.col("stars") >= profile.satisfaction_min_stars).sum().alias("good"),
    )

    table = (shops.join(gate, on="shop", how="left").join(agg, on="shop", how="left")
             .join(sat, on="shop", how="left").sort("shop"))
    details: dict[str, list[SessionResult]] = {}
    if explain:
        named = sess.join(conv_shop.select("cid", "conversation"), on="cid")
        for row in named.sort(["start", "conversation", "sid"]).select(
            "shop", "conversation", "start", "deadline", "status", "reply", "reply_by"
        ).iter_rows():
            details.setdefault(row[0], []).append(SessionResult(
                row[1], from_us(row[2]), from_us(row[3]), row[4],
                None if row[5] is None else from_us(row[5]), row[6]))
    out: list[ShopEvaluation] = []
    for r in table.iter_rows(named=True):
        buyer_messages = r["buyer_messages"] or 0
        counted, pending, in_time = r["counted"] or 0, r["pending"] or 0, r["in_time"] or 0
        gate_ok = buyer_messages >= profile.gate_min_buyer_messages
        denominator = counted - pending
        rate = in_time / denominator if denominator else None
        n = r["frt_n"] or 0
        median = r["frt_median"] / 1e6 if n else None
        mean = r["frt_sum"] / n / 1e6 if n else None
        if not gate_ok and profile.gate_below == "not_evaluated":
            rate = median = mean = None
        ratings, good = r["ratings"] or 0, r["good"] or 0
        out.append(ShopEvaluation(
            shop=r["shop"], timezone=r["tz"], window_start=from_us(r["ws"]),
            window_end=from_us(r["we"]), evaluated_at=from_us(r["now"]),
            buyer_messages=buyer_messages, sessions=r["sessions"] or 0, counted=counted,
            pending=pending, answered_in_time=in_time, response_rate=rate, ratings=ratings,
            satisfaction_rate=good / ratings if ratings else None,
            first_response_median_s=median, first_response_mean_s=mean,
            outcome=_outcome(profile, rate, gate_ok),
            sessions_detail=tuple(details.get(r["shop"], ())),
        ))
    return out

