"""The password policy: 12 to 256 characters, four character classes, not the email address."""

from __future__ import annotations

import pytest

from balcao.domain.errors import FieldProblem
from balcao.domain.passwords import (
    NO_DIGIT_MESSAGE,
    NO_LOWER_CASE_MESSAGE,
    NO_SYMBOL_MESSAGE,
    NO_UPPER_CASE_MESSAGE,
    SAME_AS_EMAIL_MESSAGE,
    TOO_LONG_MESSAGE,
    TOO_SHORT_MESSAGE,
    WeakPasswordError,
    check_password,
)


def weak(*messages: str, field: str = "password") -> list[FieldProblem]:
    return [FieldProblem(field, "weak_password", message) for message in messages]


@pytest.mark.parametrize(
    "password",
    [
        "Balcao-demo-2026!",  # the demo password of API.md
        "Aa1!Aa1!Aa1!",  # exactly 12 characters
        "Ação-Pública-2026",  # accented letters count as letters
        "correct Horse battery 9 staple?",  # spaces are allowed
        "Ab1!" + "x" * 252,  # exactly 256 characters
    ],
)
def test_strong_passwords_pass(password):
    # Given passwords that satisfy every rule, When checked, Then nothing is raised
    assert check_password(password, email="ana@example.com") is None


def test_the_space_is_not_a_symbol():
    # Given a password whose only non-alphanumeric characters are spaces
    # When it is checked
    with pytest.raises(WeakPasswordError) as raised:
        check_password("correct Horse battery 9 staple")
    # Then the symbol is still missing
    assert raised.value.fields == weak(NO_SYMBOL_MESSAGE)


@pytest.mark.parametrize(
    ("password", "missing"),
    [
        ("Aa1!Aa1!Aa1", [TOO_SHORT_MESSAGE]),  # 11 characters
        ("AAAA1111!!!!", [NO_LOWER_CASE_MESSAGE]),
        ("aaaa1111!!!!", [NO_UPPER_CASE_MESSAGE]),
        ("AAAAaaaa!!!!", [NO_DIGIT_MESSAGE]),
        ("AAAAaaaa1111", [NO_SYMBOL_MESSAGE]),
        ("", [TOO_SHORT_MESSAGE, NO_LOWER_CASE_MESSAGE, NO_UPPER_CASE_MESSAGE, NO_DIGIT_MESSAGE, NO_SYMBOL_MESSAGE]),
        ("password", [TOO_SHORT_MESSAGE, NO_UPPER_CASE_MESSAGE, NO_DIGIT_MESSAGE, NO_SYMBOL_MESSAGE]),
        ("Ab1!" + "x" * 253, [TOO_LONG_MESSAGE]),  # 257 characters
    ],
)
def test_each_missing_rule_is_its_own_problem(password, missing):
    # Given a password that breaks some rules
    # When it is checked
    with pytest.raises(WeakPasswordError) as raised:
        check_password(password)
    # Then each broken rule is one problem with code weak_password on the password field
    assert raised.value.code == "validation_error"
    assert raised.value.fields == weak(*missing)


def test_the_email_address_is_not_a_password():
    # Given an email address that would otherwise satisfy every rule
    email = "Ana.Silva-2026@Example.com"
    # When it is used as the password, in another case
    with pytest.raises(WeakPasswordError) as raised:
        check_password("ana.silva-2026@example.COM", field="new_password", email=email)
    # Then it is refused on the given field
    assert raised.value.fields == weak(SAME_AS_EMAIL_MESSAGE, field="new_password")


def test_without_an_email_the_comparison_is_skipped():
    # Given a password that looks like an address, When checked without an email, Then it passes
    assert check_password("Ana.Silva-2026@Example.com") is None
