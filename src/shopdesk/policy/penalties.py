"""Which ledger entries an evaluation outcome or a screening violation produces (PEN-1…PEN-4).

Pure: the server passes the shop's recent outcomes in and appends what comes out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class PenaltySettings:
    warning_points: int = 0
    violation_points: int = 1
    # Consecutive violations (this one included) → sanctions added to the record (PEN-2, PEN-3).
    escalation: Mapping[int, tuple[str, ...]] = field(
        default_factory=lambda: {
            2: ("category_applications_rejected",),
            3: ("category_applications_rejected", "products_removed"),
        }
    )
    # PEN-4: a confirmed screening violation (blocked attempt or upheld flag) costs points.
    screening_points: int = 1
    blocked_attempt_points: int = 0


@dataclass(frozen=True)
class PenaltyDecision:
    kind: str  # warning | violation | escalated_violation | screening_violation
    rule: str
    points: int
    reason: str
    sanctions: tuple[str, ...] = ()


def _sanctions_for(streak: int, ladder: Mapping[int, tuple[str, ...]]) -> tuple[str, ...]:
    eligible = [n for n in ladder if n <= streak]
    return ladder[max(eligible)] if eligible else ()


def for_outcome(
    outcome: str, rate: float | None, previous: Sequence[str], settings: PenaltySettings
) -> PenaltyDecision | None:
    """`previous`: the shop's earlier outcomes, newest last, reversed ones already removed."""
    shown = f"{rate:.1%}" if rate is not None else "n/a"
    if outcome == "warning":
        # rule PEN-2: below 90% is a warning.
        return PenaltyDecision("warning", "PEN-2", settings.warning_points,
                               f"24-hour response rate {shown} is below the target")
    if outcome != "violation":
        return None
    streak = 1
    for earlier in reversed(previous):
        if earlier != "violation":
            break
        streak += 1
    sanctions = _sanctions_for(streak, settings.escalation)
    if streak >= 2 and sanctions:
        # rule PEN-2: a shop that keeps falling after its first violation gets more penalties.
        return PenaltyDecision(
            "escalated_violation", "PEN-2", settings.violation_points,
            f"24-hour response rate {shown}: violation {streak} in a row", sanctions,
        )
    return PenaltyDecision("violation", "PEN-2", settings.violation_points,
                           f"24-hour response rate {shown} is below the violation threshold")


def for_screening(rule: str, kind: str, confirmed: bool, settings: PenaltySettings
                  ) -> PenaltyDecision:
    """rule PEN-4: screening violations count against account health."""
    points = settings.screening_points if confirmed else settings.blocked_attempt_points
    what = "confirmed by platform review" if confirmed else "blocked before delivery"
    return PenaltyDecision("screening_violation", rule, points,
                           f"message breaking {rule} ({kind}) {what}")
