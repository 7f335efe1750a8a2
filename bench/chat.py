"""Chat throughput and POST→WebSocket latency, full shopdesk path vs a bare Starlette echo.

Issue target: on loopback with 200 connected sockets, the full path (`shopdesk serve`, one
uvicorn worker) delivers at least 40% of the messages/s of a bare Starlette endpoint that only
fans the POST body out to the audience's WebSockets (the ceiling for Python on this machine,
measured in the same run), and its p99 POST→receipt latency is at most 50 ms at an offered
500 messages/s.

Layout: S shops, each with A agents and B buyers; every buyer has one conversation with their
shop, so every message goes to the buyer's and all the shop's agents' sockets (fan-out A+1).
The ceiling app receives the same layout and fans out to the same sockets.

Phases, for each server:
  (a) throughput: K keep-alive connections POST back-to-back (closed loop) for D seconds;
      a message counts when every socket of another user in its audience has it.
  (b) latency: an open-loop schedule at R messages/s for T seconds; latency runs from the
      scheduled send time (so queueing before the send is included) to receipt on each
      other user's socket.

The load generator is one uvloop process with a hand-rolled HTTP/1.1 keep-alive client (no
httpx: it costs ~10x more CPU per request) and the `websockets` client; it reads only the
message id out of each frame. Its CPU use and the server's are printed for every phase, so a
client-bound measurement shows (client near 100% of a core while the server is not).

Usage: .venv/bin/python bench/chat.py [--database-url URL --reset-database] [--smoke]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TARGET_RATIO = 0.40
TARGET_P99_MS = 50.0
TARGET_RATE = 500.0
HARD_DEADLINE_S = 600.0  # the whole run stops by itself after this

# --------------------------------------------------------------------------------------------
# The ceiling: a bare Starlette app that fans a POST body out to WebSockets (no DB, no auth).
# --------------------------------------------------------------------------------------------


def make_ceiling_app(world_file: str) -> Any:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route, WebSocketRoute
    from starlette.websockets import WebSocket, WebSocketDisconnect

    world = json.loads(Path(world_file).read_text())
    users_by_token: dict[str, int] = {t: int(u) for t, u in world["tokens"].items()}
    audience: dict[int, list[int]] = {int(c): a for c, a in world["audience"].items()}
    sockets: dict[int, set[WebSocket]] = {}
    seqs: dict[int, int] = {}

    async def ws_endpoint(ws: WebSocket) -> None:
        uid = users_by_token.get(ws.query_params.get("token", ""))
        if uid is None:
            await ws.close(code=4401)
            return
        await ws.accept()
        sockets.setdefault(uid, set()).add(ws)
        await ws.send_text(json.dumps({"type": "hello", "user": uid}))
        try:
            while True:
                await ws.receive_text()
        except WebSocketDisconnect:
            pass
        finally:
            sockets.get(uid, set()).discard(ws)

    async def post_message(request: Request) -> JSONResponse:
        auth = request.headers.get("authorization", "")
        uid = users_by_token.get(auth.partition(" ")[2])
        conv = int(request.path_params["conv"])
        if uid is None or conv not in audience:
            return JSONResponse({"code": "not_found"}, status_code=404)
        body = await request.json()
        seq = seqs.get(conv, 0) + 1
        seqs[conv] = seq
        msg = {"conversation": conv, "seq": seq, "author": uid, **body}
        text = json.dumps({"type": "message", "conversation": conv, "message": msg})
        targets: set[WebSocket] = set()
        for u in audience[conv]:
            targets |= sockets.get(u, set())
        await asyncio.gather(*(s.send_text(text) for s in targets), return_exceptions=True)
        return JSONResponse(msg, status_code=201)

    return Starlette(
        routes=[
            Route("/api/v1/conversations/{conv}/messages", post_message, methods=["POST"]),
            WebSocketRoute("/api/v1/ws", ws_endpoint),
        ]
    )


def serve_ceiling(world_file: str, port: int) -> None:
    import uvicorn

    # The same uvicorn.run arguments as `shopdesk serve` (shopdesk.commands.server._run):
    # in particular no access log, which would cost the ceiling ~15% of its CPU.
    uvicorn.run(
        make_ceiling_app(world_file),
        host="127.0.0.1",
        port=port,
        log_level="info",
        proxy_headers=True,
        access_log=False,
        loop="auto",
        http="auto",
    )


# --------------------------------------------------------------------------------------------
# Setting up the world and the servers.
# --------------------------------------------------------------------------------------------


@dataclass
class World:
    tokens: dict[str, int] = field(default_factory=dict)  # token -> user id
    buyers: list[str] = field(default_factory=list)  # buyer tokens
    agents: list[str] = field(default_factory=list)  # agent tokens
    buyer_shop: dict[str, int] = field(default_factory=dict)  # buyer token -> shop id
    shop_members: dict[int, list[int]] = field(default_factory=dict)
    conv_of: dict[str, int] = field(default_factory=dict)  # buyer token -> conversation
    audience: dict[int, list[int]] = field(default_factory=dict)  # conversation -> user ids
    login_user: str = ""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def reset_postgres(url: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def seed(url: str, shops: int, agents: int, buyers: int) -> World:
    """Migrate a fresh database and add S shops × (A agents + B buyers), with API tokens.

    Users are inserted with one precomputed argon2 hash (hashing 200 passwords would take
    longer than the benchmark); one login goes through `POST /api/v1/auth/token` later.
    """
    from shopdesk.store.accounts import hash_password, issue_token
    from shopdesk.store.db import make_engine, make_sessionmaker
    from shopdesk.store.migrate import upgrade
    from shopdesk.store.models import Membership, Region, Shop, User

    upgrade(url)
    engine = make_engine(url)
    now = datetime.now(UTC)
    pw = hash_password("bench-pw")
    w = World()
    with make_sessionmaker(engine)() as db, db.begin():
        region = Region(code="US", name="United States", country="US", policy="us")
        db.add(region)
        db.flush()
        for s in range(shops):
            shop = Shop(
                region_id=region.id,
                name=f"Bench shop {s}",
                timezone="UTC",
                listing_language="en",
                created_at=now,
            )
            db.add(shop)
            db.flush()
            w.shop_members[shop.id] = []
            for kind, n in (("seller", agents), ("buyer", buyers)):
                for i in range(n):
                    name = f"{'agent' if kind == 'seller' else 'buyer'}_{s}_{i}"
                    user = User(
                        username=name,
                        display_name=name,
                        password_hash=pw,
                        kind=kind,
                        created_at=now,
                    )
                    db.add(user)
                    db.flush()
                    if kind == "seller":
                        db.add(Membership(user_id=user.id, shop_id=shop.id, role="agent"))
                        w.shop_members[shop.id].append(user.id)
                    secret, _tok = issue_token(
                        db, user, now=now, ttl=timedelta(days=1), name="bench"
                    )
                    w.tokens[secret] = user.id
                    if kind == "seller":
                        w.agents.append(secret)
                    else:
                        w.buyers.append(secret)
                        w.buyer_shop[secret] = shop.id
                    w.login_user = w.login_user or name
    engine.dispose()
    return w


@dataclass
class Server:
    proc: subprocess.Popen[bytes]
    port: int
    log: Path

    def cpu_seconds(self) -> float:
        try:
            fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start_server(cmd: list[str], env: dict[str, str], port: int, log: Path, cwd: Path) -> Server:
    with log.open("wb") as out:
        proc = subprocess.Popen(
            cmd, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    server = Server(proc, port, log)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return server
        time.sleep(0.1)
    stop_server(server)
    raise RuntimeError(f"server did not listen within 30 s:\n{log.read_text()[-3000:]}")


def stop_server(server: Server | None) -> None:
    if server is None or server.proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(server.proc.pid, signal.SIGTERM)
    try:
        server.proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.proc.pid, signal.SIGKILL)
        server.proc.wait(timeout=10)


# --------------------------------------------------------------------------------------------
# The load generator.
# --------------------------------------------------------------------------------------------


class HttpConn:
    """A minimal HTTP/1.1 keep-alive client connection (one request at a time)."""

    def __init__(
        self, port: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.port, self.reader, self.writer = port, reader, writer

    @classmethod
    async def open(cls, port: int) -> HttpConn:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        return cls(port, reader, writer)

    async def request(
        self, method: str, path: str, body: bytes, token: str = ""
    ) -> tuple[int, bytes]:
        """One request; reconnects once if the server had closed an idle connection."""
        if self.writer.is_closing() or self.reader.at_eof():
            await self._reconnect()
        try:
            return await self._request(method, path, body, token)
        except (asyncio.IncompleteReadError, ConnectionError) as exc:
            if isinstance(exc, asyncio.IncompleteReadError) and exc.partial:
                raise
            # uvicorn drops keep-alive connections idle for 5 s; the request was not read.
            await self._reconnect()
            return await self._request(method, path, body, token)

    async def _reconnect(self) -> None:
        self.writer.close()
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)

    async def _request(self, method: str, path: str, body: bytes, token: str) -> tuple[int, bytes]:
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        )
        if token:
            head += f"Authorization: Bearer {token}\r\n"
        self.writer.write(head.encode() + b"\r\n" + body)
        raw = await self.reader.readuntil(b"\r\n\r\n")
        status = int(raw[9:12])
        length = 0
        chunked = False
        for line in raw.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            lname = name.strip().lower()
            if lname == b"content-length":
                length = int(value)
            elif lname == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
        if chunked:
            data = b""
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).strip(), 16)
                chunk = await self.reader.readexactly(size + 2)
                if size == 0:
                    break
                data += chunk[:-2]
            return status, data
        return status, await self.reader.readexactly(length)

    def close(self) -> None:
        self.writer.close()


MSG_ID = re.compile(r"#m(\d+)#")


@dataclass
class Tracker:
    """Which message ids went out when, and which other-user sockets got them."""

    sent_at: dict[int, float] = field(default_factory=dict)
    expected: dict[int, int] = field(default_factory=dict)
    got: dict[int, int] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    done_at: list[float] = field(default_factory=list)
    errors: int = 0
    http_errors: int = 0
    recording: bool = False

    def receive(self, mid: int, now: float) -> None:
        start = self.sent_at.get(mid)
        if start is None:
            return
        self.latencies.append(now - start)
        n = self.got.get(mid, 0) + 1
        self.got[mid] = n
        if n == self.expected[mid]:
            self.done_at.append(now)

    def reset(self) -> None:
        self.sent_at.clear()
        self.expected.clear()
        self.got.clear()
        self.latencies.clear()
        self.done_at.clear()
        self.errors = self.http_errors = 0


async def reader_loop(ws: Any, uid: int, tracker: Tracker, author_of: dict[int, int]) -> None:
    from websockets.exceptions import ConnectionClosed

    perf = time.perf_counter
    with contextlib.suppress(ConnectionClosed, asyncio.CancelledError):
        async for frame in ws:
            now = perf()
            m = MSG_ID.search(frame if isinstance(frame, str) else frame.decode())
            if m is None:
                continue
            mid = int(m.group(1))
            if author_of.get(mid) != uid:
                tracker.receive(mid, now)


@dataclass
class Client:
    port: int
    world: World
    tracker: Tracker = field(default_factory=Tracker)
    author_of: dict[int, int] = field(default_factory=dict)
    sockets: list[Any] = field(default_factory=list)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    next_id: int = 0

    async def connect_all(self) -> None:
        from websockets.asyncio.client import connect

        tokens = [*self.world.agents, *self.world.buyers]

        async def one(token: str) -> None:
            ws = await asyncio.wait_for(
                connect(
                    f"ws://127.0.0.1:{self.port}/api/v1/ws?token={token}",
                    max_queue=None,
                    compression=None,
                    open_timeout=20,
                ),
                timeout=30,
            )
            hello = json.loads(await asyncio.wait_for(ws.recv(), timeout=20))
            if hello.get("type") != "hello":
                raise RuntimeError(f"first frame was {hello!r}")
            self.sockets.append(ws)
            self.tasks.append(
                asyncio.create_task(
                    reader_loop(ws, self.world.tokens[token], self.tracker, self.author_of)
                )
            )

        sem = asyncio.Semaphore(20)

        async def limited(token: str) -> None:
            async with sem:
                await one(token)

        await asyncio.gather(*(limited(t) for t in tokens))

    async def close(self) -> None:
        for t in self.tasks:
            t.cancel()
        for ws in self.sockets:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(ws.close(), timeout=2)
        await asyncio.gather(*self.tasks, return_exceptions=True)

    def new_message(self, token: str) -> tuple[int, int, bytes]:
        """(message id, conversation, body) of a buyer's next message."""
        self.next_id += 1
        mid = self.next_id
        conv = self.world.conv_of[token]
        self.author_of[mid] = self.world.tokens[token]
        self.tracker.expected[mid] = len(self.world.audience[conv]) - 1
        body = json.dumps(
            {
                "client_id": f"c{mid}",
                "kind": "text",
                "text": f"hello, is this still available? #m{mid}#",
            }
        ).encode()
        return mid, conv, body

    async def post(
        self,
        conn: HttpConn,
        token: str,
        mid: int,
        conv: int,
        body: bytes,
        start: float | None = None,
    ) -> None:
        self.tracker.sent_at[mid] = start if start is not None else time.perf_counter()
        try:
            status, _ = await conn.request(
                "POST", f"/api/v1/conversations/{conv}/messages", body, token
            )
        except (OSError, asyncio.IncompleteReadError, RuntimeError):
            status = 0
        if status not in (200, 201):
            self.tracker.http_errors += 1
            self.tracker.expected.pop(mid, None)
            self.tracker.sent_at.pop(mid, None)

    def expected_per_message(self) -> int:
        """Other-user sockets per message (the same for every conversation here)."""
        return len(next(iter(self.world.audience.values()))) - 1

    async def wait_drained(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.tracker.done_at) >= len(self.tracker.sent_at):
                return
            await asyncio.sleep(0.02)


