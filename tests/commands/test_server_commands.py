"""`shopdesk serve`, `db upgrade`, `user create` as an operator uses them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import inspect, select

from shopdesk.store.accounts import authenticate
from shopdesk.store.db import make_engine, make_sessionmaker
from shopdesk.store.models import Membership, User

SHOPDESK = str(Path(sys.executable).with_name("shopdesk"))


def run(args: list[str], env: dict[str, str], **kw: object) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith("SHOPDESK_")} | env
    return subprocess.run(
        [SHOPDESK, *args], env=full, capture_output=True, text=True, timeout=120, **kw  # type: ignore[call-overload]
    )


def test_serve_refuses_without_secret_key(tmp_path: Path) -> None:
    r = run(["serve"], {"SHOPDESK_DATA_DIR": str(tmp_path)}, cwd=tmp_path)
    assert r.returncode == 2
    assert "SHOPDESK_SECRET_KEY" in r.stderr


def test_db_upgrade_then_user_create(tmp_path: Path) -> None:
    env = {"SHOPDESK_DATA_DIR": str(tmp_path)}
    r = run(["db", "upgrade"], env, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    url = f"sqlite:///{(tmp_path / 'shopdesk.db').resolve()}"
    engine = make_engine(url)
    assert {"users", "messages", "audit_log"} <= set(inspect(engine).get_table_names())

    r = run(["user", "create", "ops_admin", "--kind", "staff", "--password", "s3cret!"], env,
            cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "created staff 'ops_admin'" in r.stdout
    with make_sessionmaker(engine)() as db:
        assert authenticate(db, "ops_admin", "s3cret!") is not None
        assert authenticate(db, "ops_admin", "wrong") is None

    # A duplicate and a seller without a shop are refused, and nothing changes.
    r = run(["user", "create", "ops_admin", "--kind", "staff", "--password", "x1234"], env,
            cwd=tmp_path)
    assert r.returncode == 2 and "already exists" in r.stderr
    r = run(["user", "create", "s1", "--kind", "seller", "--password", "x1234"], env,
            cwd=tmp_path)
    assert r.returncode == 2 and "--shop" in r.stderr
    r = run(["user", "create", "s1", "--kind", "seller", "--shop", "99", "--password", "x1234"],
            env, cwd=tmp_path)
    assert r.returncode == 2 and "no shop with id 99" in r.stderr
    with make_sessionmaker(engine)() as db:
        assert [u.username for u in db.scalars(select(User))] == ["ops_admin"]
        assert db.scalars(select(Membership)).first() is None
    engine.dispose()
