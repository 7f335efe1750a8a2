"""Real-time fan-out: frames for users go to every socket those users hold, in any process.

`LocalHub` keeps this process's sockets. `InProcessBroker` hands frames straight to it;
`RedisBroker` publishes them on one Redis channel that every server process subscribes to,
and each process delivers to its own sockets.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import defaultdict
from collections.abc import Iterable
from typing import Any, Protocol

log = logging.getLogger(__name__)

CHANNEL = "shopdesk:frames"


class Socket(Protocol):
    async def send_text(self, data: str) -> None: ...


class LocalHub:
    def __init__(self) -> None:
        self._sockets: dict[int, set[Socket]] = defaultdict(set)
        self._staff: set[Socket] = set()

    def add(self, user_id: int, socket: Socket, *, staff: bool = False) -> None:
        self._sockets[user_id].add(socket)
        if staff:
            self._staff.add(socket)

    def remove(self, user_id: int, socket: Socket) -> int:
        """Forget a socket; returns how many sockets the user still has here."""
        sockets = self._sockets.get(user_id)
        self._staff.discard(socket)
        if sockets is None:
            return 0
        sockets.discard(socket)
        if not sockets:
            del self._sockets[user_id]
            return 0
        return len(sockets)

    def connected(self, user_id: int) -> bool:
        return bool(self._sockets.get(user_id))

    async def deliver(self, user_ids: Iterable[int], text: str, *, staff: bool) -> None:
        targets: set[Socket] = set()
        for uid in user_ids:
            targets |= self._sockets.get(uid, set())
        if staff:
            targets |= self._staff
        # One after the other: a send only hands the frame to the socket's transport (the
        # server's WebSocket protocol does not wait for the client), so a task per socket
        # would cost more than it overlaps.
        for socket in targets:
            try:
                await socket.send_text(text)
            except Exception as exc:
                log.debug("dropping frame for a closing socket: %s", exc)


class Broker(Protocol):
    hub: LocalHub

    async def start(self) -> None: ...
    async def stop(self) -> None: ...
    async def publish(self, user_ids: Iterable[int], frame: dict[str, Any]) -> None: ...
    async def publish_text(self, user_ids: Iterable[int], text: str) -> None: ...


class InProcessBroker:
    def __init__(self) -> None:
        self.hub = LocalHub()

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def publish(self, user_ids: Iterable[int], frame: dict[str, Any]) -> None:
        await self.publish_text(user_ids, json.dumps(frame))

    async def publish_text(self, user_ids: Iterable[int], text: str) -> None:
        """A frame already encoded as JSON."""
        await self.hub.deliver(user_ids, text, staff=True)


class RedisBroker:
    def __init__(self, url: str) -> None:
        from redis import asyncio as aioredis

        self.hub = LocalHub()
        self._redis = aioredis.from_url(url)
        self._task: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()

    async def start(self) -> None:
        await self._redis.ping()  # fail at start-up, not at the first message
        self._task = asyncio.create_task(self._listen())
        await asyncio.wait_for(self._ready.wait(), timeout=10)

    async def _listen(self) -> None:
        while True:
            try:
                async with self._redis.pubsub() as pubsub:
                    await pubsub.subscribe(CHANNEL)
                    self._ready.set()
                    async for item in pubsub.listen():
                        if item.get("type") != "message":
                            continue
                        envelope = json.loads(item["data"])
                        await self.hub.deliver(envelope["users"], envelope["frame"], staff=True)
            except asyncio.CancelledError:
                raise
            except Exception:  # keep delivering after a Redis hiccup
                log.exception("redis subscription failed; reconnecting")
                await asyncio.sleep(0.5)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._redis.aclose()

    async def publish(self, user_ids: Iterable[int], frame: dict[str, Any]) -> None:
        await self.publish_text(user_ids, json.dumps(frame))

    async def publish_text(self, user_ids: Iterable[int], text: str) -> None:
        """A frame already encoded as JSON."""
        envelope = {"users": list(user_ids), "frame": text}
        await self._redis.publish(CHANNEL, json.dumps(envelope))


def make_broker(redis_url: str) -> Broker:
    return RedisBroker(redis_url) if redis_url else InProcessBroker()
