"""Request and response bodies of the payment routes (API.md: payments, payment methods, staff refunds)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import Field

from balcao.contracts import Contract
from balcao.contracts.identity import Body, Timestamped
from balcao.contracts.invoices import BillingMoney, BillingMoneyIn, InvoiceOut, MethodKey
from balcao.domain.invoice_document import PaymentMethod
from balcao.domain.payments.charges import Charge, SavedMethod
from balcao.services.payments import PaymentFlag

ID_TEXT = Field(min_length=1, max_length=64)


def qr_svg(text: str) -> str:
    """The PIX code as an SVG QR code (segno, error correction M), shown next to the copy button."""
    import io

    import segno

    buffer = io.BytesIO()
    segno.make(text, error="m", micro=False).save(buffer, kind="svg", scale=4, border=2, xmldecl=False)
    return buffer.getvalue().decode()


# --- paying ----------------------------------------------------------------------------------------------------------
class PaymentIn(Body):
    method: MethodKey
    payment_method_id: str | None = Field(default=None, min_length=1, max_length=64)


class SeveralPaymentsIn(Body):
    invoice_ids: list[str] = Field(min_length=1, max_length=10)
    method: MethodKey
    payment_method_id: str | None = Field(default=None, min_length=1, max_length=64)


class PixOut(Contract):
    copy_paste: str
    qr_svg: str
    txid: str | None


class BoletoOut(Contract):
    digitable_line: str
    barcode: str | None
    pdf_url: str | None
    due_date: date | None


class CardOut(Contract):
    client_secret: str | None
    publishable_key: str | None


class SepaOut(Contract):
    mandate_status: str
    mandate_reference: str | None


class PaymentOut(Timestamped):
    payment_id: str
    method: str
    status: str
    amount: BillingMoney
    invoice_ids: list[str]
    created_at: datetime
    expires_at: datetime | None
    pix: PixOut | None = None
    boleto: BoletoOut | None = None
    card: CardOut | None = None
    sepa: SepaOut | None = None

    @classmethod
    def of(cls, charge: Charge, publishable_key: str | None = None, base_url: str = "") -> PaymentOut:
        details = charge.details
        pix = boleto = card = sepa = None
        if charge.method is PaymentMethod.PIX and details.get("copy_paste"):
            pix = PixOut(
                copy_paste=details["copy_paste"], qr_svg=qr_svg(details["copy_paste"]), txid=details.get("txid")
            )
        if charge.method is PaymentMethod.BOLETO and details.get("digitable_line"):
            pdf_url = details.get("pdf_url")
            if pdf_url and pdf_url.startswith("/"):
                pdf_url = f"{base_url}{pdf_url}"
            boleto = BoletoOut(
                digitable_line=details["digitable_line"],
                barcode=details.get("barcode"),
                pdf_url=pdf_url,
                due_date=date.fromisoformat(details["due_date"]) if details.get("due_date") else None,
            )
        if charge.method is PaymentMethod.CARD:
            card = CardOut(client_secret=details.get("client_secret"), publishable_key=publishable_key)
        if charge.method is PaymentMethod.SEPA:
            sepa = SepaOut(
                mandate_status=details.get("mandate_status", "missing"),
                mandate_reference=details.get("mandate_reference"),
            )
        return cls(
            payment_id=charge.charge_id,
            method=charge.method.value,
            status=charge.status.api_status,
            amount=BillingMoney.of(charge.amount),
            invoice_ids=list(charge.invoice_ids),
            created_at=charge.created_at,
            expires_at=charge.expires_at,
            pix=pix,
            boleto=boleto,
            card=card,
            sepa=sepa,
        )


# --- saved methods ---------------------------------------------------------------------------------------------------
class SavedMethodIn(Body):
    """A card tokenised by the payment form (``provider_payment_method``: ``pm_…``) or a SEPA mandate (``iban``,
    ``holder_name``); the caller's IP address and browser are recorded as the mandate's acceptance."""

    type: Literal["card", "sepa"]
    provider_payment_method: str | None = Field(default=None, min_length=3, max_length=255)
    iban: str | None = Field(default=None, min_length=15, max_length=42)
    holder_name: str | None = Field(default=None, min_length=1, max_length=120)
    default: bool = False


class SavedMethodPatch(Body):
    default: bool | None = None
    service_ids: list[str] | None = Field(default=None, max_length=50)


class SavedMethodOut(Timestamped):
    payment_method_id: str
    type: str
    brand: str | None
    last4: str | None
    exp_month: int | None
    exp_year: int | None
    mandate_reference: str | None
    mandate_status: str | None
    default: bool
    service_ids: list[str]
    created_at: datetime

    @classmethod
    def of(cls, method: SavedMethod) -> SavedMethodOut:
        return cls(
            payment_method_id=method.method_id,
            type=method.kind.value,
            brand=method.brand,
            last4=method.last4,
            exp_month=method.exp_month,
            exp_year=method.exp_year,
            mandate_reference=method.mandate_reference,
            mandate_status=method.mandate_status,
            default=method.is_default,
            service_ids=list(method.services),
            created_at=method.created_at,
        )


class SavedMethodList(Contract):
    items: list[SavedMethodOut]
    next: str | None = None


# --- staff -----------------------------------------------------------------------------------------------------------
class RefundIn(Body):
    payment_id: str = ID_TEXT
    amount: BillingMoneyIn | None = None
    reason: str = Field(min_length=1, max_length=300)


class RefundOut(Contract):
    refund_id: str
    amount: BillingMoney
    payment: PaymentOut
    invoice: InvoiceOut


class FlagOut(Timestamped):
    flag_id: str
    kind: str
    at: datetime
    provider: str
    provider_ref: str | None
    event_id: str | None
    account_id: str | None
    invoice_id: str | None
    amount: BillingMoney | None
    note: str | None

    @classmethod
    def of(cls, flag: PaymentFlag) -> FlagOut:
        return cls(
            flag_id=flag.flag_id,
            kind=flag.kind.value,
            at=flag.at,
            provider=flag.provider,
            provider_ref=flag.provider_ref,
            event_id=flag.event_id,
            account_id=flag.account_id,
            invoice_id=flag.invoice_id,
            amount=BillingMoney.of(flag.amount) if flag.amount else None,
            note=flag.note,
        )


class FlagList(Contract):
    items: list[FlagOut]
    next: str | None


class WebhookAnswer(Contract):
    received: bool
    outcome: str
