"""Use cases for user accounts and their role grants (admin only)."""

from __future__ import annotations

import re
from collections.abc import Mapping

from sqlalchemy import select, update
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.strategy_options import _AbstractLoad

from domain.enums import ROLE_SCOPE, Role, RoleScope, UnitKind
from domain.errors import Conflict, NotFound, ValidationFailed
from domain.labels import label
from domain.models import Organization, RoleGrant, Unit, User, WebSession
from domain.models.base import utcnow
from domain.parsing import is_row_id, parse_id
from domain.passwords import hash_password, password_problem
from domain.permissions import Actor, can_administer, require
from domain.services.notifications import notify
from domain.uow import UnitOfWork, snapshot

USERNAME_RE = re.compile(r"^[a-zA-Z0-9_.\-]{3,50}$")
FIELDS = ("username", "display_name", "phone", "active")


def _grant_options() -> _AbstractLoad:
    return selectinload(User.grants).options(
        selectinload(RoleGrant.organization), selectinload(RoleGrant.unit)
    )


async def list_users(uow: UnitOfWork, actor: Actor, q: str = "") -> list[User]:
    require(can_administer(actor))
    stmt = select(User).options(_grant_options()).order_by(User.username)
    if q.strip():
        term = q.strip()
        stmt = stmt.where(
            User.username.contains(term, autoescape=True)
            | User.display_name.contains(term, autoescape=True)
        )
    return list(await uow.session.scalars(stmt))


async def get_user(uow: UnitOfWork, actor: Actor, user_id: int) -> User:
    require(can_administer(actor))
    if not is_row_id(user_id):
        raise NotFound("用户不存在。")
    user = await uow.session.scalar(
        select(User).where(User.id == user_id).options(_grant_options())
    )
    if user is None:
        raise NotFound("用户不存在。")
    return user


def _profile_errors(raw: Mapping[str, str]) -> dict[str, str]:
    errors: dict[str, str] = {}
    display = raw.get("display_name", "").strip()
    if not display:
        errors["display_name"] = "请填写姓名。"
    elif len(display) > 50:
        errors["display_name"] = "姓名不能超过 50 个字。"
    phone = raw.get("phone", "").strip()
    if phone and not re.match(r"^[0-9+\-() ]{5,30}$", phone):
        errors["phone"] = "电话格式不正确。"
    return errors


async def create_user(uow: UnitOfWork, actor: Actor, raw: Mapping[str, str]) -> User:
    require(can_administer(actor))
    errors = _profile_errors(raw)
    username = raw.get("username", "").strip()
    if not USERNAME_RE.match(username):
        errors["username"] = "用户名为 3–50 位字母、数字、下划线、点或短横线。"
    elif await uow.session.scalar(select(User.id).where(User.username == username)):
        errors["username"] = "用户名已被使用。"
    password = raw.get("password", "")
    problem = password_problem(password, username)
    if problem:
        errors["password"] = problem
    if errors:
        raise ValidationFailed(errors)
    user = User(
        username=username,
        display_name=raw["display_name"].strip(),
        phone=raw.get("phone", "").strip(),
        password_hash=hash_password(password),
    )
    uow.session.add(user)
    await uow.flush()
    uow.audit("user.create", "user", user.id, f"新增用户 {username}", None, snapshot(user, FIELDS))
    return user


async def update_user(
    uow: UnitOfWork, actor: Actor, user_id: int, version: int, raw: Mapping[str, str]
) -> User:
    user = await get_user(uow, actor, user_id)
    if user.version != version:
        raise Conflict("该用户已被其他人修改，您的修改未保存。请查看最新内容后重试。")
    errors = _profile_errors(raw)
    active = raw.get("active") in {"on", "1", "true"}
    if not active and user.id == actor.user_id:
        errors["active"] = "不能停用自己的账号。"
    if errors:
        raise ValidationFailed(errors)
    before = snapshot(user, FIELDS)
    user.display_name = raw["display_name"].strip()
    user.phone = raw.get("phone", "").strip()
    user.active = active
    if not active:
        await _revoke_sessions(uow, user.id)
    await uow.flush()
    uow.audit(
        "user.update", "user", user.id, f"修改用户 {user.username}", before, snapshot(user, FIELDS)
    )
    return user


