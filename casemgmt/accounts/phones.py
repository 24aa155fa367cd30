"""Indonesian phone numbers, written as people write them, kept as E.164 (+62...)."""
from __future__ import annotations

import re

# Separators people type between digit groups.
_SEPARATORS = re.compile(r"[\s\-.()/]")
# After the country code: a mobile (8xx) or an area code (2x..9x, Makassar 411); E.164 allows
# at most 15 digits in all, and Indonesian numbers have 8 to 12 after +62.
_NATIONAL = re.compile(r"[2-9]\d{7,11}")


def normalise_phone(raw: str | None) -> str | None:
    """``0812-3456-789``, ``62812...``, ``+62 812 ...`` → ``+62812...``. None for a blank value;
    ValueError for anything that is not an Indonesian number."""
    if raw is None or not raw.strip():
        return None
    digits = _SEPARATORS.sub("", raw.strip())
    if digits.startswith("+62"):
        national = digits[3:]
    elif digits.startswith("62"):
        national = digits[2:]
    elif digits.startswith("0"):
        national = digits[1:]
    else:
        raise ValueError("not an Indonesian phone number")
    if not _NATIONAL.fullmatch(national):
        raise ValueError("not an Indonesian phone number")
    return "+62" + national
