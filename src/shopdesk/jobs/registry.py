"""The timer handlers a server process runs, by timer kind."""

from __future__ import annotations

from shopdesk.jobs.timers import Handler
from shopdesk.store.casework_repo import TIMER_KIND as CASE_DEADLINE
from shopdesk.store.casework_repo import Publisher, deadline_handler


def handlers(publisher: Publisher | None = None) -> dict[str, Handler]:
    """Every durable timer kind and its handler. ``publisher`` pushes WebSocket frames after
    a handler's transaction commits (None: stored notifications only)."""
    from shopdesk.jobs.evaluations import TIMER_KIND as EVALUATION
    from shopdesk.jobs.evaluations import handle_timer

    return {CASE_DEADLINE: deadline_handler(publisher), EVALUATION: handle_timer}
