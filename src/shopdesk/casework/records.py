"""Small records shared by several processes: files, evidence, notes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shopdesk.casework.machine import InvalidInput


@dataclass(frozen=True)
class Attachment:
    """A stored file (the server keeps the bytes; the engine only its description)."""

    id: str
    file_name: str
    media_type: str
    sha256: str | None = None


@dataclass(frozen=True)
class Evidence:
    """Immutable once submitted (rule DSP-2): there is no edit or delete, only append.

    ``auto`` marks material attached by the system (``source`` = ``first_request`` or
    ``chat``); such material weighs most (DSP-2) and is flagged ``primary``.
    """

    id: str
    party: str  # buyer | seller | platform | complainant | merchant | third_party
    kind: str  # file | statement
    submitted_at: datetime
    submitted_by: str
    text: str | None = None
    attachment: Attachment | None = None
    auto: bool = False
    source: str | None = None
    primary: bool = False


@dataclass(frozen=True)
class Note:
    at: datetime
    author: str
    text: str
    audience: str = "internal"  # internal | complainant | merchant | third_party


def evidence_from_params(
    params: dict[str, Any] | Any, party: str, by: str, now: datetime, existing: tuple[Evidence, ...]
) -> Evidence:
    """Build a submitted :class:`Evidence` from action params (``id``, ``text``, ``attachment``)."""
    ev_id = params.get("evidence_id")
    if not isinstance(ev_id, str) or not ev_id:
        raise InvalidInput("evidence_id is required")
    if any(e.id == ev_id for e in existing):
        raise InvalidInput(f"evidence {ev_id} was already submitted and cannot be changed")
    text = params.get("text")
    attachment = params.get("attachment")
    if attachment is not None and not isinstance(attachment, Attachment):
        raise InvalidInput("attachment must be an Attachment")
    if not (isinstance(text, str) and text.strip()) and attachment is None:
        raise InvalidInput("evidence needs a statement text or a file")
    kind = "file" if attachment is not None else "statement"
    return Evidence(ev_id, party, kind, now, by, text, attachment)