@dataclass
class PhaseResult:
    sent: int
    delivered: int
    seconds: float
    rate: float
    p50_ms: float
    p99_ms: float
    http_errors: int
    client_cpu: float  # fraction of one core
    server_cpu: float


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, round(q * (len(s) - 1)))] * 1000


async def throughput_phase(
    client: Client, server: Server, conns: list[HttpConn], duration: float, max_messages: int
) -> PhaseResult:
    tr = client.tracker
    tr.reset()
    buyers = client.world.buyers
    stop_at = time.perf_counter() + duration
    counter = iter(range(max_messages))

    async def sender(i: int, conn: HttpConn) -> None:
        k = i
        while time.perf_counter() < stop_at and next(counter, None) is not None:
            token = buyers[k % len(buyers)]
            k += len(conns)
            mid, conv, body = client.new_message(token)
            await client.post(conn, token, mid, conv, body)

    cpu0, scpu0, t0 = time.process_time(), server.cpu_seconds(), time.perf_counter()
    await asyncio.gather(*(sender(i, c) for i, c in enumerate(conns)))
    await client.wait_drained(10)
    t1 = max(tr.done_at, default=time.perf_counter())
    cpu1, scpu1 = time.process_time(), server.cpu_seconds()
    wall = max(t1 - t0, 1e-9)
    return PhaseResult(
        sent=len(tr.sent_at),
        delivered=len(tr.done_at),
        seconds=wall,
        rate=len(tr.done_at) / wall,
        p50_ms=pct(tr.latencies, 0.5),
        p99_ms=pct(tr.latencies, 0.99),
        http_errors=tr.http_errors,
        client_cpu=(cpu1 - cpu0) / wall,
        server_cpu=(scpu1 - scpu0) / wall,
    )


