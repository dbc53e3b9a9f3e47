"""The SES adapter sends raw MIME (both parts, attachments) that the dev mailbox reads back; every model
round-trips against the table created from template.yaml."""

from __future__ import annotations

from datetime import UTC, datetime

from balcao.adapters.dynamodb import keys
from balcao.adapters.dynamodb.models import AuditItem, SettingsItem, every_model
from balcao.adapters.ses import SesMailer
from balcao.domain.email import Attachment, OutgoingEmail
from devstack import mail


def test_a_raw_email_arrives_with_both_parts_and_its_attachment(aws):
    # Given a rendered email in Spanish with a PDF attached
    message = OutgoingEmail(
        sender="no-reply@balcao.example",
        recipients=("cliente@example.es",),
        subject="Factura F-2026-000001 — 1.234,56 €",
        text="Hola Peña, tu factura está disponible.",
        html='<html lang="es"><body><p>Hola Peña, tu factura está disponible.</p></body></html>',
        language="es",
        attachments=(Attachment("factura.pdf", "application/pdf", b"%PDF-1.7 fake"),),
    )
    # When it is sent through SES v2
    message_id = SesMailer(aws.ref("EmailConfigurationSet")).send(message)
    # Then the mailbox shows it with both parts, the attachment and its language
    [received] = mail.sent_messages(to="cliente@example.es")
    assert received["id"] == message_id
    assert received["subject"] == "Factura F-2026-000001 — 1.234,56 €"
    assert received["text"].strip() == "Hola Peña, tu factura está disponible."
    assert 'lang="es"' in received["html"]
    assert received["language"] == "es"
    assert received["attachments"] == [{"filename": "factura.pdf", "content_type": "application/pdf", "size": 13}]
    assert mail.sent_messages(to="someone-else@example.com") == []


def test_every_model_round_trips():
    assert {m.__name__ for m in every_model()} >= {"SettingsItem", "AuditItem"}


def test_audit_and_settings_items_round_trip(aws):
    SettingsItem(pk=keys.settings_pk(), sk=keys.SETTINGS, document={"brand": {"name": "X"}}).save()
    assert SettingsItem.get(keys.settings_pk(), keys.SETTINGS).document == {"brand": {"name": "X"}}
    at = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    AuditItem(
        pk=keys.account_pk("A1"), sk=keys.audit_sk("01J"), audit_id="01J", at=at, action="POST /x", target={"a": "b"}
    ).save()
    [entry] = list(AuditItem.query(keys.account_pk("A1"), AuditItem.sk.startswith(keys.AUDIT_PREFIX)))
    assert entry.at == at and entry.target == {"a": "b"} and type(entry) is AuditItem
