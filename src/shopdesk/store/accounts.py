"""Users, passwords (argon2), API tokens, and the audit log."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

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
