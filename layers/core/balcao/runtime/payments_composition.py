"""Building the payment use-cases with their adapters, once per container (the payments, webhooks and jobs functions
and the portal share it).

Which provider serves a method: Stripe for card and SEPA, Mercado Pago for PIX and boleto — each only when its
keys are in its secret. With ``PAYMENTS_MODE=local`` (the devstack and the integration tests; template.yaml never
sets it) the sandbox stands in for a provider without keys. Deployed, a provider without keys fails closed: its
methods answer 422 and its webhook 503.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache, cached_property
from typing import Any

from balcao.adapters.clock import app_clock
from balcao.adapters.dynamodb.payments import DynamoPaymentStore
from balcao.adapters.payments.http import HttpTransport, Urllib3Transport
from balcao.adapters.payments.mercadopago import MercadoPagoProvider, parse_mercadopago_notification
from balcao.adapters.payments.sandbox import SandboxProvider
from balcao.adapters.payments.secrets import MercadoPagoKeys, StripeKeys, mercadopago_keys, stripe_keys
from balcao.adapters.payments.stripe_provider import StripeProvider, parse_stripe_event, refetched
from balcao.domain.errors import N_, InvalidInputError, ProviderUnavailableError
from balcao.domain.invoice_document import PaymentMethod
from balcao.domain.payments.charges import PaymentMethodUnavailableError, Provider
from balcao.domain.payments.events import ProviderEvent, UnknownProviderError
from balcao.runtime import composition
from balcao.runtime.invoices_composition import invoices
from balcao.runtime.settings import load_settings
from balcao.services.payments import ChargeProvider, MethodVault, Payments

_transport: HttpTransport | None = None


def transport() -> HttpTransport:
    global _transport
    if _transport is None:
        _transport = Urllib3Transport()
    return _transport


def install_transport(replacement: HttpTransport | None) -> None:
    """Tests route every provider call to recorded answers (None: back to the real transport)."""
    global _transport
    _transport = replacement


@cache
def payment_store() -> DynamoPaymentStore:
    return DynamoPaymentStore()


def _not_available() -> InvalidInputError:
    return PaymentMethodUnavailableError.single("method", N_("This payment method is not available right now."))


@dataclass
class ProviderRegistry:
    """The providers and their keys. Keys are read from their secrets when a provider is first needed: most requests
    (listing saved methods, an invoice's page) need none, and each secret read is an AWS call."""

    stripe_secret_id: str
    mercadopago_secret_id: str
    local: bool
    http: HttpTransport
    base_url: str
    merchant_name: str

    @cached_property
    def stripe(self) -> StripeKeys:
        return stripe_keys(self.stripe_secret_id)

    @cached_property
    def mercadopago(self) -> MercadoPagoKeys:
        return mercadopago_keys(self.mercadopago_secret_id)

    def _stripe(self) -> StripeProvider | None:
        return StripeProvider(self.stripe.secret_key, self.http) if self.stripe.secret_key else None

    def _mercadopago(self) -> MercadoPagoProvider | None:
        if not self.mercadopago.access_token:
            return None
        return MercadoPagoProvider(self.mercadopago.access_token, self.http, f"{self.base_url}/webhooks/mercadopago")

    def _sandbox(self) -> SandboxProvider | None:
        return SandboxProvider(self.merchant_name) if self.local else None

    def for_method(self, method: PaymentMethod) -> ChargeProvider:
        found: ChargeProvider | None = None
        if method in (PaymentMethod.CARD, PaymentMethod.SEPA):
            found = self._stripe() or self._sandbox()
        elif method in (PaymentMethod.PIX, PaymentMethod.BOLETO):
            found = self._mercadopago() or self._sandbox()
        if found is None:
            raise _not_available()
        return found

    def for_provider(self, provider: Provider) -> ChargeProvider:
        found: ChargeProvider | None = {
            Provider.STRIPE: self._stripe,
            Provider.MERCADOPAGO: self._mercadopago,
            Provider.SANDBOX: self._sandbox,
        }.get(provider, lambda: None)()
        if found is None:
            raise ProviderUnavailableError()
        return found

    def vault(self) -> MethodVault:
        found: MethodVault | None = self._stripe() or self._sandbox()
        if found is None:
            raise _not_available()
        return found

    @property
    def publishable_key(self) -> str | None:
        return self.stripe.publishable_key if self.stripe.secret_key else None


def registry() -> ProviderRegistry:
    settings = load_settings()
    company = composition.company()
    return ProviderRegistry(
        stripe_secret_id=settings.stripe_secret_id,
        mercadopago_secret_id=settings.mercadopago_secret_id,
        local=settings.is_local,
        http=transport(),
        base_url=public_base_url(),
        merchant_name=company.invoices.seller.legal_name or company.brand.name,
    )


def public_base_url() -> str:
    return composition.company().contact.public_base_url or load_settings().public_base_url


class _ServicesWhenNeeded:
    """The services' use-case is built only when a payment may lift a suspension (not on every request)."""

    def suspended_for_overdue(self, account_id: str, service_ids: Sequence[str]) -> list[str]:
        from balcao.runtime.services_composition import services

        return services().suspended_for_overdue(account_id, service_ids)

    def unsuspend(self, account_id: str, service_id: str) -> None:
        from balcao.runtime.services_composition import services

        services().unsuspend(account_id, service_id)

    def existing(self, account_id: str, service_ids: Sequence[str]) -> list[str]:
        from balcao.runtime.services_composition import services

        store = services().store
        return [s for s in service_ids if store.service(account_id, s) is not None]


def payments() -> Payments:
    company = composition.company()
    return Payments(
        store=payment_store(),
        invoices=invoices(),
        providers=registry(),
        clock=app_clock(),
        settings=company.payments,
        timezone=company.locale.timezone,
        public_base_url=public_base_url(),
        services=_ServicesWhenNeeded(),
        suspension_after_days=company.dunning.suspend_after_days if company.dunning.suspend else None,
    )


def event_from_webhook(
    provider: str, raw_body: str, headers: Mapping[str, str], query: Mapping[str, str]
) -> ProviderEvent:
    """Verify and read a provider's webhook (401 bad signature, 400 unreadable body, 503 provider not configured,
    404 unknown provider or the sandbox outside the local stack)."""
    settings = load_settings()
    lowered = {k.lower(): v for k, v in headers.items()}
    current = registry()
    if provider == Provider.SANDBOX.value:
        if not settings.is_local:
            raise UnknownProviderError()
        sandbox = SandboxProvider()
        if "stripe-signature" in lowered:
            return parse_stripe_event(
                raw_body, lowered["stripe-signature"], current.stripe.webhook_secret, Provider.SANDBOX.value
            )
        return parse_mercadopago_notification(
            raw_body,
            headers,
            query,
            current.mercadopago.webhook_secret,
            sandbox.fetch,
            now=datetime.now(UTC),
            provider=Provider.SANDBOX.value,
        )
    if provider == Provider.STRIPE.value:
        if not current.stripe.webhook_secret:
            raise ProviderUnavailableError()
        event = parse_stripe_event(raw_body, lowered.get("stripe-signature"), current.stripe.webhook_secret)
        if settings.is_local:
            return event  # the local stack trusts a correctly signed event as sent
        stripe = current._stripe()
        if stripe is None:
            raise ProviderUnavailableError()
        return refetched(event, stripe)
    if provider == Provider.MERCADOPAGO.value:
        if not current.mercadopago.webhook_secret:
            raise ProviderUnavailableError()
        mercadopago = current._mercadopago()
        fetcher: Any
        if mercadopago is not None:
            fetcher = mercadopago.fetch
        elif settings.is_local:
            fetcher = SandboxProvider().fetch  # locally: the sandbox's recorded answer
        else:
            raise ProviderUnavailableError()
        return parse_mercadopago_notification(
            raw_body, headers, query, current.mercadopago.webhook_secret, fetcher, now=datetime.now(UTC)
        )
    raise UnknownProviderError()
