"""The demo marketplace has casework in every state of every process (issue 6)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from shopdesk.jobs.registry import handlers
from shopdesk.jobs.timers import TimerRunner
from shopdesk.store.casework_repo import PROCESSES
from shopdesk.store.db import make_engine, make_sessionmaker
from shopdesk.store.demo_cases import seed_cases
from shopdesk.store.migrate import upgrade
from tests.support.world import FakeClock, build_world


@pytest.mark.parametrize("process", sorted(PROCESSES))
def test_machine_states_are_known(process: str) -> None:
    assert PROCESSES[process].machine.states


def test_every_state_of_every_process(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    upgrade(url)
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    clock = FakeClock()
    build_world(sessions, clock() - timedelta(days=60))
    with sessions() as db, db.begin():
        counts = seed_cases(db, clock())
    for name, proc in PROCESSES.items():
        wanted = {s.name for s in proc.machine.states}
        assert wanted <= set(counts.get(name, {})), (name, wanted - set(counts.get(name, {})))
    # Nothing is overdue at `now`: starting the server changes no demo case.
    assert TimerRunner(sessions, handlers(), name="t").run_due(clock()).fired == 0
    engine.dispose()
