"""Stripe-Signature through the official library: the vector of the payments reference §10.1 and its negatives."""

from __future__ import annotations

import time
from types import SimpleNamespace

import pytest
import stripe
import stripe._webhook

from balcao.adapters.payments.stripe_signature import STRIPE_SIGNATURE_TOLERANCE_SECONDS, verify_stripe_signature
from balcao.domain.errors import ProviderUnavailableError, UnauthenticatedError
from balcao.domain.payments.webhook_signatures import WebhookSignatureError, WebhookSignatureProblem

SECRET = "whsec_test_secret_0123456789abcdef"
T = 1700000000
RAW_BODY = '{"id":"evt_test_webhook","object":"event","type":"invoice.paid","data":{"object":{"id":"in_123","amount_paid":4990,"currency":"brl"}}}'
V1 = "ca36063fd95f57247a7e2aa4f9f64968c32bfafc805f32e8506ee3b5269bcf38"
HEADER = f"t={T},v1={V1}"


def fresh_header(body: str = RAW_BODY, secret: str = SECRET, age_seconds: int = 0) -> str:
    """A header signed now (or ``age_seconds`` ago) with the library's own test helper."""
    return stripe.WebhookSignature.generate_signature_header(body, secret, timestamp=int(time.time()) - age_seconds)


def problem_of(payload: bytes | str, header: str | None, secret: str = SECRET) -> WebhookSignatureProblem:
    with pytest.raises(WebhookSignatureError) as caught:
        verify_stripe_signature(payload, header, secret)
    return caught.value.problem


@pytest.fixture
def library_clock_at_vector_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """The library's wall clock reads 10 s after the vector's ``t`` (it calls ``time.time()`` in its module)."""
    monkeypatch.setattr(stripe._webhook, "time", SimpleNamespace(time=lambda: T + 10.0))


def test_the_library_reproduces_the_vector_header():
    # Given the §10.1 secret, body and t, When the library signs them, Then it produces the published header
    assert stripe.WebhookSignature.generate_signature_header(RAW_BODY, SECRET, timestamp=T) == HEADER


@pytest.mark.usefixtures("library_clock_at_vector_time")
@pytest.mark.parametrize("payload", [RAW_BODY, RAW_BODY.encode()], ids=["str", "bytes"])
def test_the_vector_verifies_when_fresh(payload):
    # Given the library's clock 10 s after t, When the vector is verified from str or raw bytes, Then it passes
    assert verify_stripe_signature(payload, HEADER, SECRET) is None


def test_the_vector_is_refused_today_because_the_tolerance_is_always_passed():
    # Given the 2023 vector and today's clock, When verified, Then it is too old (verify_header alone would accept it)
    assert stripe.WebhookSignature.verify_header(RAW_BODY, HEADER, SECRET, tolerance=None) is True
    assert problem_of(RAW_BODY, HEADER) is WebhookSignatureProblem.OUTSIDE_TOLERANCE


@pytest.mark.usefixtures("library_clock_at_vector_time")
def test_an_altered_body_is_refused():
    # Given the vector with one byte of the body changed, When verified, Then no signature matches
    altered = RAW_BODY.replace('"amount_paid":4990', '"amount_paid":4999')
    assert problem_of(altered.encode(), HEADER) is WebhookSignatureProblem.MISMATCH


@pytest.mark.usefixtures("library_clock_at_vector_time")
def test_a_v0_only_header_is_refused():
    # Given a header whose only signature uses the v0 scheme (even a correct HMAC), When verified, Then it is refused
    assert problem_of(RAW_BODY, f"t={T},v0={V1}") is WebhookSignatureProblem.MALFORMED


@pytest.mark.usefixtures("library_clock_at_vector_time")
@pytest.mark.parametrize(
    "header", [f"t={T},v1={'0' * 64},v1={V1}", f"t={T},v1={V1},v1={'0' * 64}", f"t={T},v0={'1' * 64},v1={V1}"]
)
def test_one_valid_v1_among_several_passes_during_a_rotation(header):
    # Given a header with an old-secret v1 (or a v0) next to the valid v1, When verified, Then it passes
    assert verify_stripe_signature(RAW_BODY, header, SECRET) is None


