"""Users, passwords (argon2), API tokens, and the audit log."""

from __future__ import annotations

import hashlib
import re
import secrets
import threading
import time
import weakref
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import bindparam, event, inspect, select
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction

from shopdesk.store.access import Actor, default_scopes
from shopdesk.store.models import ApiToken, AuditEntry, Membership, User

_hasher = PasswordHasher()
USERNAME_RE = re.compile(r"^[a-zA-Z0-9_.-]{3,64}$")
USER_KINDS = ("buyer", "seller", "staff")


class AccountError(ValueError):
    pass


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


# A fixed hash to compare against when the user does not exist, so timing does not tell.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


def create_user(
    session: Session,
    *,
    username: str,
    password: str,
    kind: str,
    now: datetime,
    display_name: str | None = None,
    is_demo: bool = False,
) -> User:
    if not USERNAME_RE.match(username):
        raise AccountError("username must be 3–64 letters, digits, '_', '.' or '-'")
    if kind not in USER_KINDS:
        raise AccountError(f"kind must be one of {', '.join(USER_KINDS)}")
    if len(password) < 4:
        raise AccountError("password must have at least 4 characters")
    if session.scalars(select(User).where(User.username == username)).first():
        raise AccountError(f"user '{username}' already exists")
    user = User(
        username=username,
        display_name=display_name or username,
        password_hash=hash_password(password),
        kind=kind,
        is_demo=is_demo,
        created_at=now,
    )
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, username: str, password: str) -> User | None:
    user = session.scalars(select(User).where(User.username == username)).first()
    if user is None or not user.is_active:
        verify_password(_DUMMY_HASH, password)
        return None
    return user if verify_password(user.password_hash, password) else None


def actor_for(
    session: Session, user: User, scopes: frozenset[str] | None = None, token_id: int | None = None
) -> Actor:
    roles = {
        m.shop_id: m.role
        for m in session.scalars(select(Membership).where(Membership.user_id == user.id))
    }
    allowed = default_scopes(user.kind)
    return Actor(
        user_id=user.id,
        username=user.username,
        kind=user.kind,
        shop_roles=roles,
        scopes=allowed if scopes is None else allowed & scopes,
        token_id=token_id,
    )


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue_token(
    session: Session,
    user: User,
    *,
    now: datetime,
    ttl: timedelta,
    scopes: frozenset[str] | None = None,
    name: str = "",
) -> tuple[str, ApiToken]:
    granted = default_scopes(user.kind) if scopes is None else scopes
    unknown = granted - default_scopes(user.kind)
    if unknown:
        raise AccountError(f"scopes not available to this user: {', '.join(sorted(unknown))}")
    secret = "sd_" + secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=user.id,
        name=name,
        token_hash=_digest(secret),
        scopes=sorted(granted),
        created_at=now,
        expires_at=now + ttl,
    )
    session.add(token)
    session.flush()
    return secret, token


def actor_from_token(session: Session, secret: str, now: datetime) -> Actor | None:
    token = session.scalars(select(ApiToken).where(ApiToken.token_hash == _digest(secret))).first()
    if token is None or token.revoked_at is not None:
        return None
    if token.expires_at is not None and token.expires_at <= now:
        return None
    user = session.get(User, token.user_id)
    if user is None or not user.is_active:
        return None
    return actor_for(session, user, frozenset(token.scopes), token_id=token.id)


# --- resolved tokens, cached in-process for a few seconds ------------------------------------
#
# Resolving a bearer token costs three queries (token, user, memberships) on every request.
# `TokenCache` keeps the resolved caller per token hash for `TOKEN_CACHE_SECONDS`. Any change
# made through an ORM session in this process to a token, to a user's name/kind/active flag or
# to a membership's role (and any bulk UPDATE/DELETE of those tables) empties every cache at
# flush and again at commit, so a revocation here takes effect at once. A change made by another
# process (or by raw SQL) takes effect within TOKEN_CACHE_SECONDS. Expiry is checked against the
# request's clock on every use; revoked, expired and unknown tokens are never cached.

TOKEN_CACHE_SECONDS = 3.0


@dataclass(frozen=True, slots=True)
class Caller:
    """A resolved token: the actor, their display name, and when the token expires."""

    actor: Actor
    display_name: str
    expires_at: datetime | None


