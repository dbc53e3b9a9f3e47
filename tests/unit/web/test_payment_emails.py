"""Payments' emails render in the three languages: "payment failed" with a link to pay another way, and the notice
of a saved card expiring this month with a link to the payment methods."""

from __future__ import annotations

import pytest

from balcao.services.notifications import EMAILS
from balcao.web.emails import JinjaEmailRenderer
from support.emails import PAYMENT_FAILED, SITE

EXPIRING = {"method_id": "01METHOD", "brand": "visa", "last4": "4242", "exp_month": 11, "exp_year": 2026}
SUBJECTS = {
    ("payment.failed", "pt-BR"): "Seu pagamento de R$ 49,90 não foi aprovado",
    ("payment.failed", "es"): "Tu pago de 49,90 BRL no se ha completado",
    ("payment.failed", "en"): "Your payment of R$49.90 did not go through",
    ("payment_method.expiring", "pt-BR"): "Seu cartão salvo final 4242 vence este mês",
    ("payment_method.expiring", "es"): "Tu tarjeta guardada terminada en 4242 caduca este mes",
    ("payment_method.expiring", "en"): "Your saved card ending in 4242 expires this month",
}


@pytest.mark.parametrize(("event_type", "language"), sorted(SUBJECTS))
def test_every_payment_email_in_every_language(event_type, language):
    context = {
        "data": PAYMENT_FAILED if event_type == "payment.failed" else EXPIRING,
        "site": SITE,
        "recipient": None,
        "account_name": "Loja da Ana",
        "event_type": event_type,
        "occurred_at": None,
    }
    rendered = JinjaEmailRenderer().render(EMAILS[event_type].template, language, context)
    assert " ".join(rendered.subject.split()) == " ".join(SUBJECTS[(event_type, language)].split())
    for part in (rendered.text, rendered.html):
        assert "Loja da Ana" in part and "{{" not in part and "%(" not in part
    if event_type == "payment.failed":
        assert "https://central.example.com/invoices/01INVOICE/pay" in rendered.text
    else:
        assert "https://central.example.com/payment-methods" in rendered.text and "11/2026" in rendered.text
