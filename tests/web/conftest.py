from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests.support.pg import create_private_database, drop_database, reset_schema
from tests.support.world import PASSWORD, FakeClock, World, auth, build_world

from shopdesk.config import Settings
from shopdesk.store.db import make_engine, make_sessionmaker
from shopdesk.store.migrate import upgrade
from shopdesk.web.app import create_app

POSTGRES_URL = os.environ.get("SHOPDESK_TEST_POSTGRES_URL")


@pytest.fixture(scope="session")
def private_postgres() -> Iterator[str]:
    assert POSTGRES_URL
    url = create_private_database(POSTGRES_URL)
    yield url
    drop_database(url)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'test.db'}"
    url: str = request.getfixturevalue("private_postgres")
    reset_schema(url)
    return url


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(database_url=database_url, secret_key="test-secret", data_dir=tmp_path,
                    redis_url="", max_attachment_bytes=200_000, max_attachment_pixels=1_000_000)


@pytest.fixture
def world(settings: Settings, clock: FakeClock) -> World:
    url = settings.resolved_database_url()
    upgrade(url)
    engine = make_engine(url)
    w = build_world(make_sessionmaker(engine), clock())
    engine.dispose()
    return w


class Api:
    """A TestClient plus log-in helpers."""

    def __init__(self, client: TestClient, world: World) -> None:
        self.client = client
        self.world = world
        self._tokens: dict[str, str] = {}

    def token(self, username: str) -> str:
        if username not in self._tokens:
            r = self.client.post("/api/v1/auth/token",
                                 json={"username": username, "password": PASSWORD})
            assert r.status_code == 200, r.text
            self._tokens[username] = r.json()["access_token"]
        return self._tokens[username]

    def as_(self, username: str) -> dict[str, Any]:
        return auth(self.token(username))

    def get(self, who: str, path: str, **kw: Any) -> Any:
        return self.client.get(path, headers=self.as_(who), **kw)

    def post(self, who: str, path: str, json: Any = None, **kw: Any) -> Any:
        return self.client.post(path, headers=self.as_(who), json=json, **kw)

    def put(self, who: str, path: str, json: Any = None, **kw: Any) -> Any:
        return self.client.put(path, headers=self.as_(who), json=json, **kw)

    def open_conversation(self, buyer: str, shop: str) -> int:
        r = self.post(buyer, "/api/v1/conversations", {"shop": self.world.shops[shop]})
        assert r.status_code in (200, 201), r.text
        return int(r.json()["id"])

    def send(self, who: str, conv: int, text: str, client_id: str | None = None) -> Any:
        import uuid

        return self.post(who, f"/api/v1/conversations/{conv}/messages",
                         {"client_id": client_id or uuid.uuid4().hex, "kind": "text",
                          "text": text})


@pytest.fixture
def api(settings: Settings, world: World, clock: FakeClock) -> Iterator[Api]:
    app = create_app(settings, clock=clock, screener=None)
    with TestClient(app) as client:
        yield Api(client, world)