async def reset_password(uow: UnitOfWork, actor: Actor, user_id: int, password: str) -> User:
    user = await get_user(uow, actor, user_id)
    problem = password_problem(password, user.username)
    if problem:
        raise ValidationFailed({"password": problem})
    user.password_hash = hash_password(password)
    user.password_changed_at = utcnow()
    await _revoke_sessions(uow, user.id)
    uow.audit("user.reset_password", "user", user.id, f"重置 {user.username} 的密码")
    return user


async def _revoke_sessions(uow: UnitOfWork, user_id: int) -> None:
    await uow.session.execute(
        update(WebSession)
        .where(WebSession.user_id == user_id, WebSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


async def grant_role(
    uow: UnitOfWork, actor: Actor, user_id: int, raw: Mapping[str, str]
) -> RoleGrant:
    user = await get_user(uow, actor, user_id)
    try:
        role = Role(raw.get("role", ""))
    except ValueError:
        raise ValidationFailed({"role": "请选择角色。"}) from None
    scope, level = ROLE_SCOPE[role]
    org_id: int | None = None
    unit_id: int | None = None
    errors: dict[str, str] = {}
    if scope is RoleScope.ORGANIZATION:
        org_key = parse_id(raw.get("organization_id", ""))
        org = await uow.session.get(Organization, org_key) if org_key is not None else None
        if org is None or org.level != level:
            errors["organization_id"] = f"{label(role)}须指定一个{label(level)}。"
        else:
            org_id = org.id
    elif scope is RoleScope.UNIT:
        unit_key = parse_id(raw.get("unit_id", ""))
        unit = await uow.session.get(Unit, unit_key) if unit_key is not None else None
        if unit is None or not unit.active:
            errors["unit_id"] = f"{label(role)}须指定一个在册单位。"
        elif role is Role.DEPT_LIAISON and unit.kind != UnitKind.DEPARTMENT:
            errors["unit_id"] = "部门联络员只能属于职能部门（条）。"
        else:
            unit_id = unit.id
    if any(
        g.role == role and g.organization_id == org_id and g.unit_id == unit_id for g in user.grants
    ):
        errors["role"] = "该用户已有此角色。"
    if errors:
        raise ValidationFailed(errors)
    grant = RoleGrant(user_id=user.id, role=role.value, organization_id=org_id, unit_id=unit_id)
    uow.session.add(grant)
    await uow.flush()
    after = {"role": role.value, "organization_id": org_id, "unit_id": unit_id}
    uow.audit(
        "user.grant_role", "user", user.id, f"授予 {user.username} {label(role)}", None, after
    )
    notify(uow, [user.id], "user.grant_role", f"您已被授予“{label(role)}”角色", link="/")
    return grant


async def revoke_role(uow: UnitOfWork, actor: Actor, user_id: int, grant_id: int) -> None:
    user = await get_user(uow, actor, user_id)
    grant = next((g for g in user.grants if g.id == grant_id), None)
    if grant is None:
        raise NotFound("该角色授权不存在。")
    if grant.role == Role.PLATFORM_ADMIN and user.id == actor.user_id:
        raise ValidationFailed({"role": "不能撤销自己的管理员角色。"}, "不能撤销自己的管理员角色。")
    before = {
        "role": grant.role,
        "organization_id": grant.organization_id,
        "unit_id": grant.unit_id,
    }
    await uow.session.delete(grant)
    uow.audit(
        "user.revoke_role",
        "user",
        user.id,
        f"撤销 {user.username} 的 {label(Role(grant.role))}",
        before,
        None,
    )