async def latency_phase(
    client: Client, server: Server, conns: list[HttpConn], rate: float, duration: float
) -> PhaseResult:
    tr = client.tracker
    tr.reset()
    buyers = client.world.buyers
    pool: asyncio.Queue[HttpConn] = asyncio.Queue()
    for c in conns:
        pool.put_nowait(c)
    total = int(rate * duration)
    pending: set[asyncio.Task[None]] = set()

    async def one(mid: int, conv: int, body: bytes, token: str, scheduled: float) -> None:
        conn = await pool.get()
        try:
            await client.post(conn, token, mid, conv, body, start=scheduled)
        finally:
            pool.put_nowait(conn)

    cpu0, scpu0 = time.process_time(), server.cpu_seconds()
    t0 = time.perf_counter() + 0.05
    for i in range(total):
        scheduled = t0 + i / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        token = buyers[i % len(buyers)]
        mid, conv, body = client.new_message(token)
        task = asyncio.create_task(one(mid, conv, body, token, scheduled))
        pending.add(task)
        task.add_done_callback(pending.discard)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(asyncio.gather(*pending, return_exceptions=True), timeout=30)
    await client.wait_drained(10)
    t1 = max(tr.done_at, default=time.perf_counter())
    cpu1, scpu1 = time.process_time(), server.cpu_seconds()
    wall = max(t1 - t0, 1e-9)
    # Receipts that never came (overload, errors) count as infinitely late.
    missing = total * client.expected_per_message() - len(tr.latencies)
    latencies = tr.latencies + [float("inf")] * max(0, missing)
    return PhaseResult(
        sent=total,
        delivered=len(tr.done_at),
        seconds=wall,
        rate=len(tr.done_at) / wall,
        p50_ms=pct(latencies, 0.5),
        p99_ms=pct(latencies, 0.99),
        http_errors=tr.http_errors,
        client_cpu=(cpu1 - cpu0) / wall,
        server_cpu=(scpu1 - scpu0) / wall,
    )


