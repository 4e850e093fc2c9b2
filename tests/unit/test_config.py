from pathlib import Path

import pytest

from gongjian.config import ConfigError, load_config, normalize_database_url


def env(**values: str) -> dict[str, str]:
    return {"SECRET_KEY": "k" * 40, **values}


def test_defaults_are_embedded_mode(tmp_path: Path) -> None:
    cfg = load_config(env(), env_file=tmp_path / "none", key_file=tmp_path / "key")
    assert cfg.is_sqlite
    assert cfg.live_backend == "memory" and cfg.jobs_backend == "inline"
    assert cfg.port == 8000


def test_postgres_url_gets_async_driver() -> None:
    assert normalize_database_url("postgresql://u@h/db") == "postgresql+asyncpg://u@h/db"
    assert normalize_database_url("postgres://u@h/db") == "postgresql+asyncpg://u@h/db"


@pytest.mark.parametrize(
    ("values", "setting"),
    [
        ({"DATABASE_URL": "mysql://x/y"}, "DATABASE_URL"),
        ({"DATABASE_URL": "postgresql://host"}, "DATABASE_URL"),
        ({"REDIS_URL": "http://localhost"}, "REDIS_URL"),
        ({"PORT": "eighty"}, "PORT"),
        ({"PORT": "70000"}, "PORT"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY"),
        ({"SECURE_COOKIES": "maybe"}, "SECURE_COOKIES"),
        ({"PUBLIC_ORIGIN": "example.org"}, "PUBLIC_ORIGIN"),
    ],
)
def test_bad_values_name_the_setting(tmp_path: Path, values: dict[str, str], setting: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(env(**values), env_file=tmp_path / "none", key_file=tmp_path / "key")
    assert info.value.setting == setting
    assert setting in str(info.value)


def test_secret_key_generated_once_into_untracked_file(tmp_path: Path) -> None:
    key_file = tmp_path / ".secret_key"
    first = load_config({}, env_file=tmp_path / "none", key_file=key_file)
    second = load_config({}, env_file=tmp_path / "none", key_file=key_file)
    assert first.secret_key == second.secret_key
    assert len(first.secret_key) >= 32
    assert key_file.stat().st_mode & 0o077 == 0


def test_env_file_is_read_and_environment_wins(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text("PORT=9001\nHOST=0.0.0.0\n")
    cfg = load_config(env(PORT="9002"), env_file=dotenv, key_file=tmp_path / "key")
    assert cfg.port == 9002
    assert cfg.host == "0.0.0.0"


def test_https_origin_turns_on_secure_cookies(tmp_path: Path) -> None:
    cfg = load_config(
        env(PUBLIC_ORIGIN="https://gj.example.org/"),
        env_file=tmp_path / "n",
        key_file=tmp_path / "k",
    )
    assert cfg.secure_cookies
    assert cfg.public_origin == "https://gj.example.org"


def test_describe_hides_secrets(tmp_path: Path) -> None:
    cfg = load_config(
        env(DATABASE_URL="postgresql://gj:s3cret@db/gj"),
        env_file=tmp_path / "n",
        key_file=tmp_path / "k",
    )
    text = str(cfg.describe())
    assert "s3cret" not in text
    assert "k" * 40 not in text
