"""The group committer: jobs that arrive while a batch is being written share the next one."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence

import pytest

from shopdesk.chat.group_commit import GroupCommitter, Outcome


class Recorder:
    """A `process` that records its batches; the first batch waits for `release`."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []
        self.release = threading.Event()
        self.delivered: list[str] = []

    def process(self, jobs: list[str]) -> list[Outcome[str]]:
        if not self.batches:
            assert self.release.wait(5)
        self.batches.append(list(jobs))
        if "crash" in jobs:
            raise RuntimeError("the database went away")
        return [Outcome(error=ValueError(j)) if j.startswith("bad") else Outcome(j.upper())
                for j in jobs]

    async def deliver(self, jobs: list[str], outcomes: Sequence[Outcome[str]]) -> None:
        self.delivered += [o.value for o in outcomes if o.value is not None]


async def _submit_while_first_is_held(rec: Recorder, later: list[str]
                                      ) -> list[str | BaseException]:
    committer: GroupCommitter[str, str] = GroupCommitter(rec.process, deliver=rec.deliver)
    tasks = [asyncio.create_task(committer.submit("first"))]
    await asyncio.sleep(0.01)
    for job in later:
        tasks.append(asyncio.create_task(committer.submit(job)))
        await asyncio.sleep(0)
    await asyncio.sleep(0.01)
    assert committer.queued == len(later)
    rec.release.set()
    return list(await asyncio.gather(*tasks, return_exceptions=True))


def test_jobs_waiting_during_a_batch_share_the_next_one_in_order() -> None:
    rec = Recorder()
    results = asyncio.run(_submit_while_first_is_held(rec, ["a", "b", "c"]))
    assert results == ["FIRST", "A", "B", "C"]
    assert rec.batches == [["first"], ["a", "b", "c"]]
    assert rec.delivered == ["FIRST", "A", "B", "C"]  # delivered batch by batch, in order


def test_a_refused_job_fails_alone() -> None:
    rec = Recorder()
    results = asyncio.run(_submit_while_first_is_held(rec, ["a", "bad-1", "c"]))
    assert results[:2] == ["FIRST", "A"] and results[3] == "C"
    assert isinstance(results[2], ValueError) and str(results[2]) == "bad-1"


def test_a_crashing_batch_fails_its_jobs_and_the_next_batch_still_runs() -> None:
    rec = Recorder()

    async def scenario() -> tuple[list[str | BaseException], str]:
        results = await _submit_while_first_is_held(rec, ["a", "crash"])
        committer = GroupCommitter(rec.process)
        return results, await committer.submit("after")

    results, after = asyncio.run(scenario())
    assert results[0] == "FIRST"
    assert all(isinstance(r, RuntimeError) for r in results[1:])
    assert after == "AFTER"


def test_an_idle_committer_starts_at_once_and_a_cancelled_caller_does_not_cancel_its_job(
) -> None:
    rec = Recorder()
    rec.release.set()

    async def scenario() -> None:
        committer: GroupCommitter[str, str] = GroupCommitter(rec.process)
        assert await asyncio.wait_for(committer.submit("solo"), 2) == "SOLO"
        task = asyncio.create_task(committer.submit("gone"))
        await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert await committer.submit("next") == "NEXT"
        assert committer.batches >= 2

    asyncio.run(scenario())
    assert ["gone"] in rec.batches or any("gone" in b for b in rec.batches)


def test_exclusive_work_runs_between_batches_never_inside_one() -> None:
    """A card tap (KB-4) writes and publishes on its own: it must not interleave with a batch's
    commit and delivery, or the conversation's pushes would leave seq order."""
    rec = Recorder()

    async def scenario() -> list[str]:
        committer: GroupCommitter[str, str] = GroupCommitter(rec.process, deliver=rec.deliver)
        first = asyncio.create_task(committer.submit("first"))
        await asyncio.sleep(0.01)  # the first batch is in flight, held by `release`

        async def tap() -> str:
            rec.delivered.append("TAP")
            return "tapped"

        tapped = asyncio.create_task(committer.exclusive(tap))
        await asyncio.sleep(0.01)
        assert rec.delivered == []  # waits for the batch in flight
        rec.release.set()
        assert await tapped == "tapped"
        assert await first == "FIRST"
        assert await committer.submit("after") == "AFTER"
        return rec.delivered

    assert asyncio.run(scenario()) == ["FIRST", "TAP", "AFTER"]
