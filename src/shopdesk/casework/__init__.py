"""Pure casework engine (issue 6): after-sales requests, disputes, complaints, force
majeure and tickets as explicit state machines (see docs/casework.md).

No database, no web, no clock: every function takes ``now`` and a
:class:`~shopdesk.casework.machine.Context` (policy + the shop's business calendar) and returns
a :class:`~shopdesk.casework.machine.Result` (new case, timeline events, deadlines to arm and
to cancel). Each process module offers ``open_…``/``submit_…``, ``apply(case, action, actor,
now, ctx, params)`` and ``fire(case, deadline_name, now, ctx)``.
"""
