"""Identity checks for children and reporters: NIK validation, name keys for duplicate matching, ages."""
from __future__ import annotations

import calendar
import functools
import gzip
import io
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from importlib import resources

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

__all__ = [
    "KK_MESSAGES",
    "NIK_MESSAGES",
    "NikCheck",
    "age_on",
    "check_kk",
    "check_nik",
    "estimated_birth_date",
    "initials",
    "is_known_regency",
    "known_regency_codes",
    "name_key",
]

# ---------------------------------------------------------------------------
# NIK
# ---------------------------------------------------------------------------

NIK_MESSAGES: dict[str, LazyString] = {
    "length": _l("A NIK has exactly 16 digits."),
    "region": _l("The NIK's first four digits are not a known kabupaten/kota code."),
    "date": _l("The NIK's birth date (digits 7 to 12) is not a real date."),
    "serial": _l("The NIK's last four digits cannot be 0000."),
    "birth_date_mismatch": _l("The NIK's birth date differs from the birth date recorded."),
    "sex_mismatch": _l("The NIK says the child is of the other sex (girls' birth day is increased by 40)."),
}

# People write NIKs grouped for readability ("7306 0115 0512 0003", "7306.0115...").
_SEPARATORS = re.compile(r"[\s.\-]")
# ASCII only: str.isdigit() would also accept Arabic-Indic and other digits.
_SIXTEEN_DIGITS = re.compile(r"[0-9]{16}")
_FEMALE_DAY_OFFSET = 40


@dataclass(frozen=True)
class NikCheck:
    """The outcome of checking a NIK; ``errors`` block saving, ``warnings`` only ask for a second look."""

    nik: str
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    birth_date: date | None = None
    sex: str | None = None

    @property
    def ok(self) -> bool:
        return not self.errors


def _decode_birth(day_digits: int, month: int, yy: int, today: date) -> tuple[date, str] | None:
    if 1 <= day_digits <= 31:
        day, sex = day_digits, "M"
    elif _FEMALE_DAY_OFFSET + 1 <= day_digits <= _FEMALE_DAY_OFFSET + 31:
        day, sex = day_digits - _FEMALE_DAY_OFFSET, "F"
    else:
        return None
    # Two-digit years: the most recent century that does not put the birth in the future.
    # Compared as tuples, not dates: the day may not exist in that month, which date() reports below.
    year = 2000 + yy if (2000 + yy, month, day) <= (today.year, today.month, today.day) else 1900 + yy
    try:
        return date(year, month, day), sex
    except ValueError:
        return None


def check_nik(value: str, *, birth_date: date | None = None, sex: str | None = None,
              today: date | None = None, known_regency: Callable[[str], bool] | None = None) -> NikCheck:
    """Check a NIK (``PPKKCC DDMMYY SSSS``) and decode the birth date and sex it carries.

    The region prefix is where the person was first registered, so it is only checked to
    exist, never compared with where the child lives now. ``birth_date`` and ``sex`` are the
    values recorded for the person; a disagreement is a warning, since either may be wrong.
    """
    raw = value if isinstance(value, str) else str(value)
    digits = _SEPARATORS.sub("", raw)
    if not _SIXTEEN_DIGITS.fullmatch(digits):
        return NikCheck(nik=raw, errors=["length"])

    errors: list[str] = []
    regency_known = known_regency or is_known_regency
    if not regency_known(f"{digits[0:2]}.{digits[2:4]}"):
        errors.append("region")

    decoded = _decode_birth(int(digits[6:8]), int(digits[8:10]), int(digits[10:12]), today or date.today())
    if decoded is None:
        errors.append("date")

    if digits[12:16] == "0000":
        errors.append("serial")

    if errors:
        return NikCheck(nik=digits, errors=errors)

    nik_birth_date, nik_sex = decoded
    warnings: list[str] = []
    if birth_date is not None and birth_date != nik_birth_date:
        warnings.append("birth_date_mismatch")
    if sex and sex.upper() in ("F", "M") and sex.upper() != nik_sex:
        warnings.append("sex_mismatch")
    return NikCheck(nik=digits, errors=[], warnings=warnings, birth_date=nik_birth_date, sex=nik_sex)


# ---------------------------------------------------------------------------
# KK (Kartu Keluarga) numbers
# ---------------------------------------------------------------------------

KK_MESSAGES: dict[str, LazyString] = {
    "letters": _l("A KK number has digits only: copy the 16 digits from the family card (Kartu Keluarga)."),
    "length": _l("A KK number has exactly 16 digits."),
    "region": _l("The KK number's first four digits are not a known kabupaten/kota code."),
}


