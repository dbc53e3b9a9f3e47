"""Provider events after their signature was checked, in one shape whatever the provider (the webhooks' input).

Stripe (``payment_intent.succeeded|processing|payment_failed``, ``charge.refunded``, ``charge.dispute.created``)
and Mercado Pago (a notification whose payment is re-fetched from its API) both become a ``ProviderEvent``: what
happened (``kind``), to which provider object (``provider_ref``), for how much, and which of our charges, accounts
and invoices it names.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from balcao.domain.errors import N_, BalcaoError, ConflictError, NotFoundError
from balcao.domain.invoice_document import PaymentMethod


class EventKind(StrEnum):
    SUCCEEDED = "succeeded"  # money arrived: settle
    PROCESSING = "processing"  # a SEPA debit in flight: the invoice is payment_pending
    FAILED = "failed"  # the attempt failed (after success: a SEPA return, a reversal)
    CANCELLED = "cancelled"  # the provider cancelled or expired it
    REFUNDED = "refunded"  # a refund of a settled payment (a reversal)
    DISPUTED = "disputed"  # a chargeback was opened (a reversal)
    IGNORED = "ignored"  # nothing for us (other event types, intermediate states)


@dataclass(frozen=True, slots=True)
class ProviderEvent:
    """``amount`` in minor units of ``currency`` (for a refund: the total refunded so far; for a dispute: the
    disputed amount). ``reversal_ref`` identifies a refund or dispute (a repeat of the same one changes nothing)."""

    provider: str
    event_id: str
    kind: EventKind
    provider_ref: str | None = None
    amount: int | None = None
    currency: str | None = None
    charge_id: str | None = None
    account_id: str | None = None
    invoice_ids: tuple[str, ...] = ()
    method: PaymentMethod | None = None
    reversal_ref: str | None = None
    reason: str | None = None
    raw_type: str = ""
    details: dict[str, str] = field(default_factory=dict)


class WebhookBodyInvalidError(BalcaoError):
    """The webhook's body is not the JSON the provider sends (HTTP 400, ``bad_request``); ``detail`` is for logs."""

    code = "bad_request"
    default_message = N_("The request body could not be read.")

    def __init__(self, detail: str) -> None:
        super().__init__()
        self.detail = detail


class WebhookAlreadyHandledError(ConflictError):
    """The (provider, event id) dedupe item exists: this delivery is a duplicate (answered 2xx, nothing changes)."""

    default_message = N_("This event was handled already.")


class UnknownProviderError(NotFoundError):
    """A webhook path naming no provider we know, or the sandbox outside the local stack (404)."""
