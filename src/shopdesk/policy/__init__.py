"""Service metrics (SPEC §5, §6, §13): pure evaluation of shops from their event logs.

Public API for the server and the CLI:

* :func:`load_profile` — ``us``, ``cross-border`` or a marketplace's TOML file.
* :func:`read_events` — CONTRACTS §1 JSON Lines -> typed events (+ warnings).
* :func:`group_by_shop` + :func:`evaluate_shop` — one shop (reference evaluator).
* :func:`evaluate_log` — every shop of a log (reference evaluator).
* :func:`bulk_from_events` / :func:`load_parquet` + ``shopdesk.policy.evaluate_bulk.evaluate_bulk``
  — marketplace scale (not re-exported here: it would shadow its module).
* :func:`report_to_json` — the CONTRACTS §2 JSON.
"""

from shopdesk.policy.bulk_frames import BulkLog, bulk_from_events, load_parquet
from shopdesk.policy.evaluate_reference import evaluate_log, evaluate_shop
from shopdesk.policy.events import (
    ChatbotSwitch,
    Close,
    Event,
    Exclusion,
    Handoff,
    Message,
    Rating,
    ShopDecl,
    ShopLog,
    Vacation,
    group_by_shop,
)
from shopdesk.policy.jsonl import EventLogError, read_events
from shopdesk.policy.profiles import Profile, ProfileError, load_profile
from shopdesk.policy.report import SessionResult, ShopEvaluation, report_to_json

__all__ = [
    "BulkLog", "ChatbotSwitch", "Close", "Event", "EventLogError", "Exclusion", "Handoff",
    "Message", "Profile", "ProfileError", "Rating", "SessionResult", "ShopDecl",
    "ShopEvaluation", "ShopLog", "Vacation", "bulk_from_events",
    "evaluate_log", "evaluate_shop", "group_by_shop", "load_parquet", "load_profile",
    "read_events", "report_to_json",
]
