"""Message screening (SPEC §4, rules SCR-1…SCR-12, SCR-D1, SCR-D2). Pure: no I/O but images."""

from shopdesk.screening.conversation import ConversationScreener
from shopdesk.screening.engine import find_contacts, screen_message
from shopdesk.screening.model import Finding, ScreenResult
from shopdesk.screening.policy import ScreeningPolicy, load_policy, policy_from_dict

__all__ = [
    "ConversationScreener",
    "Finding",
    "ScreenResult",
    "ScreeningPolicy",
    "find_contacts",
    "load_policy",
    "policy_from_dict",
    "screen_message",
]
