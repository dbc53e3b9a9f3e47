"""TOTP (RFC 6238 Appendix B vectors), drift and replay, the otpauth URI, recovery codes and emailed codes."""

from __future__ import annotations

import base64
import re
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from balcao.domain.totp import (
    code_matches_hash,
    hash_code,
    hash_recovery_code,
    new_numeric_code,
    new_recovery_codes,
    new_secret,
    otpauth_uri,
    totp_code,
    verify_totp,
)

# RFC 6238 Appendix B: the SHA-1 seed "12345678901234567890" in base32
RFC_SEED = base64.b32encode(b"12345678901234567890").decode()
DEMO_SECRET = "JBSWY3DPEHPK3PXP"


def test_the_rfc_seed_in_base32():
    assert RFC_SEED == "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"


@pytest.mark.parametrize(
    ("at", "code"),
    [
        (59, "94287082"),
        (1111111109, "07081804"),
        (1111111111, "14050471"),
        (1234567890, "89005924"),
        (2000000000, "69279037"),
        (20000000000, "65353130"),
    ],
)
def test_rfc_6238_appendix_b_sha1_vectors(at, code):
    # Given the RFC seed, When the 8-digit code is computed at each published time, Then it matches the RFC
    assert totp_code(RFC_SEED, at, digits=8) == code


def test_six_digit_code_at_59_seconds():
    # Given the RFC seed, When the 6-digit code is computed at t=59, Then it is the last 6 digits of the vector
    assert totp_code(RFC_SEED, 59) == "287082"


def test_secrets_are_accepted_in_lower_case_with_spaces_and_padding():
    # Given the same secret written three ways, When codes are computed, Then they agree
    expected = totp_code(RFC_SEED, 1234567890)
    assert totp_code(RFC_SEED.lower(), 1234567890) == expected
    assert totp_code("GEZD GNBV GY3T QOJQ GEZD GNBV GY3T QOJQ", 1234567890) == expected
    assert totp_code("GEZDGNA=", 1234567890) == totp_code("GEZDGNA", 1234567890)


def test_a_secret_that_is_not_base32_is_a_programming_error():
    with pytest.raises(ValueError, match="base32"):
        totp_code("NOT-BASE32!", 0)


def test_the_current_code_is_accepted_and_its_step_returned():
    # Given the code shown by the app at t=1234567890 (step 41152263)
    code = totp_code(RFC_SEED, 1234567890)
    # When it is verified at the same moment without a previous use
    # Then the matched step is returned
    assert verify_totp(RFC_SEED, code, 1234567890, None) == 41152263


@pytest.mark.parametrize("drift_steps", [-1, 1])
def test_one_step_of_drift_is_accepted(drift_steps):
    # Given a code from the step before or after the server's
    now = 1234567890
    code = totp_code(RFC_SEED, now + 30 * drift_steps)
    # When it is verified at the server's time, Then its own step is returned
    assert verify_totp(RFC_SEED, code, now, None) == now // 30 + drift_steps


@pytest.mark.parametrize("drift_steps", [-2, 2])
def test_two_steps_of_drift_are_refused(drift_steps):
    # Given a code two steps away from the server's clock
    now = 1234567890
    code = totp_code(RFC_SEED, now + 30 * drift_steps)
    # When it is verified, Then it is refused
    assert verify_totp(RFC_SEED, code, now, None) is None


def test_a_used_step_is_refused():
    # Given a code that was just accepted
    now = 1234567890
    code = totp_code(RFC_SEED, now)
    used_step = verify_totp(RFC_SEED, code, now, None)
    # When the same code is submitted again within its window
    # Then it is refused, and so is the previous step's code
    assert verify_totp(RFC_SEED, code, now + 10, used_step) is None
    assert verify_totp(RFC_SEED, totp_code(RFC_SEED, now - 30), now, used_step) is None
    # And the next step's code still works
    assert verify_totp(RFC_SEED, totp_code(RFC_SEED, now + 30), now + 30, used_step) == used_step + 1


@pytest.mark.parametrize("code", ["", "12345", "1234567", "12a456", "１２３４５６"])
def test_malformed_codes_are_refused(code):
    # Given something that is not 6 ASCII digits, When verified, Then it is refused
    assert verify_totp(RFC_SEED, code, 1234567890, None) is None


