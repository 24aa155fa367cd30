"""Password hashing (Argon2id) and the password policy."""
from __future__ import annotations

import re
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from flask_babel import gettext as _

# Common in Indonesia and absent from the (English-language) leaked-password list.
_LOCAL_COMMON = {
    "bismillah", "bismillah123", "indonesia", "indonesia123", "sayangku", "sayang123",
    "rahasia", "rahasia123", "password123", "makassar", "makassar123", "sulawesi",
    "merdeka", "merdeka45", "qwertyuiop", "1234567890", "12345678910", "0987654321",
    "casemgmt", "pksai", "peksos", "patbm", "puskesos", "admin12345", "administrator",
}


@lru_cache(maxsize=1)
def _common_passwords() -> frozenset[str]:
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"]) | _LOCAL_COMMON


def _hasher() -> PasswordHasher:
    cfg = current_app.config
    return PasswordHasher(
        time_cost=cfg["ARGON2_TIME_COST"],
        memory_cost=cfg["ARGON2_MEMORY_COST"],
        parallelism=cfg["ARGON2_PARALLELISM"],
    )


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    try:
        return _hasher().check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


_DUMMY_HASH: dict[str, str] = {}


def burn_time_like_a_verify() -> None:
    """Spend what a real verify costs, so a wrong username answers as slowly as a wrong password."""
    key = repr(sorted((k, v) for k, v in current_app.config.items() if k.startswith("ARGON2")))
    if key not in _DUMMY_HASH:
        _DUMMY_HASH[key] = hash_password("not-a-real-password-0")
    verify_password(_DUMMY_HASH[key], "not-the-password-1")


def policy_problems(password: str, username: str | None = None) -> list[str]:
    """Why a password is not acceptable, in the user's language; empty when it is fine."""
    problems = []
    minimum = current_app.config["PASSWORD_MIN_LENGTH"]
    if len(password) < minimum:
        problems.append(_("The password must be at least %(n)d characters long.", n=minimum))
    lowered = password.lower()
    if username and username.lower() in lowered:
        problems.append(_("The password must not contain the username."))
    folded = re.sub(r"[\s\d!@#$%^&*._-]+$", "", lowered)
    if lowered in _common_passwords() or (folded and folded in _common_passwords() and len(folded) >= 4):
        problems.append(_("This password is too common; choose another."))
    elif len(set(password)) < 4:
        problems.append(_("The password repeats too few different characters."))
    return problems