class TokenCache:
    def __init__(self, ttl: float = TOKEN_CACHE_SECONDS, max_entries: int = 20_000) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._entries: dict[str, tuple[float, Caller]] = {}
        self._lock = threading.Lock()
        self._generation = 0
        _CACHES.add(self)

    def resolve(self, session: Session, secret: str, now: datetime) -> Caller | None:
        digest = _digest(secret)
        hit = self._entries.get(digest)
        if hit is not None and hit[0] > time.monotonic():
            caller: Caller | None = hit[1]
        else:
            generation = self._generation
            caller = _load_caller(session, digest)
            if caller is not None:
                with self._lock:
                    # Store only if nothing was invalidated while we read (no stale refill).
                    if generation == self._generation:
                        if len(self._entries) >= self.max_entries:
                            self._entries.clear()
                        self._entries[digest] = (time.monotonic() + self.ttl, caller)
        if caller is None or (caller.expires_at is not None and caller.expires_at <= now):
            return None
        return caller

    def clear(self) -> None:
        with self._lock:
            self._generation += 1
            self._entries.clear()


_CACHES: weakref.WeakSet[TokenCache] = weakref.WeakSet()


# Built once, run as Core statements: the token with its user, then the user's memberships
# (two short queries instead of three ORM ones; a cache miss is on the hot path every few
# seconds per token).
_TOKEN_AND_USER = (
    select(
        ApiToken.id, ApiToken.scopes, ApiToken.expires_at, ApiToken.revoked_at,
        User.id, User.username, User.kind, User.display_name, User.is_active,
    )
    .join(User, User.id == ApiToken.user_id)
    .where(ApiToken.token_hash == bindparam("digest"))
    .limit(1)
)
_ROLES = select(Membership.shop_id, Membership.role).where(
    Membership.user_id == bindparam("user_id")
)


def _load_caller(session: Session, digest: str) -> Caller | None:
    """The token's caller (expiry not checked), or None if unknown, revoked or inactive.
    The same actor as `actor_from_token`/`actor_for`."""
    session.flush()  # Core statements do not autoflush; see this transaction's own changes
    connection = session.connection()
    row = connection.execute(_TOKEN_AND_USER, {"digest": digest}).first()
    if row is None:
        return None
    token_id, scopes, expires_at, revoked_at, user_id, username, kind, name, active = row
    if revoked_at is not None or not active:
        return None
    roles = {shop: role for shop, role in connection.execute(_ROLES, {"user_id": user_id})}
    actor = Actor(
        user_id=user_id,
        username=username,
        kind=kind,
        shop_roles=roles,
        scopes=default_scopes(kind) & frozenset(scopes),
        token_id=token_id,
    )
    return Caller(actor, name, expires_at)


def invalidate_token_caches() -> None:
    for cache in list(_CACHES):
        cache.clear()


_AUTH_ATTRS: dict[type, tuple[str, ...]] = {
    ApiToken: ("user_id", "token_hash", "scopes", "expires_at", "revoked_at"),
    User: ("username", "display_name", "kind", "is_active"),
    Membership: ("user_id", "shop_id", "role"),
}
_CHANGED_KEY = "shopdesk.auth_changed"


def _changes_auth(obj: object, *, new: bool) -> bool:
    attrs = _AUTH_ATTRS.get(type(obj))
    if attrs is None:
        return False
    if new:  # a new token or user changes nobody's cached caller; a new membership does
        return isinstance(obj, Membership)
    state = inspect(obj)
    return any(state.attrs[a].history.has_changes() for a in attrs)


@event.listens_for(Session, "after_flush")
def _auth_after_flush(session: Session, _flush: UOWTransaction) -> None:
    changed = any(_changes_auth(o, new=True) for o in session.new) or any(
        _changes_auth(o, new=False) for o in session.dirty
    ) or any(type(o) in _AUTH_ATTRS for o in session.deleted)
    if changed:
        session.info[_CHANGED_KEY] = True
        invalidate_token_caches()


@event.listens_for(Session, "do_orm_execute")
def _auth_bulk_change(state: ORMExecuteState) -> None:
    if (state.is_update or state.is_delete) and state.bind_mapper is not None and (
        state.bind_mapper.class_ in _AUTH_ATTRS
    ):
        state.session.info[_CHANGED_KEY] = True
        invalidate_token_caches()


@event.listens_for(Session, "after_commit")
def _auth_after_commit(session: Session) -> None:
    if session.info.pop(_CHANGED_KEY, False):
        invalidate_token_caches()


@event.listens_for(Session, "after_rollback")
def _auth_after_rollback(session: Session) -> None:
    session.info.pop(_CHANGED_KEY, None)


def audit(
    session: Session,
    actor: Actor | None,
    action: str,
    target_type: str,
    target_id: object,
    *,
    now: datetime,
    shop_id: int | None = None,
    **details: Any,
) -> None:
    session.add(
        AuditEntry(
            at=now,
            actor_id=actor.user_id if actor else None,
            token_id=actor.token_id if actor else None,
            action=action,
            target_type=target_type,
            target_id=str(target_id),
            shop_id=shop_id,
            details=details,
        )
    )
