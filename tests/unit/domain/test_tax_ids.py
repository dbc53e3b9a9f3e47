"""Tax ids: CPF, numeric and alphanumeric CNPJ, NIF, NIE and CIF with their check digits."""

from __future__ import annotations

import pytest

from balcao.domain.errors import FieldProblem, InvalidInputError
from balcao.domain.tax_ids import (
    BRAZILIAN_TAX_ID_MESSAGE,
    SPANISH_TAX_ID_MESSAGE,
    UNSUPPORTED_COUNTRY_MESSAGE,
    InvalidTaxIdError,
    TaxId,
    TaxIdKind,
    parse_tax_id,
)


@pytest.mark.parametrize(
    ("raw", "kind", "value", "formatted"),
    [
        # CPFs used as worked examples of the mod-11 algorithm
        ("529.982.247-25", TaxIdKind.CPF, "52998224725", "529.982.247-25"),
        ("111.444.777-35", TaxIdKind.CPF, "11144477735", "111.444.777-35"),
        ("39053344705", TaxIdKind.CPF, "39053344705", "390.533.447-05"),
        # CNPJs of registered companies (Banco do Brasil, Petrobras) and the classic worked example
        ("00.000.000/0001-91", TaxIdKind.CNPJ, "00000000000191", "00.000.000/0001-91"),
        ("33.000.167/0001-01", TaxIdKind.CNPJ, "33000167000101", "33.000.167/0001-01"),
        ("11222333000181", TaxIdKind.CNPJ, "11222333000181", "11.222.333/0001-81"),
        # The alphanumeric CNPJ example of the Receita Federal / SERPRO calculation manual
        ("12.ABC.345/01DE-35", TaxIdKind.CNPJ, "12ABC34501DE35", "12.ABC.345/01DE-35"),
        ("12abc34501de35", TaxIdKind.CNPJ, "12ABC34501DE35", "12.ABC.345/01DE-35"),
    ],
)
def test_valid_brazilian_tax_ids_are_detected_normalised_and_formatted(raw, kind, value, formatted):
    # Given a Brazilian tax id as a customer may type it
    # When it is parsed
    tax_id = parse_tax_id("BR", raw)
    # Then its kind is detected, the value normalised and the display form punctuated
    assert tax_id == TaxId(country="BR", kind=kind, value=value)
    assert tax_id.formatted == formatted


@pytest.mark.parametrize(
    ("raw", "kind", "value"),
    [
        ("12345678Z", TaxIdKind.NIF, "12345678Z"),
        ("12345678-z", TaxIdKind.NIF, "12345678Z"),
        ("M-1234567-L", TaxIdKind.NIF, "M1234567L"),
        ("X1234567L", TaxIdKind.NIE, "X1234567L"),
        ("y-1234567-x", TaxIdKind.NIE, "Y1234567X"),
        ("Z 1234567 R", TaxIdKind.NIE, "Z1234567R"),
        # CIFs of listed companies (digit control, required for A and B)
        ("A28015865", TaxIdKind.CIF, "A28015865"),
        ("A15075062", TaxIdKind.CIF, "A15075062"),
        ("A39000013", TaxIdKind.CIF, "A39000013"),
        ("B12345674", TaxIdKind.CIF, "B12345674"),
        # public bodies (letter control, required for P, Q, S) and a non-resident (province 00)
        ("P2807900B", TaxIdKind.CIF, "P2807900B"),
        ("Q2818014I", TaxIdKind.CIF, "Q2818014I"),
        ("s2800568d", TaxIdKind.CIF, "S2800568D"),
        ("N0032484H", TaxIdKind.CIF, "N0032484H"),
        # J (civil society) accepts either the digit or the letter
        ("J-99216582", TaxIdKind.CIF, "J99216582"),
        ("J9921658B", TaxIdKind.CIF, "J9921658B"),
    ],
)
def test_valid_spanish_tax_ids_are_detected_and_normalised(raw, kind, value):
    # Given a Spanish tax id with optional punctuation and lower case
    # When it is parsed
    tax_id = parse_tax_id("es", raw)
    # Then its kind is detected and the value is upper case without punctuation, displayed as is
    assert tax_id == TaxId(country="ES", kind=kind, value=value)
    assert tax_id.formatted == value


@pytest.mark.parametrize(
    "raw",
    [
        "529.982.247-24",  # wrong second check digit
        "529.982.247-15",  # wrong first check digit
        "111.111.111-11",  # repeated digits pass the arithmetic but are refused
        "000.000.000-00",
        "5299822472",  # 10 digits
        "529982247250",  # 12 digits
        "11.222.333/0001-82",  # wrong CNPJ check digit
        "00.000.000/0000-00",  # repeated digits
        "12.ABC.345/01DE-36",  # wrong alphanumeric check digit
        "12.ABC.345/01DE-3A",  # check digits must be numeric
        "12.ABC.345/01DE",  # too short
        "529_982_247_25",  # unsupported punctuation
        "52998224725á",
        "",
    ],
)
def test_invalid_brazilian_tax_ids_are_refused(raw):
    # Given an invalid Brazilian tax id
    # When it is parsed
    with pytest.raises(InvalidTaxIdError) as raised:
        parse_tax_id("BR", raw, field="profile.tax_id")
    # Then one field problem names the field, the code and the Brazilian message
    assert raised.value.fields == [FieldProblem("profile.tax_id", "invalid_tax_id", BRAZILIAN_TAX_ID_MESSAGE)]


@pytest.mark.parametrize(
    "raw",
    [
        "12345678A",  # wrong DNI letter
        "1234567Z",  # 7 digits
        "X1234567A",  # wrong NIE letter
        "W1234567L",  # W is not an NIE prefix and its CIF control is a letter from A to J
        "A28015866",  # wrong CIF digit
        "A2801586E",  # A requires the digit, not the letter
        "P28079002",  # P requires the letter, not the digit
        "N00324848",  # non-residents (province 00) require the letter
        "I1234567A",  # I is not an organisation letter
        "52998224725",  # a CPF is not a Spanish tax id
    ],
)
def test_invalid_spanish_tax_ids_are_refused(raw):
    # Given an invalid Spanish tax id
    # When it is parsed
    with pytest.raises(InvalidTaxIdError) as raised:
        parse_tax_id("ES", raw)
    # Then the problem is on the default field with the Spanish message
    assert raised.value.fields == [FieldProblem("tax_id", "invalid_tax_id", SPANISH_TAX_ID_MESSAGE)]


def test_other_countries_have_no_tax_id_rules():
    # Given a Portuguese customer
    # When a tax id is parsed for Portugal
    with pytest.raises(InvalidTaxIdError) as raised:
        parse_tax_id("PT", "123456789")
    # Then it is refused as a validation error, saying which countries are supported
    assert isinstance(raised.value, InvalidInputError)
    assert raised.value.code == "validation_error"
    assert raised.value.fields == [FieldProblem("tax_id", "invalid_tax_id", UNSUPPORTED_COUNTRY_MESSAGE)]
