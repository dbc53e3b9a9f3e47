"""Dunning's emails render in the three languages, with the invoice, the amount, the dates and a link to pay."""

from __future__ import annotations

import pytest

from balcao.services.notifications import EMAILS
from balcao.web.emails import JinjaEmailRenderer
from support.emails import SITE

INVOICE = {
    "invoice_id": "01INVOICE",
    "number": "INV-2026-000002",
    "kind": "renewal",
    "total": {"amount": 4990, "currency": "BRL"},
    "amount_due": {"amount": 4990, "currency": "BRL"},
    "due_date": "2026-12-22",
}
SUBJECTS = {
    ("dunning.reminder", "pt-BR"): "Lembrete: a fatura INV-2026-000002 vence em",
    ("dunning.reminder", "es"): "Recordatorio: la factura INV-2026-000002 vence el",
    ("dunning.reminder", "en"): "Reminder: invoice INV-2026-000002 is due on",
    ("dunning.overdue_notice", "pt-BR"): "Aviso de atraso 2: a fatura INV-2026-000002 venceu em",
    ("dunning.overdue_notice", "es"): "Aviso de impago 2: la factura INV-2026-000002 venció el",
    ("dunning.overdue_notice", "en"): "Overdue notice 2: invoice INV-2026-000002 was due on",
    ("dunning.suspended", "pt-BR"): "Serviço suspenso: a fatura INV-2026-000002 está em atraso",
    ("dunning.suspended", "es"): "Servicio suspendido: la factura INV-2026-000002 está impagada",
    ("dunning.suspended", "en"): "Service suspended: invoice INV-2026-000002 is overdue",
    ("dunning.terminated", "pt-BR"): "Serviços encerrados: a fatura INV-2026-000002 não foi paga",
    ("dunning.terminated", "es"): "Servicios dados de baja: la factura INV-2026-000002 no se pagó",
    ("dunning.terminated", "en"): "Services terminated: invoice INV-2026-000002 was not paid",
    ("dunning.staff_alert", "pt-BR"): "[Cobrança] A fatura INV-2026-000002 precisa de atenção",
    ("dunning.staff_alert", "es"): "[Cobro] La factura INV-2026-000002 necesita atención",
    ("dunning.staff_alert", "en"): "[Dunning] Invoice INV-2026-000002 needs attention",
}
DATA = {
    "dunning.reminder": {**INVOICE, "step": "reminder", "suspension_date": "2026-12-29"},
    "dunning.overdue_notice": {
        **INVOICE,
        "step": "notice_2",
        "notice": 2,
        "days_overdue": 3,
        "suspension_date": "2026-12-29",
    },
    "dunning.suspended": {**INVOICE, "step": "suspend"},
    "dunning.terminated": {**INVOICE, "step": "terminate"},
    "dunning.staff_alert": {
        "to": "cobranca@balcao.example",
        "language": "pt-BR",
        "account": "01ACCOUNT",
        "invoice_id": "01INVOICE",
        "number": "INV-2026-000002",
        "execution": "01INVOICE-1",
        "reason": "failed",
        "error": "RuntimeError",
        "cause": "the panel exploded",
    },
}


@pytest.mark.parametrize(("event_type", "language"), sorted(SUBJECTS))
def test_every_dunning_email_in_every_language(event_type, language):
    spec = EMAILS[event_type]
    context = {
        "data": DATA[event_type],
        "site": SITE,
        "recipient": None,
        "account_name": "Loja da Ana",
        "event_type": event_type,
        "occurred_at": None,
    }
    rendered = JinjaEmailRenderer().render(spec.template, language, context)
    assert rendered.subject.startswith(SUBJECTS[(event_type, language)])
    for part in (rendered.text, rendered.html):
        assert "INV-2026-000002" in part and "{{" not in part and "%(" not in part
    if event_type != "dunning.staff_alert":
        assert "https://central.example.com/invoices/01INVOICE" in rendered.text
        assert "Loja da Ana" in rendered.text
    if event_type in ("dunning.reminder", "dunning.overdue_notice"):
        assert "29" in rendered.text  # the suspension day it warns about
    else:
        assert "the panel exploded" in rendered.text or event_type != "dunning.staff_alert"
