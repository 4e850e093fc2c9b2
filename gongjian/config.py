"""Settings from the environment (or a `.env` file beside the project).

Every value is checked once at start; a bad one stops the process with a
message that names the setting, so a typo never surfaces later as a 500.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from dotenv import dotenv_values

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB_PATH = PROJECT_ROOT / "var" / "gongjian.db"
SECRET_KEY_FILE = PROJECT_ROOT / ".secret_key"


class ConfigError(Exception):
    """A setting has a value the application cannot run with."""

    def __init__(self, setting: str, problem: str) -> None:
        super().__init__(f"配置错误 {setting}: {problem}")
        self.setting = setting


@dataclass(frozen=True)
class Config:
    database_url: str
    redis_url: str | None
    secret_key: str
    host: str
    port: int
    secure_cookies: bool
    public_origin: str | None

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def live_backend(self) -> str:
        return "redis" if self.redis_url else "memory"

    @property
    def jobs_backend(self) -> str:
        return "arq" if self.redis_url else "inline"

    def describe(self) -> dict[str, str]:
        """What `gongjian check` prints: no secrets."""
        return {
            "DATABASE_URL": _redact(self.database_url),
            "REDIS_URL": _redact(self.redis_url) if self.redis_url else "(未设置: 内嵌模式)",
            "SECRET_KEY": "(已设置)",
            "HOST": self.host,
            "PORT": str(self.port),
            "SECURE_COOKIES": str(self.secure_cookies).lower(),
            "live": self.live_backend,
            "jobs": self.jobs_backend,
        }


def _redact(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        return url.replace(f":{parts.password}@", ":***@")
    return url


def normalize_database_url(raw: str) -> str:
    """Accept the usual spellings and pick the async driver we ship."""
    url = raw.strip()
    if url.startswith(("postgres://", "postgresql://")):
        url = "postgresql+asyncpg://" + url.split("://", 1)[1]
    elif url.startswith("sqlite:///"):
        url = "sqlite+aiosqlite:///" + url[len("sqlite:///") :]
    if url.startswith("postgresql+asyncpg://"):
        if not urlsplit(url).path.strip("/"):
            raise ConfigError("DATABASE_URL", "PostgreSQL 地址缺少数据库名")
        return url
    if url.startswith("sqlite+aiosqlite:///"):
        if not url[len("sqlite+aiosqlite:///") :]:
            raise ConfigError("DATABASE_URL", "SQLite 地址缺少文件路径")
        return url
    raise ConfigError(
        "DATABASE_URL",
        f"不支持的地址 {raw!r}；请使用 postgresql://… 或 sqlite:///路径",
    )


def _redis_url(raw: str | None) -> str | None:
    if raw is None or not raw.strip():
        return None
    url = raw.strip()
    if not url.startswith(("redis://", "rediss://", "unix://")):
        raise ConfigError("REDIS_URL", f"不支持的地址 {raw!r}；请使用 redis://主机:端口/库号")
    return url


def _port(raw: str) -> int:
    try:
        port = int(raw)
    except ValueError:
        raise ConfigError("PORT", f"{raw!r} 不是端口号") from None
    if not 0 < port < 65536:
        raise ConfigError("PORT", f"{port} 不在 1–65535 之间")
    return port


def _bool(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off", ""}:
        return False
    raise ConfigError(name, f"{raw!r} 不是布尔值（true/false）")


def _secret_key(raw: str | None, key_file: Path) -> str:
    if raw is not None and raw.strip():
        if len(raw.strip()) < 32:
            raise ConfigError("SECRET_KEY", "长度至少 32 个字符")
        return raw.strip()
    # Generated once into an untracked file so sessions survive restarts.
    if key_file.exists():
        key = key_file.read_text().strip()
        if len(key) < 32:
            raise ConfigError("SECRET_KEY", f"{key_file} 中的密钥过短，请删除该文件后重启")
        return key
    key = secrets.token_urlsafe(48)
    key_file.parent.mkdir(parents=True, exist_ok=True)
    key_file.write_text(key + "\n")
    key_file.chmod(0o600)
    return key


def load_config(
    environ: dict[str, str] | None = None,
    env_file: Path | None = None,
    key_file: Path = SECRET_KEY_FILE,
) -> Config:
    """Environment wins over `.env`; `.env` wins over defaults."""
    env: dict[str, str] = {}
    file = env_file if env_file is not None else PROJECT_ROOT / ".env"
    if file.exists():
        env.update({k: v for k, v in dotenv_values(file).items() if v is not None})
    env.update(os.environ if environ is None else environ)

    db_raw = env.get("DATABASE_URL") or f"sqlite:///{DEFAULT_DB_PATH}"
    public_origin = env.get("PUBLIC_ORIGIN") or None
    if public_origin and not public_origin.startswith(("http://", "https://")):
        raise ConfigError("PUBLIC_ORIGIN", "须以 http:// 或 https:// 开头")
    secure_default = "true" if (public_origin or "").startswith("https://") else "false"
    return Config(
        database_url=normalize_database_url(db_raw),
        redis_url=_redis_url(env.get("REDIS_URL")),
        secret_key=_secret_key(env.get("SECRET_KEY"), key_file),
        host=env.get("HOST") or "127.0.0.1",
        port=_port(env.get("PORT") or "8000"),
        secure_cookies=_bool("SECURE_COOKIES", env.get("SECURE_COOKIES") or secure_default),
        public_origin=public_origin.rstrip("/") if public_origin else None,
    )
