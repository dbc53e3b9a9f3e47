"""Stripe webhook signatures (``Stripe-Signature``), checked by the official ``stripe`` library.

Rules implemented (stripe-python ``_webhook.py``; docs.stripe.com/webhooks/signatures; payments reference §1.2 and
§10.1):
- ``Stripe-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>…]``: only ``v1`` counts (a ``v0``-only header fails);
  any ``v1`` may match, so a header signed with the old and the new secret passes during a rotation.
- ``v1 = HMAC-SHA256(secret, f"{t}.{raw body}")`` over the raw body exactly as received, compared in constant
  time by the library.
- Age: ``t`` older than the tolerance (300 s, Stripe's default) fails. ``WebhookSignature.verify_header`` checks
  the age only when given a tolerance, so it is always passed, and it must be positive. The library reads the
  wall clock: signature age is wall time, never the application clock.
- A missing secret is a configuration problem (503 ``provider_unavailable``), never a pass.

Every failure is the domain's ``WebhookSignatureError`` (HTTP 401).
"""

from __future__ import annotations

import stripe

from balcao.domain.errors import ProviderUnavailableError
from balcao.domain.payments.webhook_signatures import WebhookSignatureError, WebhookSignatureProblem

STRIPE_SIGNATURE_TOLERANCE_SECONDS = 300

# The library names its failures only in its messages; unknown messages count as a mismatch.
_PROBLEM_BY_LIBRARY_MESSAGE = (
    ("Unable to extract timestamp and signatures", WebhookSignatureProblem.MALFORMED),
    ("No signatures found with expected scheme", WebhookSignatureProblem.MALFORMED),
    ("No signatures found matching the expected signature", WebhookSignatureProblem.MISMATCH),
    ("Timestamp outside the tolerance zone", WebhookSignatureProblem.OUTSIDE_TOLERANCE),
)


def verify_stripe_signature(
    payload: bytes | str,
    header: str | None,
    secret: str,
    *,
    tolerance_seconds: int = STRIPE_SIGNATURE_TOLERANCE_SECONDS,
) -> None:
    """Return if ``header`` signs ``payload`` (the raw body) with ``secret``; raise ``WebhookSignatureError`` if not."""
    if tolerance_seconds <= 0:
        raise ValueError("a positive tolerance is required: without one the library skips the age check")
    if not secret.strip():
        raise ProviderUnavailableError()
    if not header or not header.strip():
        raise WebhookSignatureError(WebhookSignatureProblem.MISSING, "no Stripe-Signature header")
    if not header.isascii():
        raise WebhookSignatureError(WebhookSignatureProblem.MALFORMED, "the header has non-ASCII characters")
    if isinstance(payload, bytes):
        try:
            payload = payload.decode("utf-8")
        except UnicodeDecodeError as error:
            raise WebhookSignatureError(WebhookSignatureProblem.MISMATCH, "the body is not UTF-8") from error
    try:
        stripe.WebhookSignature.verify_header(payload, header, secret, tolerance=tolerance_seconds)
    except stripe.SignatureVerificationError as error:
        message = error.user_message or ""
        problem = next(
            (problem for prefix, problem in _PROBLEM_BY_LIBRARY_MESSAGE if message.startswith(prefix)),
            WebhookSignatureProblem.MISMATCH,
        )
        raise WebhookSignatureError(problem, message) from error
