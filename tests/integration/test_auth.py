"""Logging in and out: throttling, server-side sessions, expiry, password change, purge."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from domain.enums import Role
from domain.errors import TooManyAttempts, ValidationFailed
from domain.models import LoginFailure, User, WebSession
from domain.models.base import utcnow
from domain.permissions import Actor
from domain.services import auth
from gongjian.demo import DEMO_PASSWORD
from tests.integration.conftest import World

NEW_PASSWORD = "Xinhua-2027"


async def login(
    world: World, username: str, password: str = DEMO_PASSWORD, ip: str = "1.1.1.1"
) -> str:
    async with world.uow(ip=ip) as uow:
        return (await auth.login(uow, username, password, ip, "pytest")).token


async def failed_login(
    world: World, username: str, password: str, ip: str = "1.1.1.1"
) -> ValidationFailed:
    async with world.uow(ip=ip) as uow:
        with pytest.raises(ValidationFailed) as caught:
            await auth.login(uow, username, password, ip)
    return caught.value


async def resolve(world: World, token: str) -> Actor | None:
    async with world.uow() as uow:
        return await auth.actor_for_token(uow, token)


async def set_session(world: World, token: str, **values: object) -> None:
    async with world.factory() as s:
        await s.execute(
            update(WebSession)
            .where(WebSession.token_hash == auth.token_hash(token))
            .values(**values)
        )
        await s.commit()


# --- login ------------------------------------------------------------------------------


async def test_login_creates_a_session_that_resolves_to_the_actor(world: World) -> None:
    token = await login(world, "secretary", ip="10.9.8.7")
    actor = await resolve(world, token)
    assert actor is not None
    assert (actor.username, actor.display_name) == ("secretary", "张秀兰")
    assert actor.roles == {Role.STREET_SECRETARY}
    assert actor.visible_street_ids == {await world.org_id("新华街道")}

    [session] = await world.sessions_of("secretary")
    assert session.token_hash == auth.token_hash(token)
    assert token not in session.token_hash  # only the hash is stored
    assert (session.ip, session.user_agent) == ("10.9.8.7", "pytest")
    assert session.revoked_at is None
    assert session.expires_at - session.created_at == auth.SESSION_ABSOLUTE
    [entry] = await world.audit("auth.login")
    assert (entry.actor_name, entry.ip) == ("secretary", "10.9.8.7")


@pytest.mark.parametrize(
    ("username", "streets"),
    [
        ("district", {"新华街道", "长安街道"}),
        ("secretary2", {"长安街道"}),
        ("liaison", {"新华街道"}),  # through the unit
        ("liaison3", {"长安街道"}),
        ("community", {"新华街道"}),  # through the community
        ("admin", set()),
    ],
)
async def test_session_actor_reaches_the_right_streets(
    world: World, username: str, streets: set[str]
) -> None:
    actor = await resolve(world, await login(world, username))
    assert actor is not None
    assert actor.visible_street_ids == {await world.org_id(s) for s in streets}
    assert actor == await world.actor(username)


async def test_username_is_trimmed(world: World) -> None:
    assert await resolve(world, await login(world, "  member ")) is not None


async def test_wrong_password_or_unknown_user_fails_the_same_way(world: World) -> None:
    wrong = await failed_login(world, "secretary", "not-the-password")
    unknown = await failed_login(world, "nobody", "not-the-password")
    assert wrong.message == unknown.message == "用户名或密码错误。"
    assert wrong.fields == {"username": "用户名或密码错误。"}
    # The failures are recorded (committed, despite the error) for throttling and audit.
    assert await world.count(LoginFailure) == 2
    assert len(await world.audit("auth.login_failed")) == 2
    assert await world.sessions_of("secretary") == []


async def test_empty_credentials(world: World) -> None:
    for username, password in [("", "x"), ("secretary", ""), ("   ", "x")]:
        error = await failed_login(world, username, password)
        assert error.message == "请输入用户名和密码。"
    assert await world.count(LoginFailure) == 0


async def test_five_failures_lock_that_account_at_that_address(world: World) -> None:
    for _ in range(auth.MAX_FAILURES):
        await failed_login(world, "secretary", "guess", ip="6.6.6.6")

    # The sixth attempt is refused even with the right password...
    async with world.uow() as uow:
        with pytest.raises(TooManyAttempts) as caught:
            await auth.login(uow, "secretary", DEMO_PASSWORD, "6.6.6.6")
    assert caught.value.status == 429
    assert caught.value.message == "该账号在本地址连续登录失败 5 次，请 15 分钟后再试。"
    assert await world.sessions_of("secretary") == []

    # ...while the same account from another address, and another account, still work.
    assert await resolve(world, await login(world, "secretary", ip="7.7.7.7")) is not None
    assert await resolve(world, await login(world, "supervisor", ip="6.6.6.6")) is not None

    # Once the failures are older than the window, the address may try again.
    async with world.factory() as s:
        await s.execute(
            update(LoginFailure).values(at=utcnow() - auth.FAILURE_WINDOW - timedelta(minutes=1))
        )
        await s.commit()
    assert await resolve(world, await login(world, "secretary", ip="6.6.6.6")) is not None


async def test_fewer_failures_are_forgotten_after_a_success(world: World) -> None:
    for _ in range(auth.MAX_FAILURES - 1):
        await failed_login(world, "secretary", "guess")
    await failed_login(world, "secretary", "guess", ip="2.2.2.2")
    await login(world, "secretary")
    # Only this (account, address) is cleared; four new failures are not yet a lock.
    assert await world.count(LoginFailure, LoginFailure.ip == "1.1.1.1") == 0
    assert await world.count(LoginFailure, LoginFailure.ip == "2.2.2.2") == 1
    for _ in range(auth.MAX_FAILURES - 1):
        await failed_login(world, "secretary", "guess")
    assert await login(world, "secretary")


# --- the life of a session --------------------------------------------------------------


async def test_logout_revokes_only_that_session(world: World) -> None:
    first = await login(world, "secretary")
    second = await login(world, "secretary")
    actor = await resolve(world, first)
    async with world.uow(actor) as uow:
        await auth.logout(uow, first)
    assert await resolve(world, first) is None
    assert await resolve(world, second) is not None
    [entry] = await world.audit("auth.logout")
    assert entry.actor_name == "secretary"
    # Logging out twice is harmless.
    async with world.uow(actor) as uow:
        await auth.logout(uow, first)
    assert await resolve(world, second) is not None


async def test_unknown_token_is_no_session(world: World) -> None:
    assert await resolve(world, "made-up-token") is None
    assert await resolve(world, "") is None


async def test_expired_session_is_rejected(world: World) -> None:
    token = await login(world, "secretary")
    await set_session(world, token, expires_at=utcnow() - timedelta(seconds=1))
    assert await resolve(world, token) is None


async def test_idle_session_is_rejected(world: World) -> None:
    token = await login(world, "secretary")
    await set_session(
        world, token, last_seen_at=utcnow() - auth.SESSION_IDLE - timedelta(seconds=1)
    )
    assert await resolve(world, token) is None


async def test_use_keeps_a_session_alive(world: World) -> None:
    token = await login(world, "secretary")
    stale = utcnow() - auth.SESSION_IDLE + timedelta(minutes=10)
    await set_session(world, token, last_seen_at=stale)
    assert await resolve(world, token) is not None
    [session] = await world.sessions_of("secretary")
    assert session.last_seen_at > stale + timedelta(minutes=9)  # touched and saved

    # Within TOUCH_EVERY it is not rewritten on every request.
    recent = utcnow() - timedelta(minutes=1)
    await set_session(world, token, last_seen_at=recent)
    assert await resolve(world, token) is not None
    [session] = await world.sessions_of("secretary")
    assert abs(session.last_seen_at - recent) < timedelta(milliseconds=1)


async def test_session_of_a_deactivated_user_is_rejected(world: World) -> None:
    token = await login(world, "member")
    async with world.factory() as s:
        await s.execute(update(User).where(User.username == "member").values(active=False))
        await s.commit()
    assert await resolve(world, token) is None


async def test_actor_for_token_honours_the_clock_it_is_given(world: World) -> None:
    token = await login(world, "secretary")
    later = utcnow() + auth.SESSION_ABSOLUTE
    async with world.uow() as uow:
        assert await auth.actor_for_token(uow, token, now=later) is None


# --- password change --------------------------------------------------------------------


async def change(world: World, token: str, current: str, new: str, repeat: str) -> None:
    actor = await resolve(world, token)
    assert actor is not None
    async with world.uow(actor) as uow:
        await auth.change_password(uow, actor, current, new, repeat, keep_token=token)


async def test_change_password_keeps_this_session_and_ends_the_others(world: World) -> None:
    here = await login(world, "secretary")
    elsewhere = await login(world, "secretary", ip="3.3.3.3")
    someone_else = await login(world, "supervisor")
    await change(world, here, DEMO_PASSWORD, NEW_PASSWORD, NEW_PASSWORD)

    assert await resolve(world, here) is not None
    assert await resolve(world, elsewhere) is None
    assert await resolve(world, someone_else) is not None
    assert len(await world.audit("user.change_password")) == 1

    await failed_login(world, "secretary", DEMO_PASSWORD, ip="4.4.4.4")
    assert await login(world, "secretary", NEW_PASSWORD, ip="4.4.4.4")


@pytest.mark.parametrize(
    ("current", "new", "repeat", "fields"),
    [
        pytest.param(
            "wrong", NEW_PASSWORD, NEW_PASSWORD, {"current": "当前密码不正确。"}, id="wrong-current"
        ),
        pytest.param(
            DEMO_PASSWORD,
            NEW_PASSWORD,
            NEW_PASSWORD + "x",
            {"repeat": "两次输入的新密码不一致。"},
            id="mismatch",
        ),
        pytest.param(
            DEMO_PASSWORD,
            DEMO_PASSWORD,
            DEMO_PASSWORD,
            {"new": "新密码不能与当前密码相同。"},
            id="unchanged",
        ),
        pytest.param(DEMO_PASSWORD, "short1", "short1", {"new": "密码至少 8 位。"}, id="too-short"),
        pytest.param(
            "wrong",
            "secretary",
            "secretary",
            {"current": "当前密码不正确。", "new": "密码不能与用户名相同。"},
            id="two-problems",
        ),
    ],
)
async def test_change_password_rules(
    world: World, current: str, new: str, repeat: str, fields: dict[str, str]
) -> None:
    here = await login(world, "secretary")
    elsewhere = await login(world, "secretary")
    with pytest.raises(ValidationFailed) as caught:
        await change(world, here, current, new, repeat)
    assert caught.value.fields == fields
    assert await resolve(world, elsewhere) is not None
    assert await login(world, "secretary")  # the old password still works


# --- clean-up ---------------------------------------------------------------------------


async def test_purge_removes_dead_sessions_idempotently(world: World) -> None:
    now = utcnow()
    live = await login(world, "secretary")
    expired = await login(world, "secretary")
    idle = await login(world, "secretary")
    long_revoked = await login(world, "secretary")
    just_revoked = await login(world, "secretary")
    await set_session(world, expired, expires_at=now - timedelta(minutes=1))
    await set_session(world, idle, last_seen_at=now - auth.SESSION_IDLE - timedelta(minutes=1))
    await set_session(world, long_revoked, revoked_at=now - timedelta(days=2))
    await set_session(world, just_revoked, revoked_at=now - timedelta(hours=1))
    async with world.uow() as uow:
        # Counted as active: neither revoked nor past expiry (live, and idle until purged).
        assert await auth.active_session_count(uow) == 2

    await failed_login(world, "member", "guess")
    async with world.factory() as s:
        s.add(LoginFailure(username="old", ip="5.5.5.5", at=now - timedelta(hours=1)))
        await s.commit()

    async with world.uow() as uow:
        assert await auth.purge_expired(uow) == 3
    hashes = {s.token_hash for s in await world.sessions_of("secretary")}
    assert hashes == {auth.token_hash(live), auth.token_hash(just_revoked)}
    assert await world.count(LoginFailure) == 1  # the recent failure stays, to throttle
    assert await resolve(world, live) is not None

    async with world.uow() as uow:
        assert await auth.purge_expired(uow) == 0
    assert len(await world.sessions_of("secretary")) == 2
