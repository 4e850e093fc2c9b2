"""Logging in and out: throttled password checks and server-side sessions."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, bindparam, delete, func, select, update
from sqlalchemy.orm import aliased

from domain.enums import OrgLevel, Role
from domain.errors import TooManyAttempts, ValidationFailed
from domain.models import (
    LoginFailure,
    Notification,
    Organization,
    RoleGrant,
    Unit,
    User,
    WebSession,
)
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


def _session_query() -> Select[Any]:
    # Built once at import: constructing the statement (aliases, subquery) on every
    # request cost more than running it. SQLAlchemy caches its compiled form too.
    grant_unit = aliased(Unit)
    grant_org = aliased(Organization)
    unread = (
        select(func.count(Notification.id))
        .where(Notification.user_id == User.id, Notification.read_at.is_(None))
        .correlate(User)
        .scalar_subquery()
    )
    return (
        select(
            WebSession.id,
            WebSession.expires_at,
            WebSession.last_seen_at,
            WebSession.revoked_at,
            User.id.label("user_id"),
            User.username,
            User.display_name,
            User.active,
            unread.label("unread"),
            RoleGrant.role,
            RoleGrant.organization_id,
            RoleGrant.unit_id,
            grant_org.level.label("org_level"),
            grant_org.parent_id.label("org_parent_id"),
            grant_unit.street_id.label("unit_street_id"),
        )
        .join(User, User.id == WebSession.user_id)
        .outerjoin(RoleGrant, RoleGrant.user_id == User.id)
        .outerjoin(grant_org, grant_org.id == RoleGrant.organization_id)
        .outerjoin(grant_unit, grant_unit.id == RoleGrant.unit_id)
        .where(WebSession.token_hash == bindparam("token_hash"))
    )


_SESSION_QUERY = _session_query()


@dataclass(frozen=True)
class ResolvedSession:
    actor: Actor
    unread_notifications: int


async def actor_for_token(uow: UnitOfWork, token: str, now: datetime | None = None) -> Actor | None:
    resolved = await resolve_session(uow, token, now)
    return resolved.actor if resolved else None


async def resolve_session(
    uow: UnitOfWork, token: str, now: datetime | None = None
) -> ResolvedSession | None:
    """Resolve a session cookie to its Actor (and the bell's unread count), or None.

    This runs on every request, so it is one joined Core query (plus one for
    district viewers), not an ORM object graph.
    """
    now = now or utcnow()
    rows = (await uow.session.execute(_SESSION_QUERY, {"token_hash": token_hash(token)})).all()
    if not rows:
        return None
    first = rows[0]
    if first.revoked_at is not None or first.expires_at <= now or not first.active:
        return None
    if first.last_seen_at + SESSION_IDLE <= now:
        return None
    if first.last_seen_at + TOUCH_EVERY <= now:
        await uow.session.execute(
            update(WebSession).where(WebSession.id == first.id).values(last_seen_at=now)
        )
        await uow.commit()
    grants = [
        _GrantRow(
            r.role, r.organization_id, r.unit_id, r.org_level, r.org_parent_id, r.unit_street_id
        )
        for r in rows
        if r.role is not None
    ]
    actor = await _build_actor(uow, first.user_id, first.username, first.display_name, grants)
    return ResolvedSession(actor, int(first.unread or 0))


@dataclass(frozen=True)
class _GrantRow:
    role: str
    organization_id: int | None
    unit_id: int | None
    org_level: str | None
    org_parent_id: int | None
    unit_street_id: int | None


async def actor_from_user(uow: UnitOfWork, user: User) -> Actor:
    """Build the Actor from a User whose grants are loaded with organisation and unit."""
    grants = [
        _GrantRow(
            g.role,
            g.organization_id,
            g.unit_id,
            g.organization.level if g.organization else None,
            g.organization.parent_id if g.organization else None,
            g.unit.street_id if g.unit else None,
        )
        for g in user.grants
    ]
    return await _build_actor(uow, user.id, user.username, user.display_name, grants)


async def _build_actor(
    uow: UnitOfWork, user_id: int, username: str, display_name: str, rows: list[_GrantRow]
) -> Actor:
    grants: list[Grant] = []
    district_ids: list[int] = []
    city_ids: list[int] = []
    for g in rows:
        street_id: int | None = None
        if g.unit_street_id is not None:
            street_id = g.unit_street_id
        elif g.org_level == OrgLevel.STREET:
            street_id = g.organization_id
        elif g.org_level == OrgLevel.COMMUNITY:
            street_id = g.org_parent_id
        elif g.org_level == OrgLevel.DISTRICT and g.organization_id is not None:
            district_ids.append(g.organization_id)
        elif g.org_level == OrgLevel.CITY and g.organization_id is not None:
            city_ids.append(g.organization_id)
        grants.append(Grant(Role(g.role), g.organization_id, g.unit_id, street_id))
    if city_ids:
        # A city viewer sees every district of the city, and through them every street.
        district_ids.extend(
            await uow.session.scalars(
                select(Organization.id).where(
                    Organization.parent_id.in_(city_ids),
                    Organization.level == OrgLevel.DISTRICT,
                )
            )
        )
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
        user_id=user_id,
        username=username,
        display_name=display_name,
        grants=tuple(grants),
        district_street_ids=district_streets,
        viewer_district_ids=frozenset(district_ids),
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
