"""Pure validators: no app needed."""

import pytest

from vendorrisk.validation import (
    corporate_number_check_digit,
    is_valid_corporate_number,
    is_valid_security_action_id,
    normalize_corporate_number,
)


def test_a_published_corporate_number_passes():
    # Toyota Motor Corporation, as published on the NTA's corporate number site.
    assert is_valid_corporate_number("1180301018771")


def test_check_digit_is_the_nta_formula():
    # 9 - (sum of digits, weighted 1 and 2 from the right, mod 9)
    assert corporate_number_check_digit("180301018771") == 1


@pytest.mark.parametrize(
    "number", ["2180301018771", "118030101877", "11803010187712", "118030101877a", ""]
)
def test_wrong_check_digit_or_shape_fails(number):
    assert not is_valid_corporate_number(number)


def test_every_single_digit_error_but_a_0_9_swap_is_caught():
    # A mod-9 check digit cannot see a 0 <-> 9 substitution; every other one it sees.
    good = "1180301018771"
    for position in range(1, 13):
        for digit in "0123456789":
            if digit == good[position] or {digit, good[position]} == {"0", "9"}:
                continue
            bad = good[:position] + digit + good[position + 1 :]
            assert not is_valid_corporate_number(bad), bad


def test_normalize_accepts_full_width_digits_and_separators():
    assert normalize_corporate_number("１１８０-３０１０-１８７７１") == "1180301018771"
    assert normalize_corporate_number(" 1180 3010 18771 ") == "1180301018771"


@pytest.mark.parametrize(
    "value,ok",
    [
        ("50000228580", True),
        ("41234567890", True),
        ("31234567890", False),
        ("5000022858", False),
        ("500002285801", False),
    ],
)
def test_security_action_id(value, ok):
    assert is_valid_security_action_id(value) is ok
