"""Group commit: requests that arrive while a transaction is being written share the next one.

Sending a chat message costs a few short statements, but a transaction per message costs a
commit, a connection checkout, a session and a hop to a worker thread each, and on SQLite
concurrent writers queue on the database lock with sleeping back-off. `GroupCommitter` runs
one batch at a time on a worker thread: a job submitted while a batch is in flight waits for
the next batch, which takes every job waiting at that moment (up to `max_batch`). An idle
committer starts a batch at once, so a lone request waits for nobody. A committer given an
`inline` function first tries each batch on the event loop's own thread (no hop, no GIL
hand-offs); that function gives up, rather than wait, when it cannot do the batch there.

Each submitter awaits its own outcome, which is only set after its batch's `process` returned
(for the send path: after the commit) and `deliver` ran for that batch. Batches are processed
and delivered strictly in submission order, so whatever `deliver` publishes comes out in the
order the jobs were taken — the order their sequence numbers were given.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

log = logging.getLogger(__name__)

J = TypeVar("J")
R = TypeVar("R")
T = TypeVar("T")


@dataclass(slots=True)
class Outcome(Generic[R]):
    """What one job came to: a value, or the exception its submitter should see."""

    value: R | None = None
    error: BaseException | None = None


class GroupCommitter(Generic[J, R]):
    def __init__(
        self,
        process: Callable[[list[J]], Sequence[Outcome[R]]],
        *,
        inline: Callable[[list[J]], Sequence[Outcome[R]] | None] | None = None,
        deliver: Callable[[list[J], Sequence[Outcome[R]]], Awaitable[None]] | None = None,
        max_batch: int = 256,
    ) -> None:
        """`process` runs on a worker thread and returns one outcome per job, in order; it
        must not raise (a failure is an outcome). `inline`, when given, is tried first on the
        event loop's own thread: it returns the outcomes, or None when it could not do the
        batch without waiting (nothing of it done), and `process` then does it on the thread.
        `deliver` runs on the event loop after either."""
        self._process = process
        self._inline = inline
        self._deliver = deliver
        self._max_batch = max_batch
        self._waiting: list[tuple[J, asyncio.Future[R]]] = []
        self._runner: asyncio.Task[None] | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        # Held while a batch is processed and delivered, and by `exclusive` work: other writers
        # of the same conversations (e.g. FAQ card taps) then commit and publish between two
        # batches, never inside one, so pushes stay in seq order.
        self._order = asyncio.Lock()
        self.batches = 0  # how many batches ran (for tests and diagnostics)
        self.inline_batches = 0  # how many of them `inline` did

    @property
    def queued(self) -> int:
        """Jobs waiting for the next batch."""
        return len(self._waiting)

    def _bind(self) -> asyncio.AbstractEventLoop:
        loop = asyncio.get_running_loop()
        if self.loop is not loop:
            if self._runner is not None or self._waiting or self._order.locked():
                raise RuntimeError("a busy GroupCommitter cannot change event loops")
            self.loop = loop  # idle: e.g. the app was started again under a new loop
            self._order = asyncio.Lock()
        return loop

    async def exclusive(self, work: Callable[[], Awaitable[T]]) -> T:
        """Run `work` between two batches (it writes and publishes on its own)."""
        self._bind()
        async with self._order:
            return await work()

    async def submit(self, job: J) -> R:
        loop = self._bind()
        future: asyncio.Future[R] = loop.create_future()
        self._waiting.append((job, future))
        if self._runner is None:
            self._runner = loop.create_task(self._run())
        # A caller that goes away (cancelled) does not withdraw its job: the batch may already
        # be committing, and the job completes either way; only the answer is dropped.
        return await future

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self._waiting:
                async with self._order:
                    batch = self._waiting[: self._max_batch]
                    del self._waiting[: self._max_batch]
                    jobs = [job for job, _ in batch]
                    try:
                        outcomes = self._try_inline(jobs)
                        if outcomes is None:
                            outcomes = await loop.run_in_executor(None, self._process, jobs)
                        if len(outcomes) != len(jobs):
                            raise RuntimeError("process returned the wrong number of outcomes")
                    except BaseException as exc:  # a bug in `process`: fail this batch, go on
                        log.exception("group commit batch failed")
                        outcomes = [Outcome(error=exc) for _ in jobs]
                        if isinstance(exc, asyncio.CancelledError):
                            self._settle(batch, outcomes)
                            raise
                    self.batches += 1
                    if self._deliver is not None:
                        try:
                            await self._deliver(jobs, outcomes)
                        except Exception:  # committed is committed: still answer the callers
                            log.exception("delivering a committed batch failed")
                self._settle(batch, outcomes)
        finally:
            self._runner = None
            if self._waiting:  # cancelled with jobs queued: they were never processed
                waiting, self._waiting = self._waiting, []
                self._settle(waiting, [Outcome(error=asyncio.CancelledError())] * len(waiting))

    def _try_inline(self, jobs: list[J]) -> Sequence[Outcome[R]] | None:
        if self._inline is None:
            return None
        try:
            outcomes = self._inline(jobs)
        except Exception:  # a bug in `inline`: the thread does the batch as usual
            log.exception("inline group commit failed; processing the batch on a thread")
            return None
        if outcomes is not None:
            self.inline_batches += 1
        return outcomes

    @staticmethod
    def _settle(batch: list[tuple[J, asyncio.Future[R]]], outcomes: Sequence[Outcome[R]]) -> None:
        for (_job, future), outcome in zip(batch, outcomes, strict=True):
            if future.done():  # its submitter was cancelled
                continue
            if outcome.error is not None:
                future.set_exception(outcome.error)
            else:
                future.set_result(outcome.value)  # type: ignore[arg-type]