@dataclass
class Options:
    senders: int
    duration: float
    max_messages: int
    rate: float
    latency_seconds: float
    pool: int


async def measure(
    server: Server, world: World, opts: Options, login: bool
) -> tuple[PhaseResult, PhaseResult]:
    client = Client(server.port, world)
    conns: list[HttpConn] = []
    try:
        if login:  # one real login through the API, as a check that it works
            c = await HttpConn.open(server.port)
            status, data = await c.request(
                "POST",
                "/api/v1/auth/token",
                json.dumps({"username": world.login_user, "password": "bench-pw"}).encode(),
            )
            c.close()
            if status != 200 or "access_token" not in json.loads(data):
                raise RuntimeError(f"login failed: {status} {data[:200]!r}")
        await client.connect_all()
        conns = [await HttpConn.open(server.port) for _ in range(max(opts.senders, opts.pool))]
        # Warm-up: every buyer writes once (also lets agents answer, CHAT-3).
        for i, token in enumerate(world.buyers):
            mid, conv, body = client.new_message(token)
            await client.post(conns[i % len(conns)], token, mid, conv, body)
        await client.wait_drained(10)
        if client.tracker.http_errors:
            raise RuntimeError(f"{client.tracker.http_errors} warm-up messages failed")
        thr = await throughput_phase(
            client, server, conns[: opts.senders], opts.duration, opts.max_messages
        )
        await asyncio.sleep(0.5)
        lat = await latency_phase(
            client, server, conns[: opts.pool], opts.rate, opts.latency_seconds
        )
        return thr, lat
    finally:
        for c in conns:
            c.close()
        await client.close()


