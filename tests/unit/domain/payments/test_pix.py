"""Pix BR Code: published vectors (payments reference §2.3), every validator rule, and builder round trips."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from balcao.domain.errors import InvalidInputError
from balcao.domain.money import Money
from balcao.domain.payments.pix import (
    PIX_PROBLEM_MESSAGES,
    PixPayloadInvalidError,
    PixProblem,
    PointOfInitiation,
    TlvField,
    build_pix_payload,
    crc16_ccitt_false,
    parse_tlv,
    validate_pix_payload,
)

# Published vectors (BCB manual example, pix-utils README, manual §6.2-style dynamic code).
P1 = (
    "00020126580014br.gov.bcb.pix0136123e4567-e12b-12d1-a456-4266554400005204000053039865802BR"
    "5913Fulano de Tal6008BRASILIA62070503***63041D3D"
)
P2 = (
    "00020126650014br.gov.bcb.pix0119nubank@thalesog.com0220Gerado por Pix-Utils52040000530398654041.00"
    "5802BR5914Thales Ogliari6009Sao Paulo62070503***63046069"
)
P3 = (
    "00020126540014br.gov.bcb.pix2532https://pix.thalesogliari.com.br5204000053039865802BR5914Thales Ogliari"
    "6009SAO PAULO62070503***63043FD3"
)
P4 = (
    "00020101021226770014BR.GOV.BCB.PIX2555pix.example.com/qr/93598be0-1bd0-4997-8318-81776a1d8a99"
    "5204000053039865802BR5907EMPRESA6009SAO PAULO62070503***6304EEAB"
)
# Negative vector N1 ends "…6008BRASILIA62080503***6304170E": its CRC is right, but tag 62 declares 8 characters
# for a 7-character value. The reference shows only that tail, so ``N1`` below reproduces that defect on P1.

KEY = "123e4567-e12b-12d1-a456-426655440000"


def tlv(tag: str, value: str) -> str:
    return f"{tag}{len(value):02d}{value}"


def signed(body: str) -> str:
    """``body`` followed by a correct CRC field, so that only the rule under test can fail."""
    return body + "6304" + crc16_ccitt_false(body + "6304")


def p1_fields(**replacements: str | None) -> str:
    """P1 rebuilt field by field; ``t26="…"`` replaces field 26, ``t54=None`` drops it, new tags are appended."""
    fields = {
        "00": "01",
        "26": tlv("00", "br.gov.bcb.pix") + tlv("01", KEY),
        "52": "0000",
        "53": "986",
        "58": "BR",
        "59": "Fulano de Tal",
        "60": "BRASILIA",
        "62": tlv("05", "***"),
    }
    for name, value in replacements.items():
        tag = name.removeprefix("t")
        if value is None:
            fields.pop(tag, None)
        else:
            fields[tag] = value
    return signed("".join(tlv(tag, value) for tag, value in fields.items()))


N1 = signed(P1[:-8].replace("62070503***", "62080503***"))


def problem_of(payload: str) -> PixProblem:
    with pytest.raises(PixPayloadInvalidError) as caught:
        validate_pix_payload(payload)
    return caught.value.problem


def test_crc_check_value():
    # Given the CRC-16/CCITT-FALSE check string, When its CRC is computed, Then it is the catalogued 29B1
    assert crc16_ccitt_false("123456789") == "29B1"


def test_p1_static_key_from_the_bcb_manual():
    # Given the BCB manual's static example, When validated, Then every field is read back
    pix = validate_pix_payload(P1)
    assert pix.key == KEY
    assert pix.location is None
    assert not pix.is_dynamic
    assert pix.merchant_category_code == "0000"
    assert pix.amount is None
    assert (pix.merchant_name, pix.merchant_city) == ("Fulano de Tal", "BRASILIA")
    assert pix.txid is None
    assert pix.point_of_initiation is None
    assert pix.crc == "1D3D"


def test_p2_static_with_amount_and_additional_info():
    # Given pix-utils' static example with amount 1.00, When validated, Then the amount is R$ 1.00 in centavos
    pix = validate_pix_payload(P2)
    assert pix.key == "nubank@thalesog.com"
    assert pix.additional_info == "Gerado por Pix-Utils"
    assert pix.amount == Money.of(100, "BRL")
    assert pix.merchant_city == "Sao Paulo"


def test_p3_has_a_correct_structure_but_a_location_with_a_scheme():
    # Given pix-utils' dynamic example, whose location carries https:// (the BCB manual's locations have none)
    # When its TLVs and CRC are checked, Then they are correct
    assert crc16_ccitt_false(P3[:-4]) == P3[-4:]
    assert [field.tag for field in parse_tlv(P3)] == ["00", "26", "52", "53", "58", "59", "60", "62", "63"]
    # When it is validated, Then the location rule refuses it with that reason
    assert problem_of(P3) == PixProblem.LOCATION_SCHEME


def test_p4_dynamic_location_with_upper_case_gui():
    # Given a dynamic code whose GUI is upper-case, When validated, Then the GUI is accepted and the location read
    pix = validate_pix_payload(P4)
    assert pix.is_dynamic
    assert pix.location == "pix.example.com/qr/93598be0-1bd0-4997-8318-81776a1d8a99"
    assert pix.key is None
    assert pix.point_of_initiation is PointOfInitiation.SINGLE_USE
    assert pix.merchant_name == "EMPRESA"


def test_n1_declared_length_mismatch_is_refused_even_with_a_correct_crc():
    # Given N1's defect on P1, with a CRC that matches the text, When validated
    assert N1.endswith("6008BRASILIA62080503***6304" + N1[-4:])
    # Then the wrong declared length is the reason
    with pytest.raises(PixPayloadInvalidError) as caught:
        validate_pix_payload(N1)
    assert caught.value.problem is PixProblem.LENGTH_MISMATCH
    assert "declares" in caught.value.detail


@pytest.mark.parametrize(
    "tampered",
    [P1[:-4] + "1D3E", P1.replace("Fulano de Tal", "Fulano de Tab"), P1[:-4] + "1d3d"],
    ids=["crc-digit", "content", "lower-case-crc"],
)
def test_crc_tampering_is_refused(tampered):
    # Given P1 with its CRC or its content changed, When validated, Then the CRC no longer matches
    assert problem_of(tampered) == PixProblem.CRC_MISMATCH


def test_the_error_is_a_422_field_problem_with_a_translatable_message():
    # Given a tampered payload, When refused, Then the error names the field, the rule and its msgid
    with pytest.raises(InvalidInputError) as caught:
        validate_pix_payload(P1[:-4] + "0000")
    (problem,) = caught.value.fields
    assert (problem.field, problem.code) == ("pix_payload", "crc_mismatch")
    assert problem.message == caught.value.message == PIX_PROBLEM_MESSAGES[PixProblem.CRC_MISMATCH]


def test_parse_tlv_splits_one_level():
    # Given a template's value, When parsed, Then each field keeps its raw value
    assert parse_tlv("0014br.gov.bcb.pix0103abc") == (TlvField("00", "br.gov.bcb.pix"), TlvField("01", "abc"))


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("0002", PixProblem.LENGTH_MISMATCH),
        ("000201A", PixProblem.MALFORMED),
        ("0A0201", PixProblem.MALFORMED),
        ("0000", PixProblem.LENGTH_MISMATCH),
        ("000201000201", PixProblem.MALFORMED),
        ("000", PixProblem.MALFORMED),
    ],
    ids=["value-cut-short", "trailing-garbage", "non-digit-id", "empty-value", "repeated-id", "header-cut-short"],
)
def test_parse_tlv_refuses_broken_structure(text, problem):
    # Given a TLV string with a broken ID, length or repetition, When parsed, Then the named problem is raised
    with pytest.raises(PixPayloadInvalidError) as caught:
        parse_tlv(text)
    assert caught.value.problem is problem


@pytest.mark.parametrize(
    ("payload", "problem"),
    [
        (
            signed(tlv("26", tlv("00", "br.gov.bcb.pix") + tlv("01", KEY)) + tlv("00", "01")),
            PixProblem.FORMAT_INDICATOR,
        ),
        (p1_fields(t00="02"), PixProblem.FORMAT_INDICATOR),
        (P1[:-8], PixProblem.CRC_MISSING),
        (P1[:-8] + "630512345", PixProblem.CRC_MISSING),
        (p1_fields(t01="13"), PixProblem.POINT_OF_INITIATION),
        (p1_fields(t26=None), PixProblem.MERCHANT_ACCOUNT),
        (p1_fields(t26=tlv("00", "br.gov.bcb.pox") + tlv("01", KEY)), PixProblem.MERCHANT_ACCOUNT),
        (p1_fields(t26=tlv("01", KEY) + tlv("00", "br.gov.bcb.pix")), PixProblem.MERCHANT_ACCOUNT),
        (p1_fields(t26=tlv("00", "br.gov.bcb.pix") + tlv("02", "info only")), PixProblem.KEY_OR_LOCATION),
        (
            p1_fields(t26=tlv("00", "br.gov.bcb.pix") + tlv("01", KEY) + tlv("25", "pix.example.com/qr/1")),
            PixProblem.KEY_OR_LOCATION,
        ),
        (
            p1_fields(t26=tlv("00", "br.gov.bcb.pix") + tlv("25", "http://pix.example.com/qr/1")),
            PixProblem.LOCATION_SCHEME,
        ),
        (p1_fields(t26=tlv("00", "br.gov.bcb.pix") + "0105ab"), PixProblem.LENGTH_MISMATCH),
        (p1_fields(t52="00A0"), PixProblem.MERCHANT_CATEGORY),
        (p1_fields(t52=None), PixProblem.MERCHANT_CATEGORY),
        (p1_fields(t53="840"), PixProblem.CURRENCY),
        (p1_fields(t54="1.0"), PixProblem.AMOUNT_FORMAT),
        (p1_fields(t54="1,00"), PixProblem.AMOUNT_FORMAT),
        (p1_fields(t54="10"), PixProblem.AMOUNT_FORMAT),
        (p1_fields(t54="0.00"), PixProblem.AMOUNT_NOT_POSITIVE),
        (p1_fields(t58="US"), PixProblem.COUNTRY),
        (p1_fields(t59="A" * 26), PixProblem.MERCHANT_NAME),
        (p1_fields(t59=None), PixProblem.MERCHANT_NAME),
        (p1_fields(t60="B" * 16), PixProblem.MERCHANT_CITY),
        (p1_fields(t62=None), PixProblem.TXID),
        (p1_fields(t62=tlv("50", "x")), PixProblem.TXID),
        (p1_fields(t62=tlv("05", "FAT-2026-1")), PixProblem.TXID),
        (p1_fields(t62=tlv("05", "A" * 26)), PixProblem.TXID),
    ],
    ids=[
        "00-not-first",
        "00-not-01",
        "no-crc-field",
        "crc-wrong-length",
        "unknown-initiation",
        "no-26",
        "wrong-gui",
        "gui-not-first",
        "neither-key-nor-url",
        "both-key-and-url",
        "url-with-scheme",
        "nested-length",
        "mcc-not-digits",
        "no-mcc",
        "currency-usd",
        "amount-one-decimal",
        "amount-comma",
        "amount-no-decimals",
        "amount-zero",
        "country-us",
        "name-26-chars",
        "no-name",
        "city-16-chars",
        "no-62",
        "no-txid",
        "txid-hyphen",
        "txid-26-chars",
    ],
)
def test_every_rule_refuses_with_its_reason(payload, problem):
    # Given a payload with a correct CRC that breaks exactly one rule, When validated, Then that rule is the reason
    assert problem_of(payload) == problem


@pytest.mark.parametrize(
    "replacements",
    [
        {"t59": "A" * 25, "t60": "B" * 15},
        {"t54": "1234567.89", "t01": "11"},
        {"t62": tlv("05", "A" * 25)},
        {"t26": tlv("00", "Br.Gov.Bcb.Pix") + tlv("01", KEY)},
        {"t61": "70000000"},
    ],
    ids=["limits", "amount-and-reusable", "txid-25", "mixed-case-gui", "postal-code"],
)
def test_values_at_the_limits_are_accepted(replacements):
    # Given fields exactly at their limits, When validated, Then the payload is accepted
    pix = validate_pix_payload(p1_fields(**replacements))
    assert pix.key == KEY


def test_only_a_leading_scheme_is_refused_in_a_location():
    # Given a location without scheme whose query happens to hold "://", When validated, Then it is accepted
    location = "pix.example.com/qr/9d36b84f?origin=https://shop.example.com"
    pix = validate_pix_payload(p1_fields(t26=tlv("00", "br.gov.bcb.pix") + tlv("25", location)))
    assert pix.location == location


def test_builder_static_code_round_trips():
    # Given a static charge with accents, a long name, an amount and a txid
    # When built
    payload = build_pix_payload(
        KEY, "Padaria São João Ltda — Filial Centro", "São Paulo", Money.of(4990, "BRL"), "FAT2026000123", False
    )
    # Then it has the BR Code layout, and validating it gives back plain upper-case, truncated text
    assert payload.startswith("0002012658" + "0014br.gov.bcb.pix0136" + KEY + "52040000" + "5303986" + "540549.90")
    pix = validate_pix_payload(payload)
    assert pix.merchant_name == "PADARIA SAO JOAO LTDA FIL"
    assert pix.merchant_city == "SAO PAULO"
    assert pix.amount == Money.of(4990, "BRL")
    assert pix.txid == "FAT2026000123"
    assert pix.key == KEY
    assert pix.point_of_initiation is None


def test_builder_without_amount_or_txid_matches_the_manual_layout():
    # Given P1's key, name and city, When built with no amount and no txid
    payload = build_pix_payload(KEY, "Fulano de Tal", "Brasília", None, None, False)
    # Then it is P1 with upper-cased name and city and its own correct CRC
    expected_body = P1[:-8].replace("Fulano de Tal", "FULANO DE TAL") + "6304"
    assert payload == expected_body + crc16_ccitt_false(expected_body)
    assert validate_pix_payload(payload).amount is None


def test_builder_dynamic_code_round_trips():
    # Given a location from the PSP, When a dynamic code is built, Then it is single use and carries "***"
    location = "pix.example.com/qr/v2/9d36b84fc70b478fb95c12729b90ca25"
    payload = build_pix_payload(location, "Balcão Hospedagem", "Rio de Janeiro", Money.of(12345, "BRL"), None, True)
    assert payload.startswith("000201010212")
    pix = validate_pix_payload(payload)
    assert pix.is_dynamic
    assert pix.location == location
    assert pix.point_of_initiation is PointOfInitiation.SINGLE_USE
    assert pix.txid is None
    assert pix.amount == Money.of(12345, "BRL")
    assert (pix.merchant_name, pix.merchant_city) == ("BALCAO HOSPEDAGEM", "RIO DE JANEIRO")


@pytest.mark.parametrize(
    ("arguments", "problem", "field"),
    [
        (("https://pix.example.com/qr/1", "N", "C", None, None, True), PixProblem.LOCATION_SCHEME, "pix_payload"),
        (("pix.example.com/qr/1", "N", "C", None, "FAT1", True), PixProblem.DYNAMIC_TXID, "txid"),
        ((KEY, "N", "C", None, "FAT-1", False), PixProblem.TXID, "txid"),
        ((KEY, "N", "C", None, "A" * 26, False), PixProblem.TXID, "txid"),
        ((KEY, "N", "C", Money.of(100, "EUR"), None, False), PixProblem.CURRENCY, "amount"),
        ((KEY, "N", "C", Money.of(0, "BRL"), None, False), PixProblem.AMOUNT_NOT_POSITIVE, "amount"),
        ((KEY, "N", "C", Money.of(-100, "BRL"), None, False), PixProblem.AMOUNT_NOT_POSITIVE, "amount"),
        (("k" * 78, "N", "C", None, None, False), PixProblem.FIELD_TOO_LONG, "pix_payload"),
        (("   ", "N", "C", None, None, False), PixProblem.KEY_OR_LOCATION, "key_or_location"),
        ((KEY, "日本", "C", None, None, False), PixProblem.MERCHANT_NAME, "merchant_name"),
        ((KEY, "N", " \t", None, None, False), PixProblem.MERCHANT_CITY, "merchant_city"),
    ],
    ids=[
        "location-with-scheme",
        "dynamic-with-txid",
        "txid-hyphen",
        "txid-too-long",
        "euros",
        "zero-amount",
        "negative-amount",
        "key-too-long",
        "blank-key",
        "name-without-latin-letters",
        "blank-city",
    ],
)
def test_builder_refuses_what_the_rules_refuse(arguments, problem, field):
    # Given arguments that break a rule, When building, Then the named error says which and where
    with pytest.raises(PixPayloadInvalidError) as caught:
        build_pix_payload(*arguments)
    assert caught.value.problem is problem
    assert caught.value.fields[0].field == field


def test_builder_accepts_the_longest_key():
    # Given a 77-character key (26 then holds 99 characters), When built, Then it validates
    pix = validate_pix_payload(build_pix_payload("k" * 77, "N", "C", None, None, False))
    assert pix.key == "k" * 77


@given(
    name=st.text(min_size=1, max_size=60).filter(lambda text: any(char.isascii() and char.isalnum() for char in text)),
    city=st.text(min_size=1, max_size=40).filter(lambda text: any(char.isascii() and char.isalnum() for char in text)),
    centavos=st.none() | st.integers(min_value=1, max_value=10**12),
    txid=st.none() | st.from_regex(r"[A-Za-z0-9]{1,25}", fullmatch=True),
)
def test_any_built_static_code_validates(name, city, centavos, txid):
    # Given any name, city, amount and txid, When a static code is built, Then it validates and keeps the limits
    amount = None if centavos is None else Money.of(centavos, "BRL")
    pix = validate_pix_payload(build_pix_payload(KEY, name, city, amount, txid, False))
    assert 1 <= len(pix.merchant_name) <= 25
    assert 1 <= len(pix.merchant_city) <= 15
    assert pix.merchant_name.isascii()
    assert pix.merchant_name == pix.merchant_name.upper()
    assert pix.amount == amount
    assert pix.txid == txid