def test_rotation_with_a_fresh_header_signed_by_both_secrets():
    # Given a fresh header carrying the old secret's and the new secret's v1, When verified with either, Then it passes
    signed_at = int(time.time())
    new = stripe.WebhookSignature.generate_signature_header(RAW_BODY, SECRET, timestamp=signed_at)
    old = stripe.WebhookSignature.generate_signature_header(RAW_BODY, "whsec_old", timestamp=signed_at)
    header = f"{new},v1={old.split('v1=')[1]}"
    assert verify_stripe_signature(RAW_BODY, header, SECRET) is None
    assert verify_stripe_signature(RAW_BODY, header, "whsec_old") is None


def test_a_fresh_header_within_the_tolerance_passes():
    # Given a header signed 290 s ago, When verified with the default 300 s tolerance, Then it passes
    assert STRIPE_SIGNATURE_TOLERANCE_SECONDS == 300
    assert verify_stripe_signature(RAW_BODY, fresh_header(age_seconds=290), SECRET) is None


def test_a_stale_timestamp_is_refused():
    # Given a header correctly signed 301 s ago, When verified, Then it is outside the tolerance
    assert problem_of(RAW_BODY, fresh_header(age_seconds=301)) is WebhookSignatureProblem.OUTSIDE_TOLERANCE


def test_a_custom_tolerance_is_honoured():
    # Given a header signed 60 s ago, When verified with a 30 s tolerance, Then it is refused
    with pytest.raises(WebhookSignatureError) as caught:
        verify_stripe_signature(RAW_BODY, fresh_header(age_seconds=60), SECRET, tolerance_seconds=30)
    assert caught.value.problem is WebhookSignatureProblem.OUTSIDE_TOLERANCE


def test_a_header_signed_with_another_secret_is_refused():
    # Given a fresh header signed with another secret, When verified, Then no signature matches
    assert problem_of(RAW_BODY, fresh_header(secret="whsec_someone_else")) is WebhookSignatureProblem.MISMATCH


@pytest.mark.parametrize("header", [None, "", "  "], ids=["absent", "empty", "blank"])
def test_a_missing_header_is_refused(header):
    # Given no Stripe-Signature, When verified, Then it is refused as missing
    assert problem_of(RAW_BODY, header) is WebhookSignatureProblem.MISSING


@pytest.mark.parametrize(
    "header",
    ["garbage", f"v1={V1}", f"t=yesterday,v1={V1}", f"t={T},v1=é{V1[1:]}"],
    ids=["no-pairs", "no-timestamp", "timestamp-not-a-number", "non-ascii"],
)
def test_a_malformed_header_is_refused(header):
    # Given a header that is not "t=…,v1=…", When verified, Then it is refused as malformed
    assert problem_of(RAW_BODY, header) is WebhookSignatureProblem.MALFORMED


def test_a_body_that_is_not_utf8_is_refused():
    # Given raw bytes that are not UTF-8 (Stripe signs UTF-8 JSON), When verified, Then nothing can match
    assert problem_of(b"\xff\xfe" + RAW_BODY.encode(), fresh_header()) is WebhookSignatureProblem.MISMATCH


@pytest.mark.parametrize("secret", ["", "   "], ids=["empty", "blank"])
def test_a_missing_secret_is_a_configuration_problem_not_a_pass(secret):
    # Given no configured secret, When verifying, Then the provider is unavailable (503)
    with pytest.raises(ProviderUnavailableError):
        verify_stripe_signature(RAW_BODY, fresh_header(), secret)


@pytest.mark.parametrize("tolerance", [0, -1])
def test_a_tolerance_that_would_disable_the_age_check_is_a_programming_error(tolerance):
    # Given a tolerance of 0 or less (the library would skip the age check), When verifying, Then it is rejected
    with pytest.raises(ValueError, match="positive tolerance"):
        verify_stripe_signature(RAW_BODY, fresh_header(), SECRET, tolerance_seconds=tolerance)


def test_the_error_is_the_domain_error_that_answers_401():
    # Given a refused signature, Then the error is the domain's WebhookSignatureError, an UnauthenticatedError
    with pytest.raises(UnauthenticatedError) as caught:
        verify_stripe_signature(RAW_BODY, "garbage", SECRET)
    assert isinstance(caught.value, WebhookSignatureError)
    assert caught.value.code == "unauthorized"
    assert "Unable to extract" in caught.value.detail
