"""SEPA: published IBANs and creditor identifiers (valid and altered), mandate references, pre-notification."""

from __future__ import annotations

from datetime import date

import pytest

from balcao.domain.errors import InvalidInputError
from balcao.domain.payments.sepa import (
    SEPA_IBAN_LENGTHS,
    CreditorIdentifier,
    CreditorIdentifierInvalidError,
    IbanInvalidError,
    MandateReferenceInvalidError,
    SepaProblem,
    pre_notification_deadline,
    validate_creditor_identifier,
    validate_iban,
    validate_mandate_reference,
)

# Examples published in the SWIFT IBAN registry.
PUBLISHED_IBANS = [
    "ES9121000418450200051332",
    "GB82WEST12345698765432",
    "DE89370400440532013000",
    "PT50000201231234567890154",
    "FR1420041010050500013M02606",
    "IT60X0542811101000000123456",
    "NL91ABNA0417164300",
    "BE68539007547034",
    "IE29AIBK93115212345678",
    "AT611904300234573201",
]

# Examples of the EPC's "Creditor Identifier Overview" (EPC262-08).
PUBLISHED_CREDITOR_IDENTIFIERS = [
    "ES59ZZZX1234567L",
    "ES50ZZZM23456789",
    "ES04ZZZ52840790N",
    "DE98ZZZ09999999999",
    "NL42ZZZ123456780001",
    "IT66ZZZA1B2C3D4E5F6G7H8",
    "PT73ZZZ123456",
    "FR72ZZZ123456",
    "BE68ZZZ0123456789",
    "IE84ZZZ123456",
    "FI22BBB12345678",
]


@pytest.mark.parametrize("iban", PUBLISHED_IBANS)
def test_published_ibans_are_valid(iban):
    # Given a published example IBAN, When validated, Then it comes back unchanged
    assert validate_iban(iban) == iban


def test_the_country_table_covers_the_markets_we_serve():
    # Given the IBAN length table, Then it holds at least the countries of the brief with their registry lengths
    expected = {"ES": 24, "PT": 25, "FR": 27, "DE": 22, "IT": 27, "NL": 18, "BE": 16, "IE": 22}
    assert {country: SEPA_IBAN_LENGTHS[country] for country in expected} == expected


def test_the_print_format_is_accepted_and_compacted():
    # Given an IBAN in print format, lower case, When validated, Then the electronic format comes back
    assert validate_iban("es91 2100 0418 4502 0005 1332") == "ES9121000418450200051332"


@pytest.mark.parametrize(
    ("iban", "problem"),
    [
        ("GB82WEST12345698765431", SepaProblem.IBAN_CHECK_DIGITS),
        ("ES9121000418450200051333", SepaProblem.IBAN_CHECK_DIGITS),
        ("DE89370400440532013001", SepaProblem.IBAN_CHECK_DIGITS),
        ("ES9221000418450200051332", SepaProblem.IBAN_CHECK_DIGITS),
        ("ES1921000418450200051332", SepaProblem.IBAN_CHECK_DIGITS),
        ("ES9921000418450000000037", SepaProblem.IBAN_CHECK_DIGITS),
        ("ES91210004184502000513", SepaProblem.IBAN_LENGTH),
        ("DE8937040044053201300000", SepaProblem.IBAN_LENGTH),
        ("BR1800360305000010009795493C1", SepaProblem.IBAN_COUNTRY),
        ("XX9121000418450200051332", SepaProblem.IBAN_COUNTRY),
        ("ES91-2100-0418-4502-0005-1332", SepaProblem.IBAN_FORMAT),
        ("9121000418450200051332", SepaProblem.IBAN_FORMAT),
        ("ÉS9121000418450200051332", SepaProblem.IBAN_FORMAT),
        ("", SepaProblem.IBAN_FORMAT),
    ],
    ids=[
        "gb-last-digit",
        "es-last-digit",
        "de-last-digit",
        "es-check-digit",
        "es-swapped-check-digits",
        "check-99-aliasing-02",
        "es-too-short",
        "de-too-long",
        "brazil-not-sepa",
        "unknown-country",
        "hyphens",
        "no-country",
        "accented-letter",
        "empty",
    ],
)
def test_altered_ibans_are_refused(iban, problem):
    # Given an IBAN with a typo, the wrong length, a non-SEPA country or foreign characters
    # When validated, Then the named problem is raised
    with pytest.raises(IbanInvalidError) as caught:
        validate_iban(iban)
    assert caught.value.problem is problem


def test_check_digits_02_are_valid_where_99_would_alias_them():
    # Given an IBAN whose check digits are 02 (99 leaves the same remainder and is refused above), Then it is valid
    assert validate_iban("ES0221000418450000000037") == "ES0221000418450000000037"


def test_an_iban_problem_is_a_422_on_the_iban_field():
    # Given a typo, When refused, Then the field problem names the iban field and the rule
    with pytest.raises(InvalidInputError) as caught:
        validate_iban("GB82WEST12345698765431")
    assert (caught.value.fields[0].field, caught.value.fields[0].code) == ("iban", "iban_check_digits")


