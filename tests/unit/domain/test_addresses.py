"""Addresses: country-aware postal codes and states, every problem reported at once."""

from __future__ import annotations

import pytest

from balcao.domain.addresses import (
    INVALID_CEP_MESSAGE,
    INVALID_COUNTRY_MESSAGE,
    INVALID_POSTAL_CODE_MESSAGE,
    INVALID_SPANISH_POSTAL_CODE_MESSAGE,
    INVALID_UF_MESSAGE,
    Address,
    InvalidAddressError,
    validate_address,
)
from balcao.domain.errors import FIELD_MESSAGES, FieldProblem

PAULISTA = {
    "line1": "Avenida Paulista",
    "number": "1578",
    "line2": "Conjunto 12",
    "district": "Bela Vista",
    "city": "São Paulo",
    "state": "SP",
    "postal_code": "01310-200",
    "country": "BR",
}
GRAN_VIA = {"line1": "Calle Gran Vía, 28", "city": "Madrid", "postal_code": "28013", "country": "ES"}


def test_a_brazilian_address_is_normalised():
    # Given a Brazilian address typed with a bare CEP, a lower-case UF and stray spaces
    data = {**PAULISTA, "postal_code": " 01310200 ", "state": "sp", "country": "br", "city": " São Paulo "}
    # When it is validated
    address = validate_address(data)
    # Then the CEP takes the 00000-000 form, the UF and country are upper case and values are trimmed
    assert address == Address(
        line1="Avenida Paulista",
        line2="Conjunto 12",
        number="1578",
        district="Bela Vista",
        city="São Paulo",
        state="SP",
        postal_code="01310-200",
        country="BR",
    )


def test_a_spanish_address_needs_no_province():
    # Given a Spanish address without a province
    # When it is validated
    address = validate_address(GRAN_VIA)
    # Then it is accepted and the optional fields stay absent
    assert address == Address(line1="Calle Gran Vía, 28", city="Madrid", postal_code="28013", country="ES")


@pytest.mark.parametrize("postal_code", ["01001", "28013", "52001"])
def test_spanish_postal_codes_start_with_a_province_code(postal_code):
    # Given postal codes of the first, a middle and the last province (Álava, Madrid, Melilla)
    # When they are validated, Then they are accepted as typed
    assert validate_address({**GRAN_VIA, "postal_code": postal_code}).postal_code == postal_code


@pytest.mark.parametrize("postal_code", ["00123", "53001", "99999", "2801", "280130", "28-013", ""])
def test_spanish_postal_codes_outside_the_provinces_are_refused(postal_code):
    # Given a Spanish postal code that is missing, the wrong length or not a province 01-52
    # When it is validated
    with pytest.raises(InvalidAddressError) as raised:
        validate_address({**GRAN_VIA, "postal_code": postal_code})
    # Then the postal code is the only problem
    assert raised.value.fields == [
        FieldProblem("address.postal_code", "invalid_postal_code", INVALID_SPANISH_POSTAL_CODE_MESSAGE)
    ]


@pytest.mark.parametrize("postal_code", ["0131020", "013102000", "01310-20A", "CEP 01310"])
def test_a_cep_needs_8_digits(postal_code):
    # Given a Brazilian postal code that is not 8 digits
    # When it is validated
    with pytest.raises(InvalidAddressError) as raised:
        validate_address({**PAULISTA, "postal_code": postal_code})
    # Then the CEP message is returned on the postal code
    assert raised.value.fields == [FieldProblem("address.postal_code", "invalid_postal_code", INVALID_CEP_MESSAGE)]


@pytest.mark.parametrize("state", ["São Paulo", "XX", "", "BR"])
def test_a_brazilian_state_is_one_of_the_27_ufs(state):
    # Given a Brazilian address whose state is not a UF code
    # When it is validated
    with pytest.raises(InvalidAddressError) as raised:
        validate_address({**PAULISTA, "state": state})
    # Then the state is refused
    assert raised.value.fields == [FieldProblem("address.state", "invalid_state", INVALID_UF_MESSAGE)]


def test_other_countries_take_a_generic_postal_code():
    # Given a Portuguese and a British address
    lisbon = {"line1": "Rua Augusta 100", "city": "Lisboa", "postal_code": "1100-053", "country": "PT"}
    london = {"line1": "10 Downing Street", "city": "London", "postal_code": "sw1a 2aa", "country": "GB"}
    # When they are validated
    # Then their postal codes are kept (upper-cased)
    assert validate_address(lisbon).postal_code == "1100-053"
    assert validate_address(london).postal_code == "SW1A 2AA"


def test_other_countries_may_have_no_postal_code():
    # Given an address in Hong Kong, which has no postal codes
    # When it is validated, Then it is accepted without one
    assert (
        validate_address({"line1": "1 Queen's Road Central", "city": "Hong Kong", "country": "HK"}).postal_code is None
    )


@pytest.mark.parametrize("postal_code", ["1", "12345678901", "1100_053", "1100/053"])
def test_other_countries_refuse_malformed_postal_codes(postal_code):
    # Given a postal code too short, too long or with other characters
    # When it is validated
    with pytest.raises(InvalidAddressError) as raised:
        validate_address({"line1": "Rua Augusta 100", "city": "Lisboa", "postal_code": postal_code, "country": "PT"})
    # Then the generic message is returned
    assert raised.value.fields == [
        FieldProblem("address.postal_code", "invalid_postal_code", INVALID_POSTAL_CODE_MESSAGE)
    ]


def test_every_problem_is_reported_together_under_the_prefix():
    # Given a billing address with missing, too long, unknown and invalid fields
    data = {"line1": " ", "line2": "x" * 201, "country": "UK", "postal_code": "1", "floor": "3"}
    # When it is validated under another prefix
    with pytest.raises(InvalidAddressError) as raised:
        validate_address(data, field_prefix="billing_address")
    # Then one error lists them all; an unknown country skips the country rules
    assert raised.value.code == "validation_error"
    assert raised.value.fields == [
        FieldProblem("billing_address.floor", "not_allowed", FIELD_MESSAGES["not_allowed"]),
        FieldProblem("billing_address.line1", "required", FIELD_MESSAGES["required"]),
        FieldProblem("billing_address.city", "required", FIELD_MESSAGES["required"]),
        FieldProblem("billing_address.line2", "too_long", FIELD_MESSAGES["too_long"]),
        FieldProblem("billing_address.country", "invalid_country", INVALID_COUNTRY_MESSAGE),
    ]


def test_a_missing_country_is_required_and_an_empty_prefix_gives_bare_names():
    # Given an address without a country
    # When it is validated without a prefix
    with pytest.raises(InvalidAddressError) as raised:
        validate_address({"line1": "Avenida Paulista", "city": "São Paulo"}, field_prefix="")
    # Then the field is named without a prefix
    assert raised.value.fields == [FieldProblem("country", "required", FIELD_MESSAGES["required"])]
