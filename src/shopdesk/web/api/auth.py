"""Log in for a bearer token; inspect and revoke tokens (TEAM-4)."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter
from pydantic import BaseModel, Field
from sqlalchemy import select

from shopdesk.store.access import ALL_SCOPES, describe
from shopdesk.store.accounts import audit, authenticate, issue_token
from shopdesk.store.models import ApiToken
from shopdesk.web.deps import DB, AppSettings, AuthError, Clock, CurrentActor
from shopdesk.web.errors import ApiError

router = APIRouter(tags=["auth"])


class TokenRequest(BaseModel):
    username: str = Field(max_length=64)
    password: str = Field(max_length=256)
    scopes: list[str] | None = Field(default=None, description=f"subset of {list(ALL_SCOPES)}")
    name: str = Field(default="", max_length=120)


class TokenResponse(BaseModel):
    access_token: str
    token_type: str = "bearer"
    scopes: list[str]
    expires_at: str


@router.post("/auth/token", response_model=TokenResponse)
def login(body: TokenRequest, db: DB, clock: Clock, settings: AppSettings) -> TokenResponse:
    user = authenticate(db, body.username, body.password)
    if user is None:
        raise AuthError("wrong username or password")
    now = clock()
    if body.scopes is not None:
        unknown = set(body.scopes) - set(ALL_SCOPES)
        if unknown:
            raise ApiError(422, "invalid_scope", f"unknown scopes: {', '.join(sorted(unknown))}")
    secret, token = issue_token(
        db, user, now=now, ttl=timedelta(days=settings.token_ttl_days),
        scopes=frozenset(body.scopes) if body.scopes is not None else None, name=body.name,
    )
    db.add(token)
    audit(db, None, "auth.token_issued", "user", user.id, now=now, token=token.id)
    assert token.expires_at is not None
    return TokenResponse(
        access_token=secret, scopes=token.scopes,
        expires_at=token.expires_at.isoformat().replace("+00:00", "Z"),
    )


@router.get("/me")
def me(actor: CurrentActor) -> dict[str, object]:
    return describe(actor)


@router.get("/auth/tokens")
def my_tokens(actor: CurrentActor, db: DB) -> list[dict[str, object]]:
    tokens = db.scalars(select(ApiToken).where(ApiToken.user_id == actor.user_id))
    return [
        {"id": t.id, "name": t.name, "scopes": t.scopes, "created_at": t.created_at.isoformat(),
         "revoked": t.revoked_at is not None}
        for t in tokens
    ]


@router.delete("/auth/tokens/{token_id}", status_code=204)
def revoke(token_id: int, actor: CurrentActor, db: DB, clock: Clock) -> None:
    token = db.get(ApiToken, token_id)
    if token is None or token.user_id != actor.user_id:
        raise ApiError(404, "not_found", "token not found")
    token.revoked_at = clock()
    audit(db, actor, "auth.token_revoked", "token", token.id, now=clock())
