"""A real `shopdesk serve` process on a free loopback port, for real-time tests and benchmarks.

    url = sqlite_url(tmp_path)              # or a PostgreSQL URL
    world = prepare_database(url)           # migrate + seed the test world
    with run_server(url, tmp_path) as srv:  # always terminated, even on failure
        httpx.get(srv.url("/api/v1/health"))

Several servers may share one database and one Redis URL (`redis_url=`) to test fan-out
between processes.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx

from shopdesk.store.db import make_engine, make_sessionmaker
from shopdesk.store.migrate import upgrade
from tests.support.world import PASSWORD, World, build_world

SHOPDESK = Path(sys.executable).with_name("shopdesk")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def sqlite_url(directory: Path, name: str = "server.db") -> str:
    return f"sqlite:///{(directory / name).resolve()}"


def prepare_database(url: str, now: datetime | None = None) -> World:
    """Migrate `url` to head and seed the test world (users share the password PASSWORD)."""
    upgrade(url)
    engine = make_engine(url)
    try:
        return build_world(make_sessionmaker(engine), now or datetime.now(UTC))
    finally:
        engine.dispose()


@dataclass
class Server:
    port: int
    process: subprocess.Popen[bytes]
    log: Path
    world: World | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return self.base + path

    def ws_url(self, token: str) -> str:
        return f"ws://127.0.0.1:{self.port}/api/v1/ws?token={token}"

    def token(self, username: str, password: str = PASSWORD) -> str:
        r = httpx.post(self.url("/api/v1/auth/token"),
                       json={"username": username, "password": password}, timeout=10)
        r.raise_for_status()
        token: str = r.json()["access_token"]
        return token

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


@contextmanager
def run_server(
    database_url: str,
    data_dir: Path,
    *,
    redis_url: str = "",
    secret_key: str = "test-secret",
    extra_env: dict[str, str] | None = None,
    startup_timeout: float = 60.0,
) -> Iterator[Server]:
    """Start `shopdesk serve`, wait for /api/v1/health, and always terminate it."""
    with run_servers(database_url, [data_dir], redis_url=redis_url, secret_key=secret_key,
                     extra_env=extra_env, startup_timeout=startup_timeout) as servers:
        yield servers[0]


@contextmanager
def run_servers(
    database_url: str,
    data_dirs: list[Path],
    *,
    redis_url: str = "",
    secret_key: str = "test-secret",
    extra_env: dict[str, str] | None = None,
    startup_timeout: float = 60.0,
    seed: bool = False,
) -> Iterator[list[Server]]:
    """Start one server per data dir (all at once, sharing the database and Redis URL).

    With `seed=True` the database is migrated and seeded while the servers start (they do
    not touch it before the first request); the World is then `servers[0].world`.
    """
    servers: list[Server] = []
    try:
        for data_dir in data_dirs:
            servers.append(_launch(database_url, data_dir, redis_url, secret_key, extra_env))
        if seed:
            world = prepare_database(database_url)
            for s in servers:
                s.world = world
        for s in servers:
            _wait_healthy(s, startup_timeout)
        yield servers
    finally:
        for s in servers:
            _terminate(s.process)


def _launch(
    database_url: str, data_dir: Path, redis_url: str, secret_key: str,
    extra_env: dict[str, str] | None,
) -> Server:
    port = free_port()
    data_dir.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOPDESK_")}
    env.update(
        SHOPDESK_DATABASE_URL=database_url,
        SHOPDESK_SECRET_KEY=secret_key,
        SHOPDESK_DATA_DIR=str(data_dir),
        SHOPDESK_HOST="127.0.0.1",
        SHOPDESK_PORT=str(port),
        SHOPDESK_REDIS_URL=redis_url,
        **(extra_env or {}),
    )
    log = data_dir / f"server-{port}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(SHOPDESK), "serve"], env=env, stdout=out, stderr=subprocess.STDOUT,
            cwd=str(data_dir), start_new_session=True,
        )
    return Server(port, proc, log)


def _wait_healthy(server: Server, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"shopdesk serve exited early:\n{server.output()}")
        try:
            r = httpx.get(server.url("/api/v1/health"), timeout=1)
            if r.status_code == 200 and r.json().get("status") == "ok":
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"shopdesk serve not healthy after {timeout}s:\n{server.output()}")


def _terminate(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)
