"""Password hashing (argon2id) and the rules a new password must meet."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()

# A fixed hash to verify against when the account does not exist, so that a
# wrong username costs as much time as a wrong password.
_DUMMY_HASH = _hasher.hash("gongjian-dummy-password")

MIN_LENGTH = 8


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def password_problem(password: str, username: str = "") -> str | None:
    """Why a new password is not acceptable, or None."""
    if len(password) < MIN_LENGTH:
        return f"密码至少 {MIN_LENGTH} 位。"
    if username and password.lower() == username.lower():
        return "密码不能与用户名相同。"
    if password.isdigit() or password.isalpha():
        return "密码须同时包含字母和数字（或符号）。"
    return None
