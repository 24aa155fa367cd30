"""NIK validation, name keys and ages (casemgmt.cases.identity): pure functions, no app needed."""
from __future__ import annotations

from datetime import date
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from casemgmt.cases.identity import (
    NIK_MESSAGES,
    age_on,
    check_nik,
    estimated_birth_date,
    initials,
    is_known_regency,
    known_regency_codes,
    name_key,
)

TODAY = date(2025, 6, 30)
BOY = "7306011505120003"   # Gowa, 15 May 2012, male
GIRL = "7306015505120004"  # Gowa, day 55 = 15 + 40: 15 May 2012, female


def build_nik(region: str, born: date, sex: str, serial: int, kecamatan: str = "01") -> str:
    day = born.day + (40 if sex == "F" else 0)
    return f"{region}{kecamatan}{day:02d}{born.month:02d}{born.year % 100:02d}{serial:04d}"


# --- NIK: valid numbers --------------------------------------------------------------

def test_valid_boy_nik_decodes_birth_date_and_sex():
    result = check_nik(BOY, today=TODAY)
    assert result.ok
    assert result.errors == [] and result.warnings == []
    assert result.nik == BOY
    assert result.birth_date == date(2012, 5, 15)
    assert result.sex == "M"


def test_valid_girl_nik_has_40_added_to_the_day():
    result = check_nik(GIRL, today=TODAY)
    assert result.ok
    assert result.birth_date == date(2012, 5, 15)
    assert result.sex == "F"


@pytest.mark.parametrize("written", ["7306 0115 0512 0003", "7306.0115.0512.0003",
                                     "7306-0115-0512-0003", " 730601 150512 0003 "])
def test_separators_are_removed(written):
    result = check_nik(written, today=TODAY)
    assert result.ok
    assert result.nik == BOY
    assert result.birth_date == date(2012, 5, 15)


def test_default_today_accepts_a_past_birth():
    result = check_nik(BOY)
    assert result.ok and result.birth_date == date(2012, 5, 15)


# --- NIK: century rule --------------------------------------------------------------------

def test_two_digit_year_in_the_future_this_century_means_last_century():
    result = check_nik("7306011505990003", today=TODAY)
    assert result.ok and result.birth_date == date(1999, 5, 15)


def test_two_digit_year_not_in_the_future_means_this_century():
    result = check_nik("7306011505120003", today=TODAY)
    assert result.birth_date == date(2012, 5, 15)


def test_century_rule_uses_the_full_date_not_only_the_year():
    born_tomorrow_in_2025 = "7306010107250003"  # 1 July 25
    assert check_nik(born_tomorrow_in_2025, today=TODAY).birth_date == date(1925, 7, 1)
    assert check_nik("7306013006250003", today=TODAY).birth_date == date(2025, 6, 30)


def test_29_february_2000():
    assert check_nik("7306012902000003", today=TODAY).birth_date == date(2000, 2, 29)
    # Before that day, 00 means 1900, which was not a leap year.
    assert check_nik("7306012902000003", today=date(1999, 12, 31)).errors == ["date"]


# --- NIK: errors ----------------------------------------------------------------------

@pytest.mark.parametrize("value", ["730601150512000", "73060115051200031", "7306O11505120003",
                                   "NIK7306011505120", "", "   ", "7306/0115/0512/0003",
                                   "７３０６０１１５０５１２０００３"])
def test_not_sixteen_ascii_digits_is_a_length_error_and_nothing_else(value):
    result = check_nik(value, today=TODAY)
    assert result.errors == ["length"]
    assert not result.ok
    assert result.nik == value
    assert result.birth_date is None and result.sex is None and result.warnings == []


@pytest.mark.parametrize("nik", [
    "7306013102120001",  # 31 February, male
    "7306017102120001",  # 31 February, female
    "7306013205120001",  # day 32
    "7306014005120001",  # day 40 = female day 0
    "7306017205120001",  # day 72
    "7306010005120001",  # day 00
    "7306011513120001",  # month 13
    "7306011500120001",  # month 00
    "7306013104120001",  # 31 April
    "7306012902130001",  # 29 February 2013
])
def test_impossible_birth_date(nik):
    result = check_nik(nik, today=TODAY)
    assert result.errors == ["date"]
    assert result.birth_date is None and result.sex is None


def test_unknown_region():
    result = check_nik("9999011505120003", today=TODAY)
    assert result.errors == ["region"]
    assert result.nik == "9999011505120003"


def test_province_alone_is_not_a_regency():
    assert check_nik("7300011505120003", today=TODAY).errors == ["region"]


