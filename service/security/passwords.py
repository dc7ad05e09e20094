"""Argon2id password hashing and the password policy."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from functools import cache

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn import zxcvbn

from service.config import PasswordHashing, get_settings
from service.errors import Invalid

_HASHERS = {
    PasswordHashing.STANDARD: PasswordHasher(),  # argon2id with the library's recommended parameters
    # Settings refuse this outside TANDEM_ENV=test: it lets the test suite hash thousands of passwords.
    PasswordHashing.CHEAPEST: PasswordHasher.from_parameters(profiles.CHEAPEST),
}
MAX_LENGTH = 256


def _hasher() -> PasswordHasher:
    return _HASHERS[get_settings().password_hashing]


@cache
def _dummy_hash(hashing: PasswordHashing) -> str:
    """Verified when no account matched, so a miss costs as much time as a wrong password."""
    return _HASHERS[hashing].hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    hashing = get_settings().password_hashing
    try:
        matched = _HASHERS[hashing].verify(password_hash or _dummy_hash(hashing), password)
    except (VerificationError, InvalidHashError):
        return False
    return matched and password_hash is not None


def needs_rehash(password_hash: str) -> bool:
    return _hasher().check_needs_rehash(password_hash)


def check_strength(password: str, *, user_inputs: Sequence[str] = ()) -> None:
    """Refuse short, very long, common or easily guessed passwords, with a reason a person can act on."""
    minimum = get_settings().password_min_length
    if len(password) < minimum:
        raise Invalid(f"password must be at least {minimum} characters long")
    if len(password) > MAX_LENGTH:
        raise Invalid(f"password must be at most {MAX_LENGTH} characters long")
    # zxcvbn knows the common-password lists; score 3 = "safely unguessable" for online attacks.
    verdict = zxcvbn(password[:100], user_inputs=[u for u in user_inputs if u])
    if verdict["score"] < 3:
        raise Invalid("password is too common or too easy to guess; try a longer phrase of unrelated words")


def generate_password() -> str:
    """A one-time password for a new staff account (about 96 bits)."""
    return secrets.token_urlsafe(12)