def check_kk(value: str, *, known_regency: Callable[[str], bool] | None = None) -> tuple[str | None, str | None]:
    """Check a Kartu Keluarga number: (its 16 digits, None) or (None, the KK_MESSAGES code).

    Written and grouped as a NIK is; its first six digits are the region that issued the card,
    of which the kabupaten/kota is checked to exist, as for a NIK (never against where the family
    lives now: families move, the card's number stays).
    """
    raw = value if isinstance(value, str) else str(value)
    digits = _SEPARATORS.sub("", raw)
    if not re.fullmatch(r"[0-9]*", digits):
        return None, "letters"
    if not _SIXTEEN_DIGITS.fullmatch(digits):
        return None, "length"
    if not (known_regency or is_known_regency)(f"{digits[0:2]}.{digits[2:4]}"):
        return None, "region"
    return digits, None


# ---------------------------------------------------------------------------
# Region codes
# ---------------------------------------------------------------------------

@functools.lru_cache(maxsize=1)
def known_regency_codes() -> frozenset[str]:
    """All kabupaten/kota codes ("PP.KK") of the national list shipped with the directory."""
    raw = resources.files("casemgmt.directory").joinpath("data/wilayah.csv.gz").read_bytes()
    codes = set()
    with io.TextIOWrapper(gzip.GzipFile(fileobj=io.BytesIO(raw)), encoding="utf-8") as lines:
        next(lines)  # header
        for line in lines:
            # The code column is never quoted (digits and dots), so the csv module is not needed:
            # splitting at the first comma keeps reading the whole national list quick.
            code = line.partition(",")[0]
            if len(code) == 5 and code[2] == ".":
                codes.add(code)
    return frozenset(codes)


def is_known_regency(code: str) -> bool:
    return code in known_regency_codes()


# ---------------------------------------------------------------------------
# Names
# ---------------------------------------------------------------------------

# Spellings from before the 1972 reform (Ejaan Soewandi / Van Ophuijsen) still live on in
# names and in old documents, so "Djoko" and "Joko" must match. One left-to-right pass so a
# replacement never feeds another rule. Plain "j" is left alone: it is modern "j" in "Joko".
_OLD_SPELLINGS = {"dj": "j", "tj": "c", "oe": "u", "ch": "kh", "sj": "sy", "nj": "ny"}
_OLD_SPELLING = re.compile("|".join(_OLD_SPELLINGS))
_DOUBLED = re.compile(r"(.)\1+")


def name_key(name: str) -> str:
    """A key for finding the same person under spelling variants of their name.

    Case, accents, spaces and punctuation are ignored, old spellings are modernised, and
    doubled letters count once ("Muhammad" = "Muhamad"). Use it to find candidates for a
    person to review, never to merge records by itself: different people share keys.
    """
    # Decompose before and after lowering: compatibility forms ("ℌ", "ﬁ") only reveal their
    # plain letters when decomposed, and lowering can produce new combining marks ("İ").
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", name or "").lower())
    letters = "".join(ch for ch in decomposed if ch.isalpha() and not unicodedata.combining(ch))
    modern = _OLD_SPELLING.sub(lambda m: _OLD_SPELLINGS[m.group(0)], letters)
    return _DOUBLED.sub(r"\1", modern)


def initials(name: str) -> str:
    """"Andi Rahmawati" -> "A. R.": how a child is named where the full name must not appear."""
    letters = []
    for word in (name or "").split():
        first = next((ch for ch in word if ch.isalpha()), None)
        if first is not None:
            letters.append(first.upper() + ".")
    return " ".join(letters)


# ---------------------------------------------------------------------------
# Ages
# ---------------------------------------------------------------------------

MAX_ESTIMATED_AGE = 25


def estimated_birth_date(age_years: int, on: date) -> date:
    """A birth date for someone said to be ``age_years`` old on ``on``.

    Anyone that age was born between age_years + 1 years and age_years years before ``on``;
    the middle of that range is taken: ``on`` minus age_years years and 6 months, with a day
    that the target month lacks (29 to 31) clamped to the month's last day. So
    ``age_on(estimated_birth_date(a, on), on) == a`` always holds. Children are 0 to 17; up
    to 25 is accepted for young adults still followed (care leavers, late reports).
    """
    if isinstance(age_years, bool) or not isinstance(age_years, int):
        raise TypeError("age_years must be an int")
    if not 0 <= age_years <= MAX_ESTIMATED_AGE:
        raise ValueError(f"age_years must be between 0 and {MAX_ESTIMATED_AGE}, not {age_years}")
    months = on.year * 12 + (on.month - 1) - (age_years * 12 + 6)
    year, month = divmod(months, 12)
    month += 1
    day = min(on.day, calendar.monthrange(year, month)[1])
    return date(year, month, day)


def age_on(birth_date: date, on: date) -> int:
    """Completed years on ``on``. Someone born on 29 February has their birthday on 1 March
    in other years (their age goes up when 28 February is over)."""
    if on < birth_date:
        raise ValueError("the day is before the birth date")
    had_birthday = (on.month, on.day) >= (birth_date.month, birth_date.day)
    return on.year - birth_date.year - (0 if had_birthday else 1)
