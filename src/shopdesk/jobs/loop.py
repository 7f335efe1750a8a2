"""The timer loop inside a server process."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Callable
from datetime import datetime

from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session, sessionmaker

from shopdesk.jobs.timers import Handler, TimerRunner

log = logging.getLogger(__name__)


def runner_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class TimerLoop:
    def __init__(
        self, sessions: sessionmaker[Session], handlers: dict[str, Handler],
        clock: Callable[[], datetime], interval: float = 5.0,
    ) -> None:
        self.runner = TimerRunner(sessions, handlers, name=runner_name())
        self.clock = clock
        self.interval = interval
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._loop())

    async def _loop(self) -> None:
        while True:
            try:
                await run_in_threadpool(self.runner.run_due, self.clock())
            except asyncio.CancelledError:
                raise
            except Exception:  # a broken database must not kill the server's loop
                log.exception("timer loop failed; retrying")
            await asyncio.sleep(self.interval)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