@pytest.mark.parametrize("identifier", PUBLISHED_CREDITOR_IDENTIFIERS)
def test_published_creditor_identifiers_are_valid(identifier):
    # Given an EPC example creditor identifier, When validated, Then it is split and prints back unchanged
    creditor = validate_creditor_identifier(identifier)
    assert str(creditor) == identifier


def test_a_spanish_creditor_identifier_is_split_into_its_parts():
    # Given a Spanish CI written with spaces and in lower case, When validated, Then the NIF is its national part
    assert validate_creditor_identifier("es59 zzz x1234567l") == CreditorIdentifier(
        country_code="ES", check_digits="59", business_code="ZZZ", national_identifier="X1234567L"
    )


def test_the_business_code_is_left_out_of_the_check_digits():
    # Given the same CI with another creditor business code, When validated, Then it is still valid
    assert validate_creditor_identifier("ES59001X1234567L").business_code == "001"


@pytest.mark.parametrize(
    ("identifier", "problem"),
    [
        ("ES58ZZZX1234567L", SepaProblem.CREDITOR_IDENTIFIER_CHECK_DIGITS),
        ("ES59ZZZX1234567M", SepaProblem.CREDITOR_IDENTIFIER_CHECK_DIGITS),
        ("DE98ZZZ09999999998", SepaProblem.CREDITOR_IDENTIFIER_CHECK_DIGITS),
        ("US59ZZZX1234567L", SepaProblem.CREDITOR_IDENTIFIER_COUNTRY),
        ("ES59ZZZ", SepaProblem.CREDITOR_IDENTIFIER_FORMAT),
        ("ES5ZZZX1234567L", SepaProblem.CREDITOR_IDENTIFIER_FORMAT),
        ("ES59ZZZX1234567-L", SepaProblem.CREDITOR_IDENTIFIER_FORMAT),
        ("ES59ZZZ" + "1" * 29, SepaProblem.CREDITOR_IDENTIFIER_FORMAT),
    ],
    ids=[
        "check-digits",
        "national-id",
        "de-national-id",
        "not-sepa",
        "no-national-id",
        "one-check-digit",
        "hyphen",
        "36-chars",
    ],
)
def test_altered_creditor_identifiers_are_refused(identifier, problem):
    # Given an altered or malformed creditor identifier, When validated, Then the named problem is raised
    with pytest.raises(CreditorIdentifierInvalidError) as caught:
        validate_creditor_identifier(identifier)
    assert caught.value.problem is problem
    assert caught.value.fields[0].field == "creditor_identifier"


@pytest.mark.parametrize(
    "reference",
    ["MND-2026/000123", "A", "X" * 35, "Ref (ES) 1.2,3'+?:", "balcao 01HZX3N5Q8"],
    ids=["typical", "one-char", "35-chars", "every-special", "lower-case-and-space"],
)
def test_mandate_references_in_the_sepa_character_set_are_valid(reference):
    # Given a reference of 1–35 SEPA characters, When validated, Then it comes back unchanged
    assert validate_mandate_reference(reference) == reference


@pytest.mark.parametrize(
    ("reference", "problem"),
    [
        ("", SepaProblem.MANDATE_REFERENCE_LENGTH),
        ("X" * 36, SepaProblem.MANDATE_REFERENCE_LENGTH),
        ("MANDATO-Nº1", SepaProblem.MANDATE_REFERENCE_CHARACTERS),
        ("ÁLVARO-1", SepaProblem.MANDATE_REFERENCE_CHARACTERS),
        ("REF_1", SepaProblem.MANDATE_REFERENCE_CHARACTERS),
        ("REF&CO", SepaProblem.MANDATE_REFERENCE_CHARACTERS),
        ("/REF1", SepaProblem.MANDATE_REFERENCE_SLASHES),
        ("REF1/", SepaProblem.MANDATE_REFERENCE_SLASHES),
        ("RE//F1", SepaProblem.MANDATE_REFERENCE_SLASHES),
    ],
    ids=[
        "empty",
        "36-chars",
        "ordinal",
        "accent",
        "underscore",
        "ampersand",
        "leading-slash",
        "trailing-slash",
        "double-slash",
    ],
)
def test_mandate_references_outside_the_rules_are_refused(reference, problem):
    # Given a reference SEPA cannot carry, When validated, Then the named problem is raised
    with pytest.raises(MandateReferenceInvalidError) as caught:
        validate_mandate_reference(reference)
    assert caught.value.problem is problem


@pytest.mark.parametrize(
    ("debit_date", "deadline"),
    [
        (date(2026, 3, 20), date(2026, 3, 6)),
        (date(2026, 1, 5), date(2025, 12, 22)),
        (date(2028, 3, 10), date(2028, 2, 25)),
    ],
    ids=["same-month", "across-the-year", "leap-february"],
)
def test_pre_notification_is_due_14_calendar_days_before_the_debit(debit_date, deadline):
    # Given a debit date, When the pre-notification deadline is computed, Then it is 14 calendar days earlier
    assert pre_notification_deadline(debit_date) == deadline
    assert (debit_date - deadline).days == 14
