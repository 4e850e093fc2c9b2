"""Logging in and out: throttled password checks and server-side sessions."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import selectinload

from domain.enums import OrgLevel, Role
from domain.errors import TooManyAttempts, ValidationFailed
from domain.models import LoginFailure, Organization, RoleGrant, User, WebSession
from domain.models.base import utcnow
from domain.passwords import hash_password, password_problem, verify_password
from domain.permissions import Actor, Grant
from domain.uow import UnitOfWork

MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(minutes=15)
COOL_DOWN = timedelta(minutes=15)
SESSION_IDLE = timedelta(hours=12)
SESSION_ABSOLUTE = timedelta(days=14)
# Writing last_seen on every request would make each page view a write.
TOUCH_EVERY = timedelta(minutes=5)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class NewSession:
    token: str
    user: User


async def login(
    uow: UnitOfWork, username: str, password: str, ip: str, user_agent: str = ""
) -> NewSession:
    username = username.strip()
    if not username or not password:
        raise ValidationFailed({"username": "请输入用户名和密码。"}, "请输入用户名和密码。")
    now = utcnow()
    failures = await uow.session.scalars(
        select(LoginFailure.at)
        .where(
            LoginFailure.username == username,
            LoginFailure.ip == ip,
            LoginFailure.at > now - FAILURE_WINDOW,
        )
        .order_by(LoginFailure.at.desc())
        .limit(MAX_FAILURES)
    )
    recent = list(failures)
    if len(recent) >= MAX_FAILURES:
        until = recent[0] + COOL_DOWN
        if until > now:
            minutes = max(1, int((until - now).total_seconds() // 60) + 1)
            raise TooManyAttempts(
                f"该账号在本地址连续登录失败 {MAX_FAILURES} 次，请 {minutes} 分钟后再试。"
            )

    user = await uow.session.scalar(select(User).where(User.username == username))
    ok = verify_password(user.password_hash if user else None, password)
    if not ok or user is None or not user.active:
        uow.session.add(LoginFailure(username=username, ip=ip, at=now))
        uow.audit("auth.login_failed", "user", user.id if user else "", f"登录失败 {username}")
        await uow.commit()
        message = (
            "用户名或密码错误。" if (user is None or not ok) else "该账号已停用，请联系管理员。"
        )
        raise ValidationFailed({"username": message}, message)

    await uow.session.execute(
        delete(LoginFailure).where(LoginFailure.username == username, LoginFailure.ip == ip)
    )
    token = secrets.token_urlsafe(32)
    uow.session.add(
        WebSession(
            token_hash=token_hash(token),
            user_id=user.id,
            created_at=now,
            last_seen_at=now,
            expires_at=now + SESSION_ABSOLUTE,
            ip=ip[:64],
            user_agent=user_agent[:200],
        )
    )
    uow.actor = Actor(user.id, user.username, user.display_name)
    uow.audit("auth.login", "user", user.id, f"登录 {username}")
    await uow.commit()
    return NewSession(token=token, user=user)


async def logout(uow: UnitOfWork, token: str) -> None:
    await uow.session.execute(
        update(WebSession)
        .where(WebSession.token_hash == token_hash(token), WebSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    uow.audit("auth.logout", "user", uow.actor.user_id if uow.actor else "", "退出登录")
    await uow.commit()


async def actor_for_token(uow: UnitOfWork, token: str, now: datetime | None = None) -> Actor | None:
    """Resolve a session cookie to an Actor in one round of queries, or None when invalid."""
    now = now or utcnow()
    ws = await uow.session.scalar(
        select(WebSession)
        .where(WebSession.token_hash == token_hash(token))
        .options(
            selectinload(WebSession.user)
            .selectinload(User.grants)
            .options(selectinload(RoleGrant.organization), selectinload(RoleGrant.unit))
        )
    )
    if ws is None or ws.revoked_at is not None or ws.expires_at <= now:
        return None
    if ws.last_seen_at + SESSION_IDLE <= now or not ws.user.active:
        return None
    if ws.last_seen_at + TOUCH_EVERY <= now:
        ws.last_seen_at = now
        await uow.commit()
    return await actor_from_user(uow, ws.user)


async def actor_from_user(uow: UnitOfWork, user: User) -> Actor:
    """Build the Actor; `user.grants` must be loaded with organisation and unit."""
    grants: list[Grant] = []
    district_ids: list[int] = []
    for g in user.grants:
        role = Role(g.role)
        street_id: int | None = None
        if g.unit is not None:
            street_id = g.unit.street_id
        elif g.organization is not None:
            level = OrgLevel(g.organization.level)
            if level is OrgLevel.STREET:
                street_id = g.organization.id
            elif level is OrgLevel.COMMUNITY:
                street_id = g.organization.parent_id
            elif level is OrgLevel.DISTRICT:
                district_ids.append(g.organization.id)
        grants.append(Grant(role, g.organization_id, g.unit_id, street_id))
    district_streets: frozenset[int] = frozenset()
    if district_ids:
        district_streets = frozenset(
            await uow.session.scalars(
                select(Organization.id).where(
                    Organization.parent_id.in_(district_ids),
                    Organization.level == OrgLevel.STREET,
                )
            )
        )
    return Actor(
        user_id=user.id,
        username=user.username,
        display_name=user.display_name,
        grants=tuple(grants),
        district_street_ids=district_streets,
    )


async def change_password(
    uow: UnitOfWork, actor: Actor, current: str, new: str, repeat: str, keep_token: str
) -> None:
    user = await uow.session.get(User, actor.user_id)
    if user is None:
        raise ValidationFailed({"current": "账号不存在。"})
    errors: dict[str, str] = {}
    if not verify_password(user.password_hash, current):
        errors["current"] = "当前密码不正确。"
    problem = password_problem(new, user.username)
    if problem:
        errors["new"] = problem
    elif new != repeat:
        errors["repeat"] = "两次输入的新密码不一致。"
    elif new == current:
        errors["new"] = "新密码不能与当前密码相同。"
    if errors:
        raise ValidationFailed(errors)
    user.password_hash = hash_password(new)
    user.password_changed_at = utcnow()
    # Other sessions of this account end: a changed password must lock out whoever knew the old one.
    await uow.session.execute(
        update(WebSession)
        .where(
            WebSession.user_id == user.id,
            WebSession.token_hash != token_hash(keep_token),
            WebSession.revoked_at.is_(None),
        )
        .values(revoked_at=utcnow())
    )
    uow.audit("user.change_password", "user", user.id, "修改密码")
    await uow.commit()


async def purge_expired(uow: UnitOfWork) -> int:
    """Delete sessions that can no longer be used and stale login failures. Idempotent."""
    now = utcnow()
    res = await uow.session.execute(
        delete(WebSession).where(
            (WebSession.expires_at <= now)
            | (WebSession.last_seen_at <= now - SESSION_IDLE)
            | (WebSession.revoked_at <= now - timedelta(days=1))
        )
    )
    await uow.session.execute(delete(LoginFailure).where(LoginFailure.at <= now - FAILURE_WINDOW))
    await uow.commit()
    return int(getattr(res, "rowcount", 0) or 0)


async def active_session_count(uow: UnitOfWork) -> int:
    now = utcnow()
    return (
        await uow.session.scalar(
            select(func.count(WebSession.id)).where(
                WebSession.revoked_at.is_(None), WebSession.expires_at > now
            )
        )
        or 0
    )
