"""Bearer tokens for machine clients. The token is shown once; we keep its SHA-256."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import select

from domain.errors import NotFound, ValidationFailed
from domain.models import ApiToken
from domain.models.base import utcnow
from domain.uow import UnitOfWork

PREFIX = "gjt_"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    secret: str


async def create_token(uow: UnitOfWork, name: str) -> IssuedToken:
    name = name.strip()
    if not name or len(name) > 80:
        raise ValidationFailed({"name": "令牌名称须为 1–80 个字符。"})
    if await uow.session.scalar(select(ApiToken.id).where(ApiToken.name == name)):
        raise ValidationFailed({"name": f"已有名为 {name} 的令牌。"})
    secret = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(name=name, token_hash=_hash(secret), prefix=secret[:10])
    uow.session.add(token)
    await uow.flush()
    uow.audit("api_token.create", "api_token", token.id, f"创建接口令牌 {name}")
    return IssuedToken(token, secret)


async def list_tokens(uow: UnitOfWork) -> list[ApiToken]:
    return list(await uow.session.scalars(select(ApiToken).order_by(ApiToken.id)))


async def revoke_token(uow: UnitOfWork, name: str) -> ApiToken:
    token = await uow.session.scalar(select(ApiToken).where(ApiToken.name == name))
    if token is None:
        raise NotFound(f"没有名为 {name} 的令牌。")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        uow.audit("api_token.revoke", "api_token", token.id, f"吊销接口令牌 {name}")
    return token


async def authenticate_token(uow: UnitOfWork, secret: str) -> ApiToken | None:
    """The live token for a bearer secret, or None. Records when it was last used."""
    if not secret.startswith(PREFIX):
        return None
    token = await uow.session.scalar(select(ApiToken).where(ApiToken.token_hash == _hash(secret)))
    if token is None or token.revoked_at is not None:
        return None
    token.last_used_at = utcnow()
    return token
