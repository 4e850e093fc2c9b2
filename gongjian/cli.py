"""The `gongjian` command: serve, worker, migrate, seed-demo, create-admin, api-token,
calendar-sync, check."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from gongjian.config import Config, ConfigError, load_config


def _config() -> Config:
    try:
        return load_config()
    except ConfigError as exc:
        print(str(exc), file=sys.stderr)
        raise SystemExit(2) from None


def _with_db(config: Config, fn: Callable[[Any], Awaitable[Any]]) -> Any:
    from adapters.db import make_engine, make_session_factory

    async def run() -> Any:
        engine = make_engine(config.database_url)
        try:
            return await fn(make_session_factory(engine))
        finally:
            await engine.dispose()

    return asyncio.run(run())


def cmd_migrate(args: argparse.Namespace) -> int:
    from adapters.migrate import upgrade

    config = _config()
    upgrade(config.database_url)
    print("数据库已升级到最新版本。")
    return 0


def cmd_seed_demo(args: argparse.Namespace) -> int:
    from gongjian.demo import DEMO_LOGINS, DEMO_PASSWORD, seed_demo

    config = _config()
    loaded = _with_db(config, lambda factory: seed_demo(factory, meetings=True))
    if loaded:
        print(f"已载入演示数据。演示账号（密码均为 {DEMO_PASSWORD}）：")
        from domain.labels import label

        for username, display, role in DEMO_LOGINS:
            print(f"  {username:<11} {display}（{label(role)}）")
        print("  member2 … member6  另外五名在职党员（双报到、活动报名演示）")
    else:
        print("数据库中已有数据，未载入演示数据。")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    config = _config()
    if args.migrate:
        cmd_migrate(args)
    if args.demo:
        cmd_seed_demo(args)
    if args.workers > 1 and (config.is_sqlite or not config.redis_url):
        # One relay must order live events and all processes must share them.
        print(
            "多个 web 进程需要 PostgreSQL（DATABASE_URL）和 Redis（REDIS_URL）；"
            "内嵌模式（SQLite、进程内实时推送）只能以单进程运行。",
            file=sys.stderr,
        )
        return 2
    host = args.host or config.host
    port = args.port or config.port
    db = config.describe()["DATABASE_URL"]
    print(f"共建平台运行于 http://{host}:{port}")
    print(f"数据库: {db}；实时: {config.live_backend}；任务: {config.jobs_backend}")
    uvicorn.run(
        "web.asgi:app",
        host=host,
        port=port,
        workers=args.workers,
        proxy_headers=True,
        log_level="info",
        ws="websockets-sansio",
    )
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    from arq.worker import run_worker

    from tasks.worker import WorkerSettings

    _config()
    run_worker(WorkerSettings, **WorkerSettings.settings())  # type: ignore[arg-type]
    return 0


def cmd_create_admin(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from domain.enums import Role
    from domain.models import RoleGrant, User
    from domain.passwords import hash_password, password_problem
    from domain.services.users import USERNAME_RE
    from domain.uow import UnitOfWork

    config = _config()
    username = args.username or input("管理员用户名: ").strip()
    if not USERNAME_RE.match(username):
        print("用户名为 3–50 位字母、数字、下划线、点或短横线。", file=sys.stderr)
        return 2
    password = args.password_stdin and sys.stdin.readline().rstrip("\n")
    if not password:
        password = getpass.getpass("密码: ")
        if getpass.getpass("再次输入密码: ") != password:
            print("两次输入的密码不一致。", file=sys.stderr)
            return 2
    problem = password_problem(password, username)
    if problem:
        print(problem, file=sys.stderr)
        return 2

    async def create(factory: Any) -> bool:
        async with UnitOfWork(factory) as uow:
            if await uow.session.scalar(select(User.id).where(User.username == username)):
                return False
            user = User(
                username=username,
                display_name=args.name or username,
                password_hash=hash_password(password),
            )
            uow.session.add(user)
            await uow.flush()
            uow.session.add(RoleGrant(user_id=user.id, role=Role.PLATFORM_ADMIN.value))
            uow.audit("user.create_admin", "user", user.id, f"命令行创建管理员 {username}")
            await uow.commit()
            return True

    if not _with_db(config, create):
        print(f"用户 {username} 已存在。", file=sys.stderr)
        return 1
    print(f"已创建管理员 {username}。")
    return 0


def cmd_api_token(args: argparse.Namespace) -> int:
    from domain.errors import DomainError
    from domain.services import api_tokens
    from domain.uow import UnitOfWork

    config = _config()

    async def run(factory: Any) -> int:
        async with UnitOfWork(factory) as uow:
            try:
                if args.action == "create":
                    issued = await api_tokens.create_token(uow, args.name)
                    await uow.commit()
                    print(f"已创建令牌 {issued.token.name}。请立即保存，它不会再次显示：")
                    print(issued.secret)
                elif args.action == "list":
                    tokens = await api_tokens.list_tokens(uow)
                    if not tokens:
                        print("暂无接口令牌。")
                    for t in tokens:
                        state = "已吊销" if t.revoked_at else "有效"
                        used = (
                            t.last_used_at.isoformat(timespec="seconds")
                            if t.last_used_at
                            else "从未使用"
                        )
                        print(
                            f"{t.name}\t{t.prefix}…\t{state}"
                            f"\t创建于 {t.created_at:%Y-%m-%d}\t{used}"
                        )
                else:
                    await api_tokens.revoke_token(uow, args.name)
                    await uow.commit()
                    print(f"已吊销令牌 {args.name}。")
            except DomainError as exc:
                print(
                    exc.message if not hasattr(exc, "fields") else "；".join(exc.fields.values()),
                    file=sys.stderr,
                )  # type: ignore[attr-defined]
                return 1
        return 0

    return int(_with_db(config, run))


def cmd_calendar_sync(args: argparse.Namespace) -> int:
    from domain.tasks.calendar_seed import PACKAGE, package_version
    from domain.tasks.workcal import sync_package_years
    from domain.uow import UnitOfWork

    config = _config()

    async def run(factory: Any) -> list[int]:
        async with UnitOfWork(factory) as uow:
            added = await sync_package_years(uow)
            await uow.commit()
            return added

    added: list[int] = _with_db(config, run)
    source = f"{PACKAGE} {package_version()}"
    if added:
        print(f"已从 {source} 补充 {len(added)} 个年份的节假日安排：{'、'.join(map(str, added))}。")
    else:
        print(f"{source} 中的年份均已录入，未作修改（管理员录入的年份从不覆盖）。")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    config = _config()
    for key, value in config.describe().items():
        print(f"{key:<15} {value}")

    async def probe() -> tuple[bool, bool | None]:
        from adapters.db import make_engine, ping

        engine = make_engine(config.database_url)
        db_ok = await ping(engine)
        await engine.dispose()
        redis_ok: bool | None = None
        if config.redis_url:
            import redis.asyncio as aioredis

            client = aioredis.from_url(config.redis_url, socket_connect_timeout=2)
            try:
                redis_ok = bool(await client.ping())
            except Exception:
                redis_ok = False
            finally:
                await client.aclose()
        return db_ok, redis_ok

    db_ok, redis_ok = asyncio.run(probe())
    print(f"{'数据库':<12} {'正常' if db_ok else '无法连接'}")
    if redis_ok is not None:
        print(f"{'Redis':<15} {'正常' if redis_ok else '无法连接'}")
    return 0 if db_ok and redis_ok is not False else 1


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="gongjian", description="共建 — 城市基层党建共建平台")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("serve", help="启动 web 服务")
    s.add_argument("--host")
    s.add_argument("--port", type=int)
    s.add_argument(
        "--workers", type=int, default=1, help="web 进程数（多进程需配置 PostgreSQL 与 Redis）"
    )
    s.add_argument("--migrate", action="store_true", help="启动前升级数据库")
    s.add_argument("--demo", action="store_true", help="数据库为空时载入演示数据")
    s.set_defaults(fn=cmd_serve)

    sub.add_parser("worker", help="启动 arq 后台任务进程（需 REDIS_URL）").set_defaults(
        fn=cmd_worker
    )
    sub.add_parser("migrate", help="升级数据库结构").set_defaults(fn=cmd_migrate)
    sub.add_parser("seed-demo", help="向空数据库载入演示数据").set_defaults(fn=cmd_seed_demo)

    a = sub.add_parser("create-admin", help="创建平台管理员")
    a.add_argument("--username")
    a.add_argument("--name", help="姓名")
    a.add_argument("--password-stdin", action="store_true", help="从标准输入读取密码")
    a.set_defaults(fn=cmd_create_admin)

    t = sub.add_parser("api-token", help="管理接口令牌")
    tsub = t.add_subparsers(dest="action", required=True)
    tc = tsub.add_parser("create", help="创建令牌（只显示一次）")
    tc.add_argument("--name", required=True)
    tsub.add_parser("list", help="列出令牌")
    tr = tsub.add_parser("revoke", help="吊销令牌")
    tr.add_argument("--name", required=True)
    t.set_defaults(fn=cmd_api_token)

    sub.add_parser(
        "calendar-sync", help="从 chinesecalendar 补充数据库中缺少的节假日年份"
    ).set_defaults(fn=cmd_calendar_sync)
    sub.add_parser("check", help="显示配置并检查各项服务").set_defaults(fn=cmd_check)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return int(args.fn(args) or 0)


if __name__ == "__main__":
    raise SystemExit(main())
