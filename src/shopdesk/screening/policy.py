"""Screening policies: an action per rule (rule SCR-D1), loaded from TOML package data."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

ACTIONS = ("block", "flag", "allow")


@dataclass(frozen=True, slots=True)
class ScreeningPolicy:
    name: str
    actions: dict[str, str]
    allow_domains: frozenset[str] = field(default_factory=frozenset)
    buyer_rules: frozenset[str] = frozenset({"SCR-8", "SCR-11"})
    buyer_action: str = "flag"

    def action(self, rule: str, sender: str) -> str:
        if sender == "buyer":
            return self.buyer_action if rule in self.buyer_rules else "allow"
        return self.actions.get(rule, "flag")


def policy_from_dict(data: dict[str, Any]) -> ScreeningPolicy:
    """A policy from a parsed TOML/JSON mapping (rule SCR-D1)."""
    actions = {str(k): str(v) for k, v in dict(data.get("actions", {})).items()}
    for rule, act in actions.items():
        if act not in ACTIONS:
            raise ValueError(f"policy action for {rule} must be one of {ACTIONS}, not {act!r}")
    return ScreeningPolicy(
        name=str(data.get("name", "custom")),
        actions=actions,
        allow_domains=frozenset(str(d).lower() for d in data.get("allow_domains", [])),
        buyer_rules=frozenset(
            str(r) for r in data.get("buyer_rules", ["SCR-8", "SCR-11", "SCR-12"])
        ),
        buyer_action=str(data.get("buyer_action", "flag")),
    )


@lru_cache(maxsize=8)
def load_policy(name: str = "us") -> ScreeningPolicy:
    """The named policy profile shipped with the package (``policy_<name>.toml``)."""
    try:
        text = (
            resources.files("shopdesk.screening").joinpath(f"policy_{name}.toml").read_text("utf-8")
        )
    except FileNotFoundError as exc:
        raise ValueError(f"unknown screening policy {name!r}") from exc
    return policy_from_dict(tomllib.loads(text))
