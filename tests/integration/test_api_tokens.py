"""Bearer tokens for machine clients: shown once, stored as SHA-256, revocable."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import select, text

from domain.errors import NotFound, ValidationFailed
from domain.models import ApiToken
from domain.services import api_tokens as svc
from tests.integration.conftest import World


async def issue(world: World, name: str = "12345热线") -> svc.IssuedToken:
    async with world.uow() as uow:
        issued = await svc.create_token(uow, name)
        await uow.commit()
    return issued


async def authenticate(world: World, secret: str) -> ApiToken | None:
    async with world.uow() as uow:
        token = await svc.authenticate_token(uow, secret)
        await uow.commit()
    return token


async def test_secret_is_returned_once_and_only_its_hash_is_stored(world: World) -> None:
    issued = await issue(world, "  12345热线  ")
    secret = issued.secret
    assert secret.startswith(svc.PREFIX)
    assert len(secret) > 40

    async with world.factory() as s:
        stored = await s.scalar(select(ApiToken).where(ApiToken.name == "12345热线"))
        raw_rows = (await s.execute(text("SELECT * FROM api_tokens"))).all()
    assert stored is not None
    assert stored.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert stored.prefix == secret[:10]
    assert stored.last_used_at is None and stored.revoked_at is None
    # No column of any row holds the secret itself.
    assert not any(secret in str(value) for r in raw_rows for value in r)

    [entry] = await world.audit("api_token.create", stored.id)
    assert secret not in str(entry.summary) + str(entry.after) + str(entry.before)

    # Two tokens never share a secret.
    other = await issue(world, "网格系统")
    assert other.secret != secret


async def test_authenticate_records_use(world: World) -> None:
    issued = await issue(world)
    token = await authenticate(world, issued.secret)
    assert token is not None and token.name == "12345热线"
    async with world.factory() as s:
        stored = await s.get(ApiToken, token.id)
    assert stored is not None and stored.last_used_at is not None

    assert await authenticate(world, issued.secret + "x") is None
    assert await authenticate(world, issued.secret[len(svc.PREFIX) :]) is None  # no prefix
    assert await authenticate(world, stored.token_hash) is None  # the hash is not a secret
    assert await authenticate(world, "") is None


async def test_revoked_token_no_longer_authenticates(world: World) -> None:
    issued = await issue(world)
    kept = await issue(world, "网格系统")
    async with world.uow() as uow:
        revoked = await svc.revoke_token(uow, "12345热线")
        await uow.commit()
    assert revoked.revoked_at is not None
    assert await authenticate(world, issued.secret) is None
    assert await authenticate(world, kept.secret) is not None

    # Revoking again changes nothing and is logged once.
    async with world.uow() as uow:
        again = await svc.revoke_token(uow, "12345热线")
        await uow.commit()
    assert again.revoked_at == revoked.revoked_at
    assert len(await world.audit("api_token.revoke")) == 1

    async with world.uow() as uow:
        with pytest.raises(NotFound):
            await svc.revoke_token(uow, "不存在")


async def test_names_are_unique_and_bounded(world: World) -> None:
    await issue(world)
    for name, message in [
        ("12345热线", "已有名为 12345热线 的令牌。"),
        (" 12345热线 ", "已有名为 12345热线 的令牌。"),
        ("", "令牌名称须为 1–80 个字符。"),
        ("令" * 81, "令牌名称须为 1–80 个字符。"),
    ]:
        async with world.uow() as uow:
            with pytest.raises(ValidationFailed) as caught:
                await svc.create_token(uow, name)
        assert caught.value.fields == {"name": message}
    assert await world.count(ApiToken) == 1

    # A revoked token's name stays taken: the audit trail refers to it.
    async with world.uow() as uow:
        await svc.revoke_token(uow, "12345热线")
        await uow.commit()
    async with world.uow() as uow:
        with pytest.raises(ValidationFailed):
            await svc.create_token(uow, "12345热线")


async def test_list_tokens_in_creation_order(world: World) -> None:
    for name in ("b", "a", "c"):
        await issue(world, name)
    async with world.uow() as uow:
        tokens = await svc.list_tokens(uow)
    assert [t.name for t in tokens] == ["b", "a", "c"]
