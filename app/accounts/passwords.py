"""Password hashing with argon2 (pwdlib); the parameters come from the settings."""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

if TYPE_CHECKING:
    from app.config import Settings

MIN_PASSWORD_LENGTH = 10

_hasher = PasswordHash((Argon2Hasher(),))


def passwords_configure(settings: Settings) -> None:
    """Hash (and re-hash on sign-in) with the settings' argon2 parameters, for this whole process."""
    global _hasher
    _hasher = PasswordHash(
        (
            Argon2Hasher(
                time_cost=settings.password_time_cost,
                memory_cost=settings.password_memory_kib,
                parallelism=settings.password_parallelism,
            ),
        )
    )
    _dummy_hash.cache_clear()


def password_hash(password: str) -> str:
    """An argon2 hash of the password."""
    return _hasher.hash(password)


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return _hasher.hash("not-a-real-password")


def password_verify(password: str, hashed: str | None) -> tuple[bool, str | None]:
    """Check a password; returns (ok, new hash if the parameters have changed).

    With no stored hash it still does the work of one check, so the response time
    does not tell an attacker whether the username exists.
    """
    if hashed is None:
        _hasher.verify(password, _dummy_hash())
        return False, None
    return _hasher.verify_and_update(password, hashed)
