"""Casework policy settings: durations, business-day counts, deadline actions (TOML).

The defaults live in ``policy.toml`` next to this module (package data). ``load_policy``
validates strictly: unknown keys, missing keys and bad values raise :class:`PolicyError`
naming the dotted key (``aftersales.missed_response_action: must be one of …``).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

from shopdesk.casework.codec import DecodeError, from_data

POSITIVE = {"min": 1}
NON_NEGATIVE = {"min": 0}


class PolicyError(ValueError):
    """A bad policy setting; ``key`` is its dotted name."""

    def __init__(self, key: str, message: str) -> None:
        self.key = key
        super().__init__(f"casework policy: {key}: {message}")


@dataclass(frozen=True)
class CalendarSettings:
    weekend_days: frozenset[int] = field(default=frozenset({5, 6}))
    extra_closed_dates: frozenset[date] = frozenset()
    extra_open_dates: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        bad = [d for d in self.weekend_days if not 0 <= d <= 6]
        if bad:
            raise ValueError(f"weekend_days must be 0 (Monday) … 6 (Sunday), got {sorted(bad)}")


@dataclass(frozen=True)
class PlatformTerms:
    """Rule AS-5: the platform's minimum after-sales terms (windows in calendar days)."""

    cancellation_before_shipment: bool = True
    return_window_days: int = field(default=15, metadata=NON_NEGATIVE)
    refund_window_days: int = field(default=15, metadata=NON_NEGATIVE)
    exchange_window_days: int = field(default=15, metadata=NON_NEGATIVE)
    repair_window_days: int = field(default=30, metadata=NON_NEGATIVE)
    seller_pays_return_shipping_for_defects: bool = True


@dataclass(frozen=True)
class AfterSalesSettings:
    refund_response_business_days: int = field(default=2, metadata=POSITIVE)
    other_response_business_days: int = field(default=2, metadata=POSITIVE)
    completion_business_days: int = field(default=10, metadata=POSITIVE)
    missed_response_action: str = field(
        default="escalate", metadata={"choices": ("escalate", "auto_accept", "notify")}
    )
    missed_completion_action: str = field(
        default="escalate", metadata={"choices": ("escalate", "notify")}
    )
    buyer_reply_days: int = field(default=3, metadata=POSITIVE)
    escalation_window_days: int = field(default=7, metadata=POSITIVE)
    platform_terms: PlatformTerms = field(default_factory=PlatformTerms)


@dataclass(frozen=True)
class DisputeSettings:
    evidence_window_hours: int = field(default=72, metadata=POSITIVE)
    review_hours: int = field(default=48, metadata=POSITIVE)
    no_service_review_hours: int = field(default=48, metadata=POSITIVE)
    appeal_window_days: int = field(default=7, metadata=POSITIVE)
    max_appeals: int = field(default=1, metadata=NON_NEGATIVE)


@dataclass(frozen=True)
class ByUrgency:
    high: int = field(metadata=POSITIVE)
    medium: int = field(metadata=POSITIVE)
    low: int = field(metadata=POSITIVE)

    def get(self, urgency: str) -> int:
        return int(getattr(self, str(urgency)))


@dataclass(frozen=True)
class ComplaintSettings:
    acknowledge_hours: ByUrgency = field(default_factory=lambda: ByUrgency(2, 8, 24))
    resolve_business_days: ByUrgency = field(default_factory=lambda: ByUrgency(2, 5, 10))
    confirmation_days: int = field(default=7, metadata=POSITIVE)
    follow_up_days: int = field(default=7, metadata=POSITIVE)


@dataclass(frozen=True)
class ForceMajeureSettings:
    region_extension_days: int = field(default=7, metadata=POSITIVE)
    review_hours: int = field(default=48, metadata=POSITIVE)
    max_extension_days: int = field(default=30, metadata=POSITIVE)
    max_region_period_days: int = field(default=90, metadata=POSITIVE)
    ship_within_business_days: int = field(default=2, metadata=POSITIVE)
    accepted_proof_kinds: frozenset[str] = frozenset(
        {
            "government_notice",
            "work_stoppage_certificate",
            "official_certificate",
            "carrier_official_notice",
        }
    )
    accepted_media_types: frozenset[str] = frozenset({"application/pdf", "image/jpeg", "image/png"})


@dataclass(frozen=True)
class TicketSettings:
    auto_close_days: int = field(default=3, metadata=POSITIVE)
    reopen_days: int = field(default=7, metadata=POSITIVE)
    routing: dict[str, str] = field(
        default_factory=lambda: {
            "misconduct_report": "trust_and_safety",
            "force_majeure": "seller_operations",
            "appeal": "appeals",
            "help_centre": "buyer_support",
            "offline_shop": "shop",
        }
    )


@dataclass(frozen=True)
class CaseworkPolicy:
    calendar: CalendarSettings = field(default_factory=CalendarSettings)
    aftersales: AfterSalesSettings = field(default_factory=AfterSalesSettings)
    disputes: DisputeSettings = field(default_factory=DisputeSettings)
    complaints: ComplaintSettings = field(default_factory=ComplaintSettings)
    force_majeure: ForceMajeureSettings = field(default_factory=ForceMajeureSettings)
    tickets: TicketSettings = field(default_factory=TicketSettings)


def parse_policy(data: dict[str, Any]) -> CaseworkPolicy:
    """Validate plain data (as read from TOML) into a policy; raises :class:`PolicyError`."""
    try:
        policy = from_data(CaseworkPolicy, data)
    except DecodeError as exc:
        raise PolicyError(exc.path, str(exc).split(": ", 1)[1]) from None
    from shopdesk.casework.tickets import TicketKind  # late import: tickets imports policy

    missing = sorted(k.value for k in TicketKind if k.value not in policy.tickets.routing)
    if missing:
        raise PolicyError("tickets.routing", f"no team for ticket kinds {missing}")
    unknown = sorted(set(policy.tickets.routing) - {k.value for k in TicketKind})
    if unknown:
        raise PolicyError(f"tickets.routing.{unknown[0]}", "unknown ticket kind")
    return policy


def default_policy_text() -> str:
    return resources.files("shopdesk.casework").joinpath("policy.toml").read_text("utf-8")


def load_policy(path: str | Path | None = None) -> CaseworkPolicy:
    """Load the policy TOML at ``path`` (default: the packaged ``policy.toml``)."""
    text = default_policy_text() if path is None else Path(path).read_text("utf-8")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError("<file>", f"not valid TOML: {exc}") from None
    return parse_policy(data)
