"""Programmatic Alembic: `gongjian migrate` and `make run` upgrade in place."""

from __future__ import annotations

from alembic import command
from alembic.config import Config as AlembicConfig

from gongjian.config import PROJECT_ROOT


def alembic_config(database_url: str) -> AlembicConfig:
    cfg = AlembicConfig(str(PROJECT_ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    cfg.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return cfg


def upgrade(database_url: str) -> None:
    """Bring the schema to head. Not from inside a running event loop: env.py calls asyncio.run."""
    command.upgrade(alembic_config(database_url), "head")
