"""The password policy and Argon2id hashing."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from casemgmt.accounts.passwords import hash_password, policy_problems, verify_password


@pytest.mark.parametrize("password", ["pendek", "123456789"])
def test_shorter_than_ten_is_refused(password):
    assert any("10" in p for p in policy_problems(password, "peksos"))


@pytest.mark.parametrize("password", ["peksos.gowa-2026", "xxPEKSOS.GOWAxx1"])
def test_containing_the_username_is_refused(password):
    assert policy_problems(password, "peksos.gowa")


@pytest.mark.parametrize("password", ["password123", "qwertyuiop", "1234567890", "bismillah123",
                                      "Password1234!", "iloveyou2026"])
def test_common_passwords_are_refused(password):
    assert policy_problems(password, "someone")


def test_repetitive_password_is_refused():
    assert policy_problems("aaaaaaaaaaaa", "someone")


@pytest.mark.parametrize("password", ["Tepat-Waktu-2026", "kopi susu di Bontonompo", "Gowa#Barembeng!19"])
def test_reasonable_passwords_pass(password):
    assert policy_problems(password, "peksos") == []


def test_hash_is_argon2id_and_verifies():
    hashed = hash_password("Tepat-Waktu-2026")
    assert hashed.startswith("$argon2id$")
    assert verify_password(hashed, "Tepat-Waktu-2026")
    assert not verify_password(hashed, "Tepat-Waktu-2027")
    assert not verify_password("not-a-hash", "x")


@settings(max_examples=60, deadline=None)
@given(st.text(min_size=0, max_size=9))
def test_any_password_under_ten_characters_is_refused(password):
    assert policy_problems(password, None)
