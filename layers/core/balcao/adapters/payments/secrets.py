"""Provider keys from Secrets Manager (Powertools parameters, cached 5 minutes per container); none has a default.

Each provider has one JSON secret that operators fill in after deploying (template.yaml creates it empty):
- Stripe: ``{"secret_key": "sk_…", "webhook_secret": "whsec_…", "publishable_key": "pk_…"}``;
- Mercado Pago: ``{"access_token": "APP_USR-…", "webhook_secret": "…"}``.
An empty, missing or unreadable secret means "not configured": its webhook answers 503 ``provider_unavailable``
and its methods 422 — the stack fails closed, it never falls back to anything.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass

logger = logging.getLogger(__name__)

SecretReader = Callable[[str], str]


@dataclass(frozen=True, slots=True)
class StripeKeys:
    secret_key: str | None = None
    webhook_secret: str | None = None
    publishable_key: str | None = None


@dataclass(frozen=True, slots=True)
class MercadoPagoKeys:
    access_token: str | None = None
    webhook_secret: str | None = None


def _default_reader(secret_id: str) -> str:
    from balcao.adapters.secrets import secret_value

    return secret_value(secret_id)


def read_json_secret(secret_id: str, reader: SecretReader | None = None) -> dict[str, str]:
    """The secret's JSON object, or ``{}`` when it has no value yet, is not JSON or cannot be read."""
    if not secret_id:
        return {}
    try:
        text = (reader or _default_reader)(secret_id)
    except Exception:  # no version yet (created empty), no permission, not found: not configured
        logger.warning("provider secret not readable", extra={"secret_id": secret_id})
        return {}
    try:
        loaded = json.loads(text) if text and text.strip() else {}
    except ValueError:
        logger.warning("provider secret is not JSON", extra={"secret_id": secret_id})
        return {}
    if not isinstance(loaded, dict):
        return {}
    return {str(k): str(v) for k, v in loaded.items() if isinstance(v, str) and v.strip()}


def stripe_keys(secret_id: str, reader: SecretReader | None = None) -> StripeKeys:
    values = read_json_secret(secret_id, reader)
    return StripeKeys(values.get("secret_key"), values.get("webhook_secret"), values.get("publishable_key"))


def mercadopago_keys(secret_id: str, reader: SecretReader | None = None) -> MercadoPagoKeys:
    values = read_json_secret(secret_id, reader)
    return MercadoPagoKeys(values.get("access_token"), values.get("webhook_secret"))
