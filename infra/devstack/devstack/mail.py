"""The dev mailbox: every message sent through SES, parsed from the raw MIME we send (both parts, attachments)."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage
from email.utils import getaddresses, parsedate_to_datetime
from html import escape
from typing import Any

ACCOUNT = "123456789012"
REGION = "eu-west-1"


def _backend() -> Any:
    from moto.ses.models import ses_backends

    return ses_backends[ACCOUNT][REGION]


def parse_raw(message_id: str, raw: str | bytes, destinations: list[str]) -> dict[str, Any]:
    data = raw.encode() if isinstance(raw, str) else raw
    parsed: EmailMessage = email.message_from_bytes(data, policy=email.policy.default)  # type: ignore[assignment]
    text_part = parsed.get_body(preferencelist=("plain",))
    html_part = parsed.get_body(preferencelist=("html",))
    attachments = []
    for part in parsed.iter_attachments():
        payload = part.get_payload(decode=True) or b""
        attachments.append(
            {"filename": part.get_filename(), "content_type": part.get_content_type(), "size": len(payload)}
        )
    recipients = [address for _, address in getaddresses(parsed.get_all("To", []) + parsed.get_all("Cc", []))]
    for address in destinations:
        if address not in recipients:
            recipients.append(address)
    date_header = parsed.get("Date")
    sent_at = parsedate_to_datetime(date_header).strftime("%Y-%m-%dT%H:%M:%SZ") if date_header else None
    return {
        "id": message_id,
        "from": str(parsed.get("From", "")),
        "to": recipients,
        "subject": str(parsed.get("Subject", "")),
        "text": text_part.get_content() if text_part is not None else "",
        "html": html_part.get_content() if html_part is not None else "",
        "sent_at": sent_at,
        "language": str(parsed.get("Content-Language", "")),
        "attachments": attachments,
    }


def sent_messages(to: str | None = None) -> list[dict[str, Any]]:
    """Every email sent, newest first; ``to`` keeps only those addressed to that recipient."""
    found = []
    for message in list(_backend().sent_messages):
        raw = getattr(message, "raw_data", None)
        if raw is None:
            continue
        parsed = parse_raw(message.id, raw, list(getattr(message, "destinations", []) or []))
        if to and to.strip().lower() not in (r.lower() for r in parsed["to"]):
            continue
        found.append(parsed)
    found.reverse()
    return found


def raw_message(message_id: str) -> bytes | None:
    for message in _backend().sent_messages:
        if message.id == message_id and getattr(message, "raw_data", None) is not None:
            raw = message.raw_data
            return raw.encode() if isinstance(raw, str) else bytes(raw)
    return None


def mailbox_page(to: str | None) -> str:
    rows = []
    for message in sent_messages(to):
        attachments = ", ".join(f"{escape(a['filename'] or '')} ({a['size']} B)" for a in message["attachments"])
        rows.append(
            f"<article><h2>{escape(message['subject'])}</h2>"
            f"<p><strong>To:</strong> {escape(', '.join(message['to']))} · <strong>Sent:</strong> {escape(message['sent_at'] or '')}"
            f"{' · <strong>Attachments:</strong> ' + attachments if attachments else ''}</p>"
            f"<details><summary>Text</summary><pre>{escape(message['text'])}</pre></details>"
            f"<details><summary>HTML source</summary><pre>{escape(message['html'])}</pre></details></article>"
        )
    body = "\n".join(rows) or "<p>No email was sent yet.</p>"
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Dev mailbox</title></head>"
        f"<body><main><h1>Dev mailbox</h1><p><a href='/_dev/mail.json'>JSON</a></p>{body}</main></body></html>"
    )


SES_FEEDBACK = {"delivery": "Email Delivered", "bounce": "Email Bounced", "complaint": "Email Complaint Received"}


def ses_feedback_event(
    message_id: str, kind: str, recipients: list[str], bounce_type: str = "Permanent"
) -> tuple[str, dict[str, Any]]:
    """The detail-type and detail SES's EventBridge destination would publish for this message."""
    detail: dict[str, Any] = {
        "eventType": kind.capitalize(),
        "mail": {"messageId": message_id, "destination": recipients},
    }
    if kind == "delivery":
        detail["delivery"] = {"recipients": recipients}
    elif kind == "bounce":
        detail["bounce"] = {"bounceType": bounce_type, "bouncedRecipients": [{"emailAddress": r} for r in recipients]}
    else:
        detail["complaint"] = {"complainedRecipients": [{"emailAddress": r} for r in recipients]}
    return SES_FEEDBACK[kind], detail
