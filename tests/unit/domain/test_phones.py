"""Phone numbers: E.164 from what customers type, with the Brazilian and Spanish numbering plans."""

from __future__ import annotations

import pytest

from balcao.domain.errors import FieldProblem
from balcao.domain.phones import (
    BRAZILIAN_PHONE_MESSAGE,
    INTERNATIONAL_PHONE_MESSAGE,
    SPANISH_PHONE_MESSAGE,
    InvalidPhoneError,
    normalise_phone,
)


@pytest.mark.parametrize(
    ("raw", "default_country", "e164"),
    [
        ("(11) 91234-5678", "BR", "+5511912345678"),  # São Paulo mobile
        ("11 3456.7890", "BR", "+551134567890"),  # São Paulo landline
        ("(011) 3456-7890", "BR", "+551134567890"),  # with the trunk prefix 0
        ("+55 (21) 2345-6789", "ES", "+552123456789"),  # international form wins over the default country
        ("0055 61 99876 5432", "ES", "+5561998765432"),  # 00 international prefix
        ("+55 99 98765-4321", "BR", "+5599987654321"),  # Maranhão, the highest DDD
        ("612 345 678", "ES", "+34612345678"),  # Spanish mobile
        ("91.123.45.67", "es", "+34911234567"),  # Madrid landline
        ("+34 712-345-678", "BR", "+34712345678"),
        ("0034 876 543 210", "BR", "+34876543210"),
        ("+351 912 345 678", "PT", "+351912345678"),  # other countries: E.164 length rules
        ("+1 (202) 555-0143", "BR", "+12025550143"),
        ("00 44 20 7946 0958", "GB", "+442079460958"),
        ("+683 4002", "BR", "+6834002"),  # Niue: 7 digits in all
    ],
)
def test_valid_numbers_are_normalised_to_e164(raw, default_country, e164):
    # Given a number as typed, with spaces, dots, parentheses, hyphens or an international prefix
    # When it is normalised for the customer's country
    # Then the E.164 form comes back
    assert normalise_phone(raw, default_country) == e164


@pytest.mark.parametrize(
    ("raw", "default_country", "message"),
    [
        ("(10) 91234-5678", "BR", BRAZILIAN_PHONE_MESSAGE),  # DDD 10 does not exist
        ("(20) 3456-7890", "BR", BRAZILIAN_PHONE_MESSAGE),  # DDD 20 does not exist
        ("(23) 3456-7890", "BR", BRAZILIAN_PHONE_MESSAGE),  # nor 23
        ("+55 (11) 81234-5678", "ES", BRAZILIAN_PHONE_MESSAGE),  # 9 digits not starting with 9
        ("(11) 6456-7890", "BR", BRAZILIAN_PHONE_MESSAGE),  # landline starting with 6
        ("(11) 1234-567", "BR", BRAZILIAN_PHONE_MESSAGE),  # too short
        ("0800 123 4567", "BR", BRAZILIAN_PHONE_MESSAGE),  # not a subscriber number
        ("512 345 678", "ES", SPANISH_PHONE_MESSAGE),  # starts with 5
        ("+34 61 234 567", "BR", SPANISH_PHONE_MESSAGE),  # 8 digits
        ("6123456789", "ES", SPANISH_PHONE_MESSAGE),  # 10 digits
        ("+351 9123 4567 8901 23", "PT", INTERNATIONAL_PHONE_MESSAGE),  # 17 digits: over E.164's 15
        ("+683 400", "BR", INTERNATIONAL_PHONE_MESSAGE),  # 6 digits
        ("+0 123 456 789", "BR", INTERNATIONAL_PHONE_MESSAGE),  # country codes never start with 0
        ("912 345 678", "PT", INTERNATIONAL_PHONE_MESSAGE),  # national number of a country without rules
        ("612 345 678 ext 2", "ES", SPANISH_PHONE_MESSAGE),  # letters
        ("612+345678", "ES", SPANISH_PHONE_MESSAGE),  # + only in front
        ("", "ES", SPANISH_PHONE_MESSAGE),
    ],
)
def test_invalid_numbers_are_refused_with_a_message_for_their_country(raw, default_country, message):
    # Given a number that does not fit its country's numbering plan
    # When it is normalised
    with pytest.raises(InvalidPhoneError) as raised:
        normalise_phone(raw, default_country)
    # Then one problem on "phone" says what a valid number looks like
    assert raised.value.fields == [FieldProblem("phone", "invalid_phone", message)]


def test_the_field_name_can_be_chosen():
    # Given a callback request whose phone field is nested
    # When its number is invalid
    with pytest.raises(InvalidPhoneError) as raised:
        normalise_phone("123", "BR", field="callback.phone")
    # Then the problem names that field
    assert [problem.field for problem in raised.value.fields] == ["callback.phone"]
