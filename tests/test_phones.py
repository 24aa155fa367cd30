import pytest
from hypothesis import given, strategies as st

from casemgmt.accounts.phones import normalise_phone


@pytest.mark.parametrize("raw, expected", [
    ("0812-3456-7890", "+6281234567890"),
    ("+62 812 3456 789", "+628123456789"),
    ("6281234567890", "+6281234567890"),
    ("(0411) 872-345", "+62411872345"),
    ("0811.444.555", "+62811444555"),
])
def test_numbers_as_people_write_them(raw, expected):
    assert normalise_phone(raw) == expected


@pytest.mark.parametrize("raw", ["", "   ", None])
def test_blank_is_none(raw):
    assert normalise_phone(raw) is None


@pytest.mark.parametrize("raw", ["12345", "+1 202 555 0100", "0812", "08123456789012345",
                                 "08abc1234567", "+620812345678", "0012345678"])
def test_not_an_indonesian_number(raw):
    with pytest.raises(ValueError):
        normalise_phone(raw)


@given(st.text(max_size=30))
def test_any_text_is_a_number_or_refused(raw):
    try:
        out = normalise_phone(raw)
    except ValueError:
        return
    assert out is None or (out.startswith("+62") and out[1:].isdigit() and len(out) <= 16)
