"""What the email tests render with: the company's site and a failed payment's event data."""

from __future__ import annotations

from balcao.services.notifications import Site

SITE = Site("Balcão Hosting", "https://central.example.com", "suporte@balcao.example", "no-reply@balcao.example")
PAYMENT_FAILED = {
    "payment_id": "01PAYMENT",
    "invoice_id": "01INVOICE",
    "invoice_ids": ["01INVOICE"],
    "method": "card",
    "amount": {"amount": 4990, "currency": "BRL"},
    "attempt": 1,
    "automatic": True,
}
