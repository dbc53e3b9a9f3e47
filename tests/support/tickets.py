"""Given-steps for tickets: files uploaded through the presigned POST (as a browser would), confirmed attachments,
tickets opened through the use-cases, and the calls of the tickets function."""

from __future__ import annotations

from typing import Any

import boto3
import requests

from balcao.domain.tickets import Person
from balcao.runtime.settings import load_settings
from balcao.runtime.tickets_composition import tickets
from support.events import api_event, json_body
from support.identity import Caller

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(64)
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"
TEXT = "Erro 500 ao abrir /wp-admin às 14h\n".encode()

ACCOUNT = "/api/accounts/{account_id}"
TICKETS = f"{ACCOUNT}/tickets"
TICKET = f"{TICKETS}/{{ticket_id}}"
STAFF_TICKET = "/api/staff/tickets/{ticket_id}"


def person(caller: Caller, name: str = "Ana Souza", language: str = "pt-BR") -> Person:
    return Person(caller.user_id, name, caller.email, language)


def post_form(form: dict[str, Any], content: bytes, filename: str = "file") -> requests.Response:
    """What a browser does with the presigned POST: the fields, then the file (moto intercepts ``requests``)."""
    return requests.post(
        form["url"], data=form["fields"], files={"file": (filename, content)}, allow_redirects=False, timeout=10
    )


def request(invoke, method: str, template: str, caller: Caller, body: Any = None, query=None, **values: str):
    concrete = template.format(**values)
    event = api_event(method, concrete, resource=template, body=body, claims=caller.claims, query=query)
    response = invoke("tickets", event)
    return response, json_body(response)


def uploaded(
    invoke,
    caller: Caller,
    account_id: str,
    content: bytes = PNG,
    content_type: str = "image/png",
    filename: str = "print.png",
    *,
    size: int | None = None,
) -> str:
    """An attachment requested through the API and uploaded (not confirmed): its id."""
    response, body = request(
        invoke,
        "POST",
        f"{ACCOUNT}/attachments",
        caller,
        {"filename": filename, "content_type": content_type, "size": size or len(content)},
        account_id=account_id,
    )
    assert response["statusCode"] == 201, body
    assert post_form(body["upload"], content, filename).status_code == 204
    return str(body["attachment_id"])


def confirmed(
    invoke,
    caller: Caller,
    account_id: str,
    content: bytes = PNG,
    content_type: str = "image/png",
    filename: str = "print.png",
) -> str:
    attachment_id = uploaded(invoke, caller, account_id, content, content_type, filename)
    response, body = request(
        invoke,
        "POST",
        f"{ACCOUNT}/attachments/{{attachment_id}}/confirm",
        caller,
        account_id=account_id,
        attachment_id=attachment_id,
    )
    assert response["statusCode"] == 200, body
    return attachment_id


def given_ticket_with_attachment(account_id: str, owner: Caller) -> dict[str, str]:
    """A ticket opened through the use-case, with one linked attachment (for the BOLA matrix's world)."""
    service = tickets()
    grant = service.request_upload(account_id, person(owner), "print.png", "image/png", len(PNG))
    boto3.client("s3").put_object(
        Bucket=load_settings().attachments_bucket, Key=grant.attachment.object_key, Body=PNG, ContentType="image/png"
    )
    service.confirm_upload(account_id, grant.attachment.attachment_id)
    ticket = service.open_ticket(
        account_id,
        person(owner),
        department="technical_support",
        subject="Site fora do ar",
        message="O site não abre desde ontem.",
        attachment_ids=[grant.attachment.attachment_id],
    )
    return {"ticket_id": ticket.ticket_id, "attachment_id": grant.attachment.attachment_id}
