"""Webhook signatures: the shared error, and Mercado Pago's ``x-signature`` check.

Rules implemented (Mercado Pago "Validate notification origin", quoted by its SDKs and many integrations;
payments reference §1.1, §1.3 and §10.2):
- ``x-signature: ts=<ts>,v1=<hex>``: comma-separated ``key=value`` pairs; ``ts`` is 1 to 13 digits (up to the
  year 2286 in milliseconds), ``v1`` 64 hex digits (several ``v1`` are accepted, any one may match). Other keys
  are ignored.
- Manifest ``id:{data.id};request-id:{x-request-id};ts:{ts};`` — ``:`` after each key, ``;`` after each value,
  ``data.id`` taken from the query string and lower-cased; a segment whose value is missing is left out.
- ``v1 = HMAC-SHA256(secret, manifest)`` in hex, compared in constant time.
- Replay tolerance is optional (Mercado Pago documents none): when given, ``ts`` must lie within it of ``now``,
  either way. ``ts`` is in milliseconds when it is at least 10^11 (later than 1973 in ms; later than the year
  5000 in s), otherwise in seconds.
- A missing secret is a configuration problem (503 ``provider_unavailable``), never a pass.

Every failure is a ``WebhookSignatureError``: an ``UnauthenticatedError``, so the HTTP edge answers 401.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from balcao.domain.errors import N_, ProviderUnavailableError, UnauthenticatedError

MILLISECONDS_THRESHOLD = 10**11

_HEX_SIGNATURE = re.compile(r"[0-9a-fA-F]{64}")
_TIMESTAMP = re.compile(r"[0-9]{1,13}")


class WebhookSignatureProblem(StrEnum):
    MISSING = "missing"
    MALFORMED = "malformed"
    MISMATCH = "mismatch"
    OUTSIDE_TOLERANCE = "outside_tolerance"


class WebhookSignatureError(UnauthenticatedError):
    """A webhook's signature is missing, malformed, wrong or outside the replay tolerance (HTTP 401).

    ``problem`` names the failure and ``detail`` explains it in English, for logs; neither reaches the caller.
    """

    default_message = N_("The webhook signature is missing or not valid.")

    def __init__(self, problem: WebhookSignatureProblem, detail: str) -> None:
        super().__init__()
        self.problem = problem
        self.detail = detail


@dataclass(frozen=True, slots=True)
class MercadoPagoSignature:
    """The parts of an ``x-signature`` header: ``ts`` as sent, and every ``v1`` (lower-case hex)."""

    ts: str
    signatures: tuple[str, ...]

    @property
    def signed_at(self) -> datetime:
        value = int(self.ts)
        seconds = value / 1000 if value >= MILLISECONDS_THRESHOLD else value
        return datetime.fromtimestamp(seconds, tz=UTC)


def parse_mercadopago_signature(header: str | None) -> MercadoPagoSignature:
    """Split ``ts=…,v1=…``; raise ``WebhookSignatureError`` when it is absent or not of that form."""
    if not header or not header.strip():
        raise WebhookSignatureError(WebhookSignatureProblem.MISSING, "no x-signature header")
    timestamps: list[str] = []
    signatures: list[str] = []
    for part in header.split(","):
        key, separator, value = part.partition("=")
        if not separator:
            raise WebhookSignatureError(WebhookSignatureProblem.MALFORMED, f"{part.strip()!r} is not key=value")
        key, value = key.strip(), value.strip()
        if key == "ts":
            timestamps.append(value)
        elif key == "v1":
            signatures.append(value)
    if len(timestamps) != 1 or not _TIMESTAMP.fullmatch(timestamps[0]):
        raise WebhookSignatureError(WebhookSignatureProblem.MALFORMED, "expected exactly one ts of 1 to 13 digits")
    if not signatures or not all(_HEX_SIGNATURE.fullmatch(signature) for signature in signatures):
        raise WebhookSignatureError(WebhookSignatureProblem.MALFORMED, "expected v1 values of 64 hex digits")
    return MercadoPagoSignature(ts=timestamps[0], signatures=tuple(signature.lower() for signature in signatures))


def mercadopago_manifest(data_id: str | None, request_id: str | None, ts: str) -> str:
    """``id:{data.id};request-id:{x-request-id};ts:{ts};`` with ``data.id`` lower-cased and empty segments left out."""
    segments = (("id", (data_id or "").lower()), ("request-id", request_id or ""), ("ts", ts))
    return "".join(f"{key}:{value};" for key, value in segments if value)


def mercadopago_v1(manifest: str, secret: str) -> str:
    """HMAC-SHA256 of the manifest with the webhook secret, as lower-case hex."""
    return hmac.new(secret.encode("utf-8"), manifest.encode("utf-8"), hashlib.sha256).hexdigest()


def verify_mercadopago_signature(
    x_signature: str | None,
    x_request_id: str | None,
    data_id: str | None,
    secret: str,
    *,
    now: datetime,
    tolerance: timedelta | None = None,
) -> MercadoPagoSignature:
    """Check a Mercado Pago notification's ``x-signature``; return its parts or raise ``WebhookSignatureError``.

    ``data_id`` is the ``data.id`` of the query string. ``tolerance`` None disables the replay window.
    """
    if not secret:
        raise ProviderUnavailableError()
    signature = parse_mercadopago_signature(x_signature)
    expected = mercadopago_v1(mercadopago_manifest(data_id, x_request_id, signature.ts), secret).encode("ascii")
    if not any(hmac.compare_digest(expected, candidate.encode("ascii")) for candidate in signature.signatures):
        raise WebhookSignatureError(WebhookSignatureProblem.MISMATCH, "no v1 matches the manifest")
    if tolerance is not None and abs(now - signature.signed_at) > tolerance:
        raise WebhookSignatureError(
            WebhookSignatureProblem.OUTSIDE_TOLERANCE, f"ts {signature.ts} is more than {tolerance} from {now}"
        )
    return signature