def test_region_can_be_any_known_regency_not_only_the_childs_own():
    assert check_nik("9171011505120003", today=TODAY).ok  # Kota Jayapura
    assert check_nik("1101011505120003", today=TODAY).ok  # Kabupaten Aceh Selatan


def test_serial_0000():
    assert check_nik("7306011505120000", today=TODAY).errors == ["serial"]


def test_all_errors_are_reported_together():
    result = check_nik("9999013213120000", today=TODAY)
    assert result.errors == ["region", "date", "serial"]


def test_known_regency_can_be_supplied():
    asked = []

    def only_gowa(code):
        asked.append(code)
        return code == "73.06"

    assert check_nik(BOY, today=TODAY, known_regency=only_gowa).ok
    assert asked == ["73.06"]
    assert check_nik("7371011505120003", today=TODAY, known_regency=only_gowa).errors == ["region"]
    assert check_nik("9999011505120003", today=TODAY, known_regency=lambda code: True).ok


# --- NIK: warnings -----------------------------------------------------------------------

def test_birth_date_mismatch_warns():
    result = check_nik(BOY, birth_date=date(2012, 5, 16), today=TODAY)
    assert result.ok
    assert result.warnings == ["birth_date_mismatch"]


def test_sex_mismatch_warns():
    assert check_nik(BOY, sex="F", today=TODAY).warnings == ["sex_mismatch"]
    assert check_nik(GIRL, sex="M", today=TODAY).warnings == ["sex_mismatch"]


def test_both_mismatches():
    result = check_nik(GIRL, birth_date=date(2012, 5, 55 - 40 - 1), sex="M", today=TODAY)
    assert result.ok
    assert result.warnings == ["birth_date_mismatch", "sex_mismatch"]


def test_consistent_record_gives_no_warning():
    assert check_nik(BOY, birth_date=date(2012, 5, 15), sex="M", today=TODAY).warnings == []
    assert check_nik(GIRL, birth_date=date(2012, 5, 15), sex="F", today=TODAY).warnings == []


def test_no_warnings_when_there_are_errors():
    result = check_nik("9999015505120004", birth_date=date(2001, 1, 1), sex="M", today=TODAY)
    assert result.errors == ["region"]
    assert result.warnings == []


def test_every_code_has_a_message():
    codes = {"length", "region", "date", "serial", "birth_date_mismatch", "sex_mismatch"}
    assert set(NIK_MESSAGES) == codes


# --- NIK: properties ------------------------------------------------------------------

@given(born=st.dates(min_value=date(1950, 1, 1), max_value=date.today()),
       sex=st.sampled_from(["F", "M"]),
       serial=st.integers(min_value=1, max_value=9999),
       kecamatan=st.integers(min_value=1, max_value=99))
def test_nik_built_by_the_rule_round_trips(born, sex, serial, kecamatan):
    nik = build_nik("7306", born, sex, serial, f"{kecamatan:02d}")
    result = check_nik(nik, birth_date=born, sex=sex)
    assert result.errors == []
    assert result.warnings == []
    assert result.birth_date == born
    assert result.sex == sex
    assert result.nik == nik


@given(st.text())
def test_check_nik_never_raises_on_any_text(value):
    result = check_nik(value, today=TODAY)
    assert result.ok == (result.errors == [])
    assert set(result.errors) <= set(NIK_MESSAGES)


@given(st.text(alphabet="0123456789 .-", max_size=24))
def test_check_nik_never_raises_on_digit_like_text(value):
    result = check_nik(value, today=TODAY)
    assert set(result.errors) | set(result.warnings) <= set(NIK_MESSAGES)
    if result.ok:
        assert len(result.nik) == 16 and result.birth_date is not None and result.sex in ("F", "M")


# --- region codes ---------------------------------------------------------------------

def test_regency_codes_are_the_national_kabupaten_kota_list():
    codes = known_regency_codes()
    assert {"73.06", "11.01", "91.71"} <= codes
    assert 500 < len(codes) < 600
    assert all(len(code) == 5 and code.count(".") == 1 for code in codes)
    assert "73" not in codes and "73.06.01" not in codes


def test_is_known_regency():
    assert is_known_regency("73.06")
    assert not is_known_regency("99.99")
    assert not is_known_regency("7306")
    assert not is_known_regency("73")


# --- names ---------------------------------------------------------------------------------

