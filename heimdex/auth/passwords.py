"""Passwords: what sign-up accepts (NIST SP 800-63B style) and argon2id hashing.

Accepted: 8 to 256 characters, not only spaces, not one of the 30,000 most common
passwords (zxcvbn's list, from leaked password sets), not the e-mail address, its name
part or the display name with a few digits or signs around them, not a short piece
repeated (``aaaaaaaa``, ``abababababab``). No composition rules: length beats symbols.
"""

from __future__ import annotations

import re
import secrets
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from heimdex.errors import BadInput

MIN_LENGTH = 8
MAX_LENGTH = 256
_hasher = PasswordHasher()


@lru_cache(maxsize=1)
def _common() -> frozenset[str]:
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"])


def check_strength(password: str, email: str = "", name: str = "") -> None:
    """Raise :class:`BadInput` with the reason for a password too weak to accept (``name``: the display name)."""
    if len(password) < MIN_LENGTH:
        raise BadInput("weak_password", f"Use a password of at least {MIN_LENGTH} characters.")
    if len(password) > MAX_LENGTH:
        raise BadInput("weak_password", f"Use a password of at most {MAX_LENGTH} characters.")
    lowered = password.strip().lower()
    if not lowered:
        raise BadInput("weak_password", "A password of spaces only is too easy to guess; use words or characters.")
    if len(set(lowered)) == 1:
        raise BadInput("weak_password", "A password of one character repeated is too easy to guess.")
    if (lowered + lowered).find(lowered, 1) < len(lowered):  # a shorter piece, repeated
        raise BadInput("weak_password", "A password of one short piece repeated is too easy to guess.")
    if lowered in _common() or lowered.replace(" ", "") in _common():
        raise BadInput(
            "weak_password", "This password is one of the most common ones and is guessed first; choose another."
        )
    email = email.strip().lower()
    if email and lowered in {email, email.split("@")[0]}:
        raise BadInput("weak_password", "Don't use your email address as your password.")
    if _built_from(lowered, _own_words(email, name)):
        raise BadInput("weak_password", "Don't build your password from your name or email address.")


def _own_words(email: str, name: str) -> set[str]:
    """The pieces of the e-mail address and the display name someone could guess (three letters or more)."""
    local = email.split("@")[0]
    pieces = {local, name.strip().lower(), name.strip().lower().replace(" ", "")}
    pieces |= set(re.split(r"[\s._+-]+", f"{local} {name.lower()}"))
    return {p for p in pieces if len(p) >= 3}


def _built_from(password: str, words: set[str]) -> bool:
    """Whether ``password`` is those words with little else: under four characters left, or no letter left."""
    rest = password
    for word in sorted(words, key=len, reverse=True):
        rest = rest.replace(word, "")
    return rest != password and (len(rest) < 4 or not any(c.isalpha() for c in rest))


def hash_password(password: str) -> str:
    """An argon2id hash of ``password`` (salted; safe to store)."""
    return _hasher.hash(password)


@lru_cache(maxsize=1)
def _decoy() -> str:
    return _hasher.hash(secrets.token_hex(16))


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches ``password_hash``; with no hash (an unknown account) the same work is done."""
    try:
        return _hasher.verify(password_hash or _decoy(), password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False