def test_a_wrong_code_is_refused_and_spaces_are_ignored():
    # Given the right code typed with a space, and a wrong code
    code = totp_code(RFC_SEED, 1234567890)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    # When verified, Then the spaced code is accepted and the wrong one refused
    assert verify_totp(RFC_SEED, f"{code[:3]} {code[3:]}", 1234567890, None) == 41152263
    assert verify_totp(RFC_SEED, wrong, 1234567890, None) is None


def test_new_secrets_are_160_bit_base32_without_padding():
    # Given two new secrets
    first, second = new_secret(), new_secret()
    # Then each is 32 base32 characters decoding to 20 bytes, and they differ
    assert re.fullmatch(r"[A-Z2-7]{32}", first)
    assert len(base64.b32decode(first)) == 20
    assert first != second


def test_the_otpauth_uri_follows_the_key_uri_format():
    # Given the demo secret of the local stack and an issuer with a space and an accent
    # When the enrolment URI is built
    uri = otpauth_uri(DEMO_SECRET, "ana+staff@example.com", "Balcão Hosting")
    # Then the issuer is in the label and in the parameters, all percent-encoded
    assert uri == (
        "otpauth://totp/Balc%C3%A3o%20Hosting:ana%2Bstaff@example.com"
        "?secret=JBSWY3DPEHPK3PXP&issuer=Balc%C3%A3o%20Hosting&algorithm=SHA1&digits=6&period=30"
    )
    parts = urlsplit(uri)
    assert (parts.scheme, parts.netloc) == ("otpauth", "totp")
    assert unquote(parts.path) == "/Balcão Hosting:ana+staff@example.com"
    assert parse_qs(parts.query) == {
        "secret": [DEMO_SECRET],
        "issuer": ["Balcão Hosting"],
        "algorithm": ["SHA1"],
        "digits": ["6"],
        "period": ["30"],
    }


def test_a_colon_cannot_appear_in_the_label():
    with pytest.raises(ValueError, match="colon"):
        otpauth_uri(DEMO_SECRET, "ana@example.com", "Balcão: Hosting")


def test_recovery_codes_are_distinct_unambiguous_and_high_entropy():
    # When ten recovery codes are made
    codes = new_recovery_codes()
    # Then they are distinct, XXXX-XXXX-XXXX in Crockford's alphabet (5 bits x 12 = 60 bits each)
    assert len(codes) == 10
    assert len(set(codes)) == 10
    assert all(
        re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}", code) for code in codes
    )
    assert len(new_recovery_codes(3)) == 3


def test_recovery_code_hashes_ignore_case_hyphens_and_look_alikes():
    # Given a recovery code and the ways a person may type it back
    stored = hash_recovery_code("7KQ4-9XWM-PD10")
    # When they are hashed, Then they match the stored hash; another code does not
    assert hash_recovery_code("7kq49xwmpd10") == stored
    assert hash_recovery_code(" 7KQ4 9XWM PDIO ") == stored
    assert hash_recovery_code("7KQ4-9XWM-PDl0") == stored
    assert hash_recovery_code("7KQ4-9XWM-PD11") != stored
    assert re.fullmatch(r"[0-9a-f]{64}", stored)


def test_numeric_codes_are_six_digits_and_vary():
    # When many codes are drawn
    codes = {new_numeric_code() for _ in range(200)}
    # Then each is 6 digits and they are not all the same
    assert all(re.fullmatch(r"[0-9]{6}", code) for code in codes)
    assert len(codes) > 150


def test_a_code_hash_is_bound_to_its_purpose_and_subject():
    # Given the hash of a sign-up code for one address
    stored = hash_code("signup", "ana@example.com", "123456")
    # When the same code is checked for another purpose or another address, Then it does not match
    assert code_matches_hash("signup", "ana@example.com", " 123456 ", stored) is True
    assert code_matches_hash("password_reset", "ana@example.com", "123456", stored) is False
    assert code_matches_hash("signup", "bruno@example.com", "123456", stored) is False
    assert code_matches_hash("signup", "ana@example.com", "123457", stored) is False
    # And moving characters between the parts gives another hash
    assert hash_code("signup1", "23456", "") != hash_code("signup", "123456", "")
    assert re.fullmatch(r"[0-9a-f]{64}", stored)