@pytest.mark.parametrize("a, b", [
    ("Djoko Soesilo", "Joko Susilo"),
    ("Tjitra", "Citra"),
    ("Chairul", "Khairul"),
    ("Soekarno", "Sukarno"),
    ("Sjamsul", "Syamsul"),
    ("Njoman", "Nyoman"),
    ("Andi  Rahmawati", "andi rahmawati"),
    ("Muhammad", "Muhamad"),
    ("Sitti Aminah", "Siti Aminah"),
    ("Aminah", "Aminnah"),
    ("Nur Halimah", "Nurhalimah"),
    ("NURHALIMAH", "nur-halimah"),
    ("Andi Rahmawati", "Andi Rahmawati"),
    ("José", "Jose"),
    ("Nur'aini", "Nuraini"),
])
def test_spelling_variants_share_a_key(a, b):
    assert name_key(a) == name_key(b)
    assert name_key(a) != ""


@pytest.mark.parametrize("a, b", [
    ("Andi", "Ani"),
    ("Rahmat", "Rahmawati"),
    ("Joko", "Yoko"),
    ("Siti", "Sinta"),
])
def test_different_names_keep_different_keys(a, b):
    assert name_key(a) != name_key(b)


def test_name_key_examples():
    assert name_key("Djoko Soesilo") == "jokosusilo"
    assert name_key("Muhammad") == "muhamad"
    assert name_key("Chairul") == "khairul"


@pytest.mark.parametrize("value", ["", "   ", "123 - 456", "...", "\t\n"])
def test_letterless_name_has_empty_key(value):
    assert name_key(value) == ""


_ascii_name = st.text(alphabet=st.sampled_from("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ "),
                      max_size=30)


@given(_ascii_name)
def test_name_key_ignores_case(name):
    assert name_key(name) == name_key(name.upper()) == name_key(name.lower())


@given(_ascii_name)
def test_name_key_ignores_spaces(name):
    assert name_key(name) == name_key(name.replace(" ", ""))


@given(_ascii_name, st.sampled_from(["-", ".", "'", "  ", "1"]))
def test_name_key_ignores_punctuation_between_letters(name, separator):
    assert name_key(name) == name_key(separator.join(name))


@given(st.text())
def test_name_key_is_lowercase_letters_without_doubles(name):
    key = name_key(name)
    assert all(ch.isalpha() for ch in key)
    assert key == key.lower()
    assert all(a != b for a, b in pairwise(key))


# --- initials -------------------------------------------------------------------------

@pytest.mark.parametrize("name, expected", [
    ("Andi Rahmawati", "A. R."),
    ("Rahmat", "R."),
    ("  andi   rahmawati  ", "A. R."),
    ("siti nur aminah", "S. N. A."),
    ("", ""),
    ("   ", ""),
    ("Hj. Siti Aminah", "H. S. A."),
])
def test_initials(name, expected):
    assert initials(name) == expected


# --- ages ------------------------------------------------------------------------------------

def test_estimated_birth_date_is_age_and_six_months_before():
    assert estimated_birth_date(10, date(2025, 6, 30)) == date(2014, 12, 30)
    assert estimated_birth_date(0, date(2025, 3, 15)) == date(2024, 9, 15)
    assert estimated_birth_date(5, date(2025, 8, 31)) == date(2020, 2, 29)
    assert estimated_birth_date(6, date(2025, 8, 31)) == date(2019, 2, 28)
    assert estimated_birth_date(1, date(2025, 12, 31)) == date(2024, 6, 30)


@pytest.mark.parametrize("age", [-1, 26, 100])
def test_estimated_birth_date_rejects_impossible_ages(age):
    with pytest.raises(ValueError):
        estimated_birth_date(age, date(2025, 6, 30))


def test_estimated_birth_date_accepts_young_adults():
    assert age_on(estimated_birth_date(25, date(2025, 6, 30)), date(2025, 6, 30)) == 25


def test_age_on():
    born = date(2012, 5, 15)
    assert age_on(born, date(2012, 5, 15)) == 0
    assert age_on(born, date(2025, 5, 14)) == 12
    assert age_on(born, date(2025, 5, 15)) == 13
    assert age_on(born, date(2025, 12, 31)) == 13
    assert age_on(date(2012, 2, 29), date(2025, 2, 28)) == 12
    assert age_on(date(2012, 2, 29), date(2025, 3, 1)) == 13
    with pytest.raises(ValueError):
        age_on(born, date(2012, 5, 14))


@given(age=st.integers(min_value=0, max_value=17),
       on=st.dates(min_value=date(1950, 1, 1), max_value=date(2100, 12, 31)))
def test_estimated_birth_date_gives_back_the_age(age, on):
    born = estimated_birth_date(age, on)
    assert age_on(born, on) == age
    assert born < on
