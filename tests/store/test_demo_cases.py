"""The demo marketplace has casework in every state of every process (issue 6)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from shopdesk.chat.attachments import check_evidence
from shopdesk.jobs.registry import handlers
from shopdesk.jobs.timers import TimerRunner
from shopdesk.store import adjusted_regions
from shopdesk.store.casework_repo import PROCESSES
from shopdesk.store.db import make_engine, make_sessionmaker
from shopdesk.store.demo_cases import seed_cases
from shopdesk.store.migrate import upgrade
from shopdesk.store.models import Attachment, Order
from shopdesk.store.models_casework import Case
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
    files = tmp_path / "attachments"
    with sessions() as db, db.begin():
        counts = seed_cases(db, clock(), files)
    for name, proc in PROCESSES.items():
        wanted = {s.name for s in proc.machine.states}
        assert wanted <= set(counts.get(name, {})), (name, wanted - set(counts.get(name, {})))
    # Nothing is overdue at `now`: starting the server changes no demo case.
    assert TimerRunner(sessions, handlers(), name="t").run_due(clock()).fired == 0
    with sessions() as db:
        # FM-1: one region in force (renewed once), one that ended early.
        regions = {adjusted_regions.state_of(r, clock()): r for r in
                   adjusted_regions.list_regions(db, clock())}
        assert sorted(regions) == ["active", "ended"]
        assert regions["active"].renewals == 1 and regions["ended"].ended_at is not None
        # The official proof of every application is a real PDF on disk (FM-4).
        for row in db.scalars(select(Case).where(Case.process == "force_majeure")):
            proof = row.data["proofs"][0]["attachment"]
            att = db.get(Attachment, int(proof["id"]))
            assert att is not None and att.content_type == "application/pdf"
            data = (files / att.path).read_bytes()
            assert check_evidence(data, 10**7, 10**8, 5).content_type == "application/pdf"
        # Orders the cases were opened from have left the warehouse, FM-affected ones not.
        for row in db.scalars(select(Case).where(Case.process == "aftersales")):
            order = db.get(Order, row.order_id)
            assert order is not None and order.shipped_at is not None
    engine.dispose()