async def open_conversations(port: int, world: World) -> None:
    """Each buyer opens (POST /api/v1/conversations) their conversation with their shop."""
    conn = await HttpConn.open(port)
    try:
        for token in world.buyers:
            shop = world.buyer_shop[token]
            status, data = await conn.request(
                "POST", "/api/v1/conversations", json.dumps({"shop": shop}).encode(), token
            )
            if status not in (200, 201):
                raise RuntimeError(f"opening a conversation failed: {status} {data[:300]!r}")
            conv = int(json.loads(data)["id"])
            world.conv_of[token] = conv
            world.audience[conv] = [world.tokens[token], *world.shop_members[shop]]
    finally:
        conn.close()


# --------------------------------------------------------------------------------------------
# Orchestration and report.
# --------------------------------------------------------------------------------------------


def run_uvloop(coro: Any) -> Any:
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coro)
    return uvloop.run(coro)


def row(name: str, r: PhaseResult) -> str:
    return (
        f"{name:<28} {r.rate:>9.0f} {r.p50_ms:>8.1f} {r.p99_ms:>8.1f} {r.delivered:>7}/"
        f"{r.sent:<7} {r.http_errors:>4} {100 * r.client_cpu:>6.0f}% "
        f"{100 * r.server_cpu:>6.0f}%"
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument(
        "--database-url",
        default="",
        help="PostgreSQL URL (default: a fresh SQLite file in a temporary directory)",
    )
    p.add_argument(
        "--reset-database",
        action="store_true",
        help="drop and recreate the public schema of --database-url first",
    )
    p.add_argument("--shops", type=int, default=50)
    p.add_argument("--agents", type=int, default=2, help="agents per shop")
    p.add_argument("--buyers", type=int, default=2, help="buyers per shop")
    p.add_argument("--senders", type=int, default=32, help="concurrent closed-loop senders")
    p.add_argument("--duration", type=float, default=10.0, help="throughput phase, seconds")
    p.add_argument("--max-messages", type=int, default=50_000)
    p.add_argument("--rate", type=float, default=TARGET_RATE, help="latency phase, msgs/s")
    p.add_argument("--latency-seconds", type=float, default=10.0)
    p.add_argument("--pool", type=int, default=100, help="connections for the latency phase")
    p.add_argument("--only", choices=("ceiling", "full"), default=None)
    p.add_argument("--smoke", action="store_true", help="a tiny run that checks it works")
    p.add_argument("--serve-ceiling", nargs=2, metavar=("WORLD", "PORT"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)

    if args.serve_ceiling:
        serve_ceiling(args.serve_ceiling[0], int(args.serve_ceiling[1]))
        return 0
    if args.smoke:
        args.shops, args.agents, args.buyers = 5, 1, 1
        args.senders, args.duration, args.max_messages = 4, 1.0, 50
        args.rate, args.latency_seconds, args.pool = 50.0, 1.0, 8
    opts = Options(
        args.senders, args.duration, args.max_messages, args.rate, args.latency_seconds, args.pool
    )
    signal.signal(signal.SIGALRM, lambda *_: (_ for _ in ()).throw(TimeoutError("deadline")))
    signal.alarm(int(HARD_DEADLINE_S))

    tmp = Path(tempfile.mkdtemp(prefix="shopdesk-bench-chat-"))
    servers: list[Server] = []
    try:
        url = args.database_url or f"sqlite:///{tmp / 'bench.db'}"
        if args.database_url and args.reset_database:
            reset_postgres(url)
        t = time.perf_counter()
        world = seed(url, args.shops, args.agents, args.buyers)
        sockets = len(world.agents) + len(world.buyers)
        print(
            f"seeded {args.shops} shops × ({args.agents} agents + {args.buyers} buyers) = "
            f"{sockets} sockets on {url.split('://')[0]} in {time.perf_counter() - t:.1f} s",
            flush=True,
        )

        env = {k: v for k, v in os.environ.items() if not k.startswith("SHOPDESK_")}
        full_port = free_port()
        env.update(
            SHOPDESK_DATABASE_URL=url,
            SHOPDESK_SECRET_KEY="bench-" + "x" * 40,
            SHOPDESK_DATA_DIR=str(tmp / "data"),
            SHOPDESK_PORT=str(full_port),
            SHOPDESK_HOST="127.0.0.1",
            SHOPDESK_REDIS_URL="",
        )
        shopdesk_bin = Path(sys.executable).with_name("shopdesk")
        full_cmd = (
            [str(shopdesk_bin)] if shopdesk_bin.exists() else [sys.executable, "-m", "shopdesk.cli"]
        ) + ["serve"]
        full = start_server(full_cmd, env, full_port, tmp / "full.log", tmp)
        servers.append(full)
        run_uvloop(open_conversations(full_port, world))

        world_file = tmp / "world.json"
        world_file.write_text(json.dumps({"tokens": world.tokens, "audience": world.audience}))

        results: dict[str, tuple[PhaseResult, PhaseResult]] = {}
        if args.only != "full":
            cport = free_port()
            ceiling = start_server(
                [
                    sys.executable,
                    str(Path(__file__).resolve()),
                    "--serve-ceiling",
                    str(world_file),
                    str(cport),
                ],
                env,
                cport,
                tmp / "ceiling.log",
                tmp,
            )
            servers.append(ceiling)
            results["ceiling"] = run_uvloop(measure(ceiling, world, opts, login=False))
            stop_server(ceiling)
        if args.only != "ceiling":
            results["full"] = run_uvloop(measure(full, world, opts, login=True))

        fan = args.agents
        print(
            f"\n{sockets} sockets; each message goes to its buyer's socket and {fan} agent "
            f"socket(s); latency = scheduled POST → receipt on each agent socket."
        )
        print(
            f"(a) throughput: {opts.senders} closed-loop senders, {opts.duration:g} s; "
            f"(b) latency: open loop at {opts.rate:g} msgs/s for {opts.latency_seconds:g} s.\n"
        )
        hdr = (
            f"{'path / phase':<28} {'msgs/s':>9} {'p50 ms':>8} {'p99 ms':>8} "
            f"{'delivered/sent':>15} {'errs':>4} {'client':>7} {'server':>7}"
        )
        print(hdr)
        print("-" * len(hdr))
        for name, (thr, lat) in results.items():
            print(row(f"{name} (a) throughput", thr))
            print(row(f"{name} (b) @ {opts.rate:g}/s", lat))
        print("(client/server: CPU use of the load generator / server process, % of one core)")
        ok = True
        if "full" in results:
            thr, lat = results["full"]
            if "ceiling" in results:
                ratio = thr.rate / results["ceiling"][0].rate
                verdict = "PASS" if ratio >= TARGET_RATIO else "FAIL"
                ok &= ratio >= TARGET_RATIO
                print(
                    f"\nthroughput ratio full/ceiling: {ratio:.2f} "
                    f"(target ≥ {TARGET_RATIO:.2f}): {verdict}"
                )
            lat_ok = (
                lat.p99_ms <= TARGET_P99_MS and lat.delivered == lat.sent and lat.http_errors == 0
            )
            ok &= lat_ok
            print(
                f"full-path p99 at {opts.rate:g} msgs/s: {lat.p99_ms:.1f} ms "
                f"(target ≤ {TARGET_P99_MS:g} ms at {TARGET_RATE:g}/s): "
                f"{'PASS' if lat_ok else 'FAIL'}"
            )
        lost = sum(r.sent - r.delivered for pair in results.values() for r in pair)
        errs = sum(r.http_errors for pair in results.values() for r in pair)
        if lost or errs:
            print(f"\nWARNING: {lost} messages not delivered, {errs} HTTP errors")
        if args.smoke:
            return 0 if not lost and not errs else 1
        print(f"\nOVERALL: {'PASS' if ok else 'FAIL'}")
        return 0
    finally:
        signal.alarm(0)
        for s in servers:
            stop_server(s)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
