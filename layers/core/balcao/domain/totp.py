"""The app's own second factor and one-time codes (API.md ``/api/auth/mfa`` and ``/api/me/mfa/totp``).

TOTP (RFC 6238 over HOTP, RFC 4226): HMAC-SHA1, 6 digits, 30-second steps from T0 = 0. The secret is 160 random
bits (RFC 4226 §4 recommends 160), exchanged as base32 (RFC 4648) without padding. Verification accepts the
current step and one step either side for clock drift (RFC 6238 §5.2), refuses any step at or before the last one
used (a code works once), and compares codes in constant time.

The enrolment URI follows the Key Uri Format of Google Authenticator: ``otpauth://totp/<issuer>:<account>`` with
``secret``, ``issuer``, ``algorithm``, ``digits`` and ``period`` parameters, everything percent-encoded (RFC 3986).

Recovery codes are 12 characters of Crockford's base32 alphabet (no I, L, O or U: nothing to confuse) written as
``XXXX-XXXX-XXXX``: 60 random bits each, enough to store as a plain SHA-256. When a code is typed back, case and
hyphens are ignored and O, I and L are read as 0, 1 and 1, as Crockford's decoding does.

Emailed one-time codes are 6 uniformly random digits. Their hash binds purpose, subject and code with length
prefixes, so the stored hash of a sign-up code can never be accepted for a password reset or another address.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import struct
from urllib.parse import quote

TOTP_DIGITS = 6
TOTP_PERIOD_SECONDS = 30
TOTP_ALGORITHM = "SHA1"
TOTP_DRIFT_STEPS = 1
SECRET_BYTES = 20

RECOVERY_CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
RECOVERY_CODE_GROUPS = 3
RECOVERY_CODE_GROUP_LENGTH = 4
RECOVERY_CODE_COUNT = 10
_RECOVERY_CODE_READINGS = str.maketrans({"O": "0", "I": "1", "L": "1", "-": None, " ": None})

NUMERIC_CODE_DIGITS = 6


def new_secret() -> str:
    """A new TOTP secret: 160 random bits as base32 without padding (32 characters)."""
    return base64.b32encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii").rstrip("=")


def totp_code(secret_b32: str, at_epoch_seconds: int, digits: int = TOTP_DIGITS) -> str:
    """The code of ``secret_b32`` for the time step containing ``at_epoch_seconds``."""
    return _hotp(_decode_secret(secret_b32), at_epoch_seconds // TOTP_PERIOD_SECONDS, digits)


def verify_totp(secret_b32: str, code: str, at_epoch_seconds: int, last_used_step: int | None) -> int | None:
    """The time step ``code`` belongs to (current ±1, after ``last_used_step``), or ``None`` when it is refused.

    Store the returned step as the new ``last_used_step``: the same code, or any older one, is then refused.
    """
    typed = code.replace(" ", "")
    if len(typed) != TOTP_DIGITS or not typed.isascii() or not typed.isdigit():
        return None
    key = _decode_secret(secret_b32)
    current_step = at_epoch_seconds // TOTP_PERIOD_SECONDS
    matched: int | None = None
    for step in range(current_step - TOTP_DRIFT_STEPS, current_step + TOTP_DRIFT_STEPS + 1):
        if step < 0 or (last_used_step is not None and step <= last_used_step):
            continue
        if hmac.compare_digest(_hotp(key, step, TOTP_DIGITS), typed):
            matched = step
    return matched


def otpauth_uri(secret: str, account_email: str, issuer: str) -> str:
    """The ``otpauth://`` URI an authenticator app reads from the enrolment QR code."""
    if ":" in issuer or ":" in account_email:
        raise ValueError("neither the issuer nor the account name of an otpauth label may contain a colon")
    label = f"{quote(issuer, safe='')}:{quote(account_email, safe='@')}"
    parameters = {
        "secret": secret,
        "issuer": issuer,
        "algorithm": TOTP_ALGORITHM,
        "digits": str(TOTP_DIGITS),
        "period": str(TOTP_PERIOD_SECONDS),
    }
    query = "&".join(f"{name}={quote(value, safe='')}" for name, value in parameters.items())
    return f"otpauth://totp/{label}?{query}"


def new_recovery_codes(count: int = RECOVERY_CODE_COUNT) -> list[str]:
    """``count`` distinct recovery codes such as ``7KQ4-9XWM-PD2A``."""
    codes: list[str] = []
    while len(codes) < count:
        code = "-".join(
            "".join(secrets.choice(RECOVERY_CODE_ALPHABET) for _ in range(RECOVERY_CODE_GROUP_LENGTH))
            for _ in range(RECOVERY_CODE_GROUPS)
        )
        if code not in codes:
            codes.append(code)
    return codes


def hash_recovery_code(code: str) -> str:
    """SHA-256 (hex) of a recovery code as typed: case, spaces and hyphens do not matter."""
    return hashlib.sha256(code.upper().translate(_RECOVERY_CODE_READINGS).encode("utf-8")).hexdigest()


def new_numeric_code() -> str:
    """A 6-digit one-time code for email, uniformly random (leading zeros kept)."""
    return f"{secrets.randbelow(10**NUMERIC_CODE_DIGITS):0{NUMERIC_CODE_DIGITS}d}"


def hash_code(purpose: str, subject: str, code: str) -> str:
    """SHA-256 (hex) binding an emailed code to its purpose (``signup``, ``password_reset`` …) and subject.

    ``subject`` is what the code was sent for, in its stored form (a normalised email address or a user id).
    """
    digest = hashlib.sha256()
    for part in (purpose, subject, code.strip()):
        encoded = part.encode("utf-8")
        digest.update(struct.pack(">I", len(encoded)))
        digest.update(encoded)
    return digest.hexdigest()


def code_matches_hash(purpose: str, subject: str, code: str, stored_hash: str) -> bool:
    """Whether ``code`` is the code whose ``hash_code`` was stored, compared in constant time."""
    return hmac.compare_digest(hash_code(purpose, subject, code), stored_hash)


def _decode_secret(secret_b32: str) -> bytes:
    compact = secret_b32.replace(" ", "").upper()
    try:
        return base64.b32decode(compact + "=" * (-len(compact) % 8))
    except binascii.Error as error:
        raise ValueError("a TOTP secret must be base32") from error


def _hotp(key: bytes, counter: int, digits: int) -> str:
    """RFC 4226 §5.3: dynamic truncation of HMAC-SHA1(key, counter) to ``digits`` decimal digits."""
    mac = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    binary = int.from_bytes(mac[offset : offset + 4], "big") & 0x7FFFFFFF
    return f"{binary % 10**digits:0{digits}d}"
