"""Password hashing with argon2id (argon2-cffi's defaults, RFC 9106 low-memory profile)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from heimdex.errors import BadInput

MIN_LENGTH = 8
_hasher = PasswordHasher()


def check_strength(password: str) -> None:
    """Raise :class:`BadInput` for a password too weak to accept."""
    if len(password) < MIN_LENGTH:
        raise BadInput("weak_password", f"Use a password of at least {MIN_LENGTH} characters.")


def hash_password(password: str) -> str:
    """An argon2id hash of ``password`` (salted; safe to store)."""
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether ``password`` matches ``password_hash``."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
