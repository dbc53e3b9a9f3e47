"""Mercado Pago ``x-signature``: the vector of the payments reference §10.2 and the negatives listed there."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from balcao.domain.errors import ProviderUnavailableError, UnauthenticatedError
from balcao.domain.payments.webhook_signatures import (
    MercadoPagoSignature,
    WebhookSignatureError,
    WebhookSignatureProblem,
    mercadopago_manifest,
    mercadopago_v1,
    parse_mercadopago_signature,
    verify_mercadopago_signature,
)

SECRET = "mp_test_secret"
DATA_ID = "123456789"
REQUEST_ID = "bb56a2f1-6aae-46ac-982e-9dcd3581d08e"
TS = "1742505638683"
MANIFEST = "id:123456789;request-id:bb56a2f1-6aae-46ac-982e-9dcd3581d08e;ts:1742505638683;"
V1 = "965dc905f10654d792629f4706bf1697243412604df7863abc3533ea30d269ef"
HEADER = f"ts={TS},v1={V1}"
SIGNED_AT = datetime(2025, 3, 20, 21, 20, 38, 683000, tzinfo=UTC)


def header_for(manifest: str, ts: str = TS, secret: str = SECRET) -> str:
    return f"ts={ts},v1={mercadopago_v1(manifest, secret)}"


def problem_of(
    header: str | None,
    request_id: str | None = REQUEST_ID,
    data_id: str | None = DATA_ID,
    *,
    now: datetime = SIGNED_AT,
    tolerance: timedelta | None = None,
) -> WebhookSignatureProblem:
    with pytest.raises(WebhookSignatureError) as caught:
        verify_mercadopago_signature(header, request_id, data_id, SECRET, now=now, tolerance=tolerance)
    return caught.value.problem


def test_the_vector_manifest_and_signature():
    # Given the §10.2 notification, When its manifest is built and signed, Then both match the published values
    assert mercadopago_manifest(DATA_ID, REQUEST_ID, TS) == MANIFEST
    assert mercadopago_v1(MANIFEST, SECRET) == V1


def test_the_vector_verifies():
    # Given the §10.2 headers and query, When verified, Then the parsed signature and its instant come back
    signature = verify_mercadopago_signature(HEADER, REQUEST_ID, DATA_ID, SECRET, now=SIGNED_AT)
    assert signature == MercadoPagoSignature(ts=TS, signatures=(V1,))
    assert signature.signed_at == SIGNED_AT


def test_an_alphanumeric_data_id_is_lower_cased():
    # Given an Order ID in upper case, When the manifest is built, Then it carries the id in lower case
    manifest = mercadopago_manifest("ORD01ABC", REQUEST_ID, TS)
    assert manifest == f"id:ord01abc;request-id:{REQUEST_ID};ts:{TS};"
    # And a signature over the lower-cased manifest verifies, one over the upper-case id does not
    assert verify_mercadopago_signature(header_for(manifest), REQUEST_ID, "ORD01ABC", SECRET, now=SIGNED_AT).ts == TS
    upper_case_manifest = f"id:ORD01ABC;request-id:{REQUEST_ID};ts:{TS};"
    assert problem_of(header_for(upper_case_manifest), data_id="ORD01ABC") is WebhookSignatureProblem.MISMATCH


@pytest.mark.parametrize("request_id", [None, ""], ids=["absent", "empty"])
def test_a_missing_request_id_drops_its_segment(request_id):
    # Given a notification without x-request-id, When the manifest is built, Then the request-id segment is left out
    manifest = mercadopago_manifest(DATA_ID, request_id, TS)
    assert manifest == f"id:{DATA_ID};ts:{TS};"
    # And a signature over that manifest verifies
    assert verify_mercadopago_signature(header_for(manifest), request_id, DATA_ID, SECRET, now=SIGNED_AT).ts == TS


def test_a_missing_data_id_drops_its_segment():
    # Given a notification without data.id, When the manifest is built, Then the id segment is left out
    assert mercadopago_manifest(None, REQUEST_ID, TS) == f"request-id:{REQUEST_ID};ts:{TS};"


def test_ts_written_with_an_equals_sign_fails():
    # Given a signature over a manifest that writes "ts=" instead of "ts:", When verified, Then it does not match
    wrong_manifest = f"id:{DATA_ID};request-id:{REQUEST_ID};ts={TS};"
    assert problem_of(header_for(wrong_manifest)) is WebhookSignatureProblem.MISMATCH


def test_a_manifest_without_the_trailing_semicolon_fails():
    # Given a signature over the manifest without its final ";", When verified, Then it does not match
    assert problem_of(header_for(MANIFEST[:-1])) is WebhookSignatureProblem.MISMATCH


@pytest.mark.parametrize(
    ("header", "request_id", "data_id"),
    [
        (header_for(MANIFEST, secret="another_secret"), REQUEST_ID, DATA_ID),
        (HEADER, REQUEST_ID, "123456780"),
        (HEADER, "bb56a2f1-6aae-46ac-982e-9dcd3581d08f", DATA_ID),
        (f"ts=1742505638684,v1={V1}", REQUEST_ID, DATA_ID),
        (f"ts={TS},v1={V1[:-1]}0", REQUEST_ID, DATA_ID),
    ],
    ids=["other-secret", "other-data-id", "other-request-id", "other-ts", "altered-v1"],
)
def test_any_change_breaks_the_signature(header, request_id, data_id):
    # Given the vector with one value changed, When verified, Then no v1 matches
    assert problem_of(header, request_id, data_id) is WebhookSignatureProblem.MISMATCH


def test_one_matching_v1_among_several_is_enough():
    # Given a header carrying a stale v1 and the right one, When verified, Then it passes
    header = f"ts={TS},v1={'0' * 64},v1={V1}"
    assert verify_mercadopago_signature(header, REQUEST_ID, DATA_ID, SECRET, now=SIGNED_AT).signatures == ("0" * 64, V1)


def test_spaces_and_upper_case_hex_are_tolerated():
    # Given the header with spaces after the comma and an upper-case v1, When verified, Then it passes
    signature = verify_mercadopago_signature(f"ts={TS}, v1={V1.upper()}", REQUEST_ID, DATA_ID, SECRET, now=SIGNED_AT)
    assert signature.signatures == (V1,)


@pytest.mark.parametrize("header", [None, "", "   "], ids=["absent", "empty", "blank"])
def test_a_missing_header_is_refused(header):
    # Given no x-signature, When verified, Then it is refused as missing
    assert problem_of(header) is WebhookSignatureProblem.MISSING


@pytest.mark.parametrize(
    "header",
    [
        "garbage",
        f"v1={V1}",
        f"ts={TS}",
        f"ts=abc,v1={V1}",
        f"ts={TS},ts={TS},v1={V1}",
        f"ts={TS},v1={V1[:-2]}",
        f"ts={TS},v1={V1[:-1]}g",
        f"ts={TS},v1={V1[:-1]}é",
        f"ts=12345678901234,v1={V1}",
    ],
    ids=[
        "no-pairs",
        "no-ts",
        "no-v1",
        "ts-not-digits",
        "two-ts",
        "short-v1",
        "v1-not-hex",
        "v1-non-ascii",
        "ts-14-digits",
    ],
)
def test_a_malformed_header_is_refused(header):
    # Given an x-signature that is not "ts=…,v1=…", When parsed, Then it is refused as malformed
    with pytest.raises(WebhookSignatureError) as caught:
        parse_mercadopago_signature(header)
    assert caught.value.problem is WebhookSignatureProblem.MALFORMED


def test_ts_in_seconds_and_milliseconds_are_told_apart_by_magnitude():
    # Given the older docs' ts in seconds and the current docs' ts in milliseconds, Then both mean the right instant
    assert MercadoPagoSignature(ts="1704908010", signatures=()).signed_at == datetime(
        2024, 1, 10, 17, 33, 30, tzinfo=UTC
    )
    assert MercadoPagoSignature(ts=TS, signatures=()).signed_at == SIGNED_AT


@pytest.mark.parametrize(
    ("ts", "now"),
    [
        (TS, SIGNED_AT + timedelta(minutes=5)),
        (TS, SIGNED_AT - timedelta(minutes=5)),
        ("1742505638", SIGNED_AT + timedelta(minutes=4)),
    ],
    ids=["ms-at-the-edge-after", "ms-at-the-edge-before", "seconds-within"],
)
def test_a_timestamp_within_the_tolerance_passes(ts, now):
    # Given a tolerance of 5 minutes and a ts within it (ms or s), When verified, Then it passes
    header = header_for(mercadopago_manifest(DATA_ID, REQUEST_ID, ts), ts=ts)
    signature = verify_mercadopago_signature(
        header, REQUEST_ID, DATA_ID, SECRET, now=now, tolerance=timedelta(minutes=5)
    )
    assert signature.ts == ts


@pytest.mark.parametrize(
    ("ts", "now"),
    [
        (TS, SIGNED_AT + timedelta(minutes=5, milliseconds=1)),
        (TS, SIGNED_AT - timedelta(minutes=6)),
        ("1742505638", SIGNED_AT + timedelta(hours=1)),
    ],
    ids=["ms-replayed-late", "ms-from-the-future", "seconds-replayed-late"],
)
def test_a_timestamp_outside_the_tolerance_is_refused(ts, now):
    # Given a correctly signed notification whose ts is further than 5 minutes from now, When verified, Then refused
    header = header_for(mercadopago_manifest(DATA_ID, REQUEST_ID, ts), ts=ts)
    assert problem_of(header, now=now, tolerance=timedelta(minutes=5)) is WebhookSignatureProblem.OUTSIDE_TOLERANCE


def test_no_tolerance_disables_the_replay_window():
    # Given the 2025 vector checked years later without a tolerance, When verified, Then it passes
    signature = verify_mercadopago_signature(HEADER, REQUEST_ID, DATA_ID, SECRET, now=datetime(2030, 1, 1, tzinfo=UTC))
    assert signature.signed_at == SIGNED_AT


def test_the_signature_is_checked_before_the_age():
    # Given a forged signature with an old ts, When verified with a tolerance, Then it is a mismatch, not an age issue
    forged = f"ts=1,v1={'a' * 64}"
    assert problem_of(forged, tolerance=timedelta(minutes=5)) is WebhookSignatureProblem.MISMATCH


def test_a_missing_secret_is_a_configuration_problem_not_a_pass():
    # Given no configured secret, When verifying, Then the provider is unavailable (503), whatever the header
    with pytest.raises(ProviderUnavailableError):
        verify_mercadopago_signature(HEADER, REQUEST_ID, DATA_ID, "", now=SIGNED_AT)


def test_the_error_makes_the_http_edge_answer_401():
    # Given a refused signature, Then the error is an UnauthenticatedError with the "unauthorized" code
    with pytest.raises(UnauthenticatedError) as caught:
        verify_mercadopago_signature(None, REQUEST_ID, DATA_ID, SECRET, now=SIGNED_AT)
    assert caught.value.code == "unauthorized"
    assert caught.value.message == WebhookSignatureError.default_message
