"""Ticket attachments: the presigned POST and its conditions, the confirmation that enforces them (moto checks no
POST-policy condition), linking once, downloads through short-lived presigned GETs, malware-scan results, and the
upload without JavaScript (``success_action_redirect`` with a sealed single-use token)."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
import requests

from balcao.adapters.dynamodb import keys
from balcao.adapters.dynamodb.models import AttachmentItem, TicketMessageItem
from balcao.domain.errors import NotFoundError
from balcao.domain.tickets import MAX_ATTACHMENT_BYTES, AttachmentAlreadyConfirmedError, AttachmentRefusedError
from balcao.runtime.settings import load_settings
from balcao.runtime.tickets_composition import attachments_form_origin, tickets
from balcao.web.portal import content_security_policy
from support.events import header
from support.identity import given_account, given_session, given_staff
from support.pipeline import Pipeline
from support.tickets import (
    ACCOUNT,
    PDF,
    PNG,
    STAFF_TICKET,
    TEXT,
    TICKET,
    TICKETS,
    confirmed,
    person,
    post_form,
    request,
    uploaded,
)

CONFIRM = f"{ACCOUNT}/attachments/{{attachment_id}}/confirm"
DOWNLOAD = f"{TICKET}/attachments/{{attachment_id}}"
NEW_TICKET = {"department": "technical_support", "subject": "Erro no painel", "message": "Segue o print."}


@pytest.fixture
def ana(aws):
    owner = given_session("u-ana", "ana@example.com", language="pt-BR")
    return owner, given_account(owner.user_id, email="ana@example.com")


def s3():
    return boto3.client("s3")


def bucket() -> str:
    return load_settings().attachments_bucket


def tags(key: str) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in s3().get_object_tagging(Bucket=bucket(), Key=key)["TagSet"]}


def stored(account_id: str, attachment_id: str) -> AttachmentItem:
    return AttachmentItem.get(keys.account_pk(account_id), keys.attachment_sk(attachment_id))


def ticket_count(invoke, caller, account_id) -> int:
    _, body = request(invoke, "GET", TICKETS, caller, account_id=account_id)
    return len(body["items"])


def test_the_presigned_post_allows_one_key_one_type_10_mb_for_300_seconds(ana, invoke):
    # Given Ana asks to upload a PNG
    owner, account_id = ana
    response, grant = request(
        invoke,
        "POST",
        f"{ACCOUNT}/attachments",
        owner,
        {"filename": "C:\\prints\\erro.png", "content_type": "image/png", "size": 2048},
        account_id=account_id,
    )
    # Then the form is a SigV4 presigned POST whose policy names the key under her account, the exact type,
    # the size range, the unlinked tag — and expires within 300 seconds
    assert response["statusCode"] == 201, grant
    fields = grant["upload"]["fields"]
    policy = json.loads(base64.b64decode(fields["policy"]))
    conditions = policy["conditions"]
    key = f"attachments/{account_id}/{grant['attachment_id']}"
    assert fields["key"] == key and {"key": key} in conditions
    assert {"Content-Type": "image/png"} in conditions and fields["Content-Type"] == "image/png"
    assert ["content-length-range", 1, MAX_ATTACHMENT_BYTES] in conditions
    assert "<Value>unlinked</Value>" in fields["tagging"] and {"tagging": fields["tagging"]} in conditions
    assert fields["x-amz-algorithm"] == "AWS4-HMAC-SHA256" and "success_action_redirect" not in fields
    expiration = datetime.fromisoformat(policy["expiration"].replace("Z", "+00:00"))
    assert 0 < (expiration - datetime.now(UTC)).total_seconds() <= 300
    # And the attachment waits, unconfirmed, under a clean file name, expiring in 24 hours unless linked
    item = stored(account_id, grant["attachment_id"])
    assert (item.state, item.filename, item.scan_status) == ("pending", "erro.png", "not_scanned")
    assert item.ttl == int(item.created_at.timestamp()) + 24 * 3600


@pytest.mark.parametrize(
    ("body", "field_code"),
    [
        ({"filename": "logo.svg", "content_type": "image/svg+xml", "size": 100}, "invalid_choice"),
        ({"filename": "page.html", "content_type": "text/html", "size": 100}, "invalid_choice"),
        ({"filename": "big.zip", "content_type": "application/zip", "size": MAX_ATTACHMENT_BYTES + 1}, "too_large"),
    ],
)
def test_a_refused_type_or_size_gets_no_upload_form(ana, invoke, body, field_code):
    # Given a request for a refused type (SVG, HTML) or over 10 MB
    owner, account_id = ana
    # When it is sent, then it is refused on its field and no attachment is recorded
    response, answer = request(invoke, "POST", f"{ACCOUNT}/attachments", owner, body, account_id=account_id)
    assert response["statusCode"] == 422 and answer["error"]["fields"][0]["code"] == field_code
    assert list(AttachmentItem.query(keys.account_pk(account_id), AttachmentItem.sk.startswith("ATTACHMENT#"))) == []


def test_a_ticket_opened_with_two_attachments_links_each_once(ana, invoke):
    # Given two confirmed attachments, a PNG and a PDF
    owner, account_id = ana
    png = confirmed(invoke, owner, account_id)
    pdf = confirmed(invoke, owner, account_id, PDF, "application/pdf", "boleto.pdf")
    # When a ticket is opened with both
    response, created = request(
        invoke, "POST", TICKETS, owner, {**NEW_TICKET, "attachment_ids": [png, pdf]}, account_id=account_id
    )
    assert response["statusCode"] == 201, created
    # Then the first message lists them, each is linked (no expiry) and its object re-tagged linked
    _, detail = request(invoke, "GET", TICKET, owner, account_id=account_id, ticket_id=created["ticket_id"])
    assert [(a["filename"], a["content_type"]) for a in detail["messages"][0]["attachments"]] == [
        ("print.png", "image/png"),
        ("boleto.pdf", "application/pdf"),
    ]
    for attachment_id in (png, pdf):
        item = stored(account_id, attachment_id)
        assert (item.state, item.ticket_id, item.ttl) == ("linked", created["ticket_id"], None)
        assert tags(item.object_key) == {"state": "linked"}
    # When the same file is attached again to a reply
    response, refused = request(
        invoke,
        "POST",
        f"{TICKET}/replies",
        owner,
        {"message": "de novo", "attachment_ids": [png]},
        account_id=account_id,
        ticket_id=created["ticket_id"],
    )
    # Then it is refused and no reply was written
    assert response["statusCode"] == 422 and refused["error"]["fields"][0]["field"] == "attachment_ids"
    messages = TicketMessageItem.query(keys.ticket_pk(created["ticket_id"]), TicketMessageItem.sk.startswith("MSG#"))
    assert len(list(messages)) == 1


@pytest.mark.parametrize(
    ("content", "declared", "code"),
    [
        (PDF, "image/png", "type_mismatch"),
        (b"<!doctype html><html><body><script>alert(1)</script>", "text/plain", "type_mismatch"),
        (b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>", "text/plain", "type_mismatch"),
        (PNG + bytes(MAX_ATTACHMENT_BYTES), "image/png", "too_large"),
    ],
    ids=["pdf-as-png", "html-as-text", "svg-as-text", "over-10-mb"],
)
def test_an_upload_that_lies_about_its_type_or_size_is_refused_deleted_and_never_linked(
    ana, invoke, content, declared, code
):
    # Given an upload whose bytes do not match what was declared (moto accepted it despite the policy)
    owner, account_id = ana
    attachment_id = uploaded(invoke, owner, account_id, content, declared, size=min(len(content), 1024))
    # When it is confirmed
    response, refused = request(invoke, "POST", CONFIRM, owner, account_id=account_id, attachment_id=attachment_id)
    # Then it is refused naming the problem, the object is gone and the attachment can never be linked
    assert response["statusCode"] == 422 and refused["error"]["fields"][0]["code"] == code
    item = stored(account_id, attachment_id)
    assert (item.state, item.rejection) == ("rejected", code)
    assert s3().list_objects_v2(Bucket=bucket(), Prefix=item.object_key).get("KeyCount") == 0
    response, _ = request(
        invoke, "POST", TICKETS, owner, {**NEW_TICKET, "attachment_ids": [attachment_id]}, account_id=account_id
    )
    assert response["statusCode"] == 422 and ticket_count(invoke, owner, account_id) == 0


def test_unconfirmed_unuploaded_and_other_accounts_attachments_are_not_linked(ana, invoke):
    # Given an uploaded but unconfirmed file, a requested but never uploaded one, and Bruno's confirmed one
    owner, account_id = ana
    unconfirmed = uploaded(invoke, owner, account_id, TEXT, "text/plain", "log.txt")
    _, never = request(
        invoke,
        "POST",
        f"{ACCOUNT}/attachments",
        owner,
        {"filename": "a.png", "content_type": "image/png", "size": 9},
        account_id=account_id,
    )
    bruno = given_session("u-bruno", "bruno@example.com")
    brunos = given_account(bruno.user_id, name="Bruno", email="bruno@example.com")
    his = confirmed(invoke, bruno, brunos)
    # Then none of them can be attached to Ana's ticket, and nothing is created
    for attachment_id in (unconfirmed, never["attachment_id"], his):
        response, refused = request(
            invoke, "POST", TICKETS, owner, {**NEW_TICKET, "attachment_ids": [attachment_id]}, account_id=account_id
        )
        assert response["statusCode"] == 422 and refused["error"]["fields"][0]["code"] == "not_linkable"
    assert ticket_count(invoke, owner, account_id) == 0
    # And confirming the one never uploaded says so, leaving it pending; Bruno's is not found under Ana's account
    response, missing = request(
        invoke, "POST", CONFIRM, owner, account_id=account_id, attachment_id=never["attachment_id"]
    )
    assert response["statusCode"] == 422 and missing["error"]["fields"][0]["code"] == "not_uploaded"
    assert stored(account_id, never["attachment_id"]).state == "pending"
    response, _ = request(invoke, "POST", CONFIRM, owner, account_id=account_id, attachment_id=his)
    assert response["statusCode"] == 404
    assert stored(brunos, his).state == "confirmed"


def test_a_confirmed_file_older_than_a_day_is_no_longer_linked(ana, invoke, clock):
    # Given a file confirmed a day ago (the bucket deletes unlinked uploads after a day)
    owner, account_id = ana
    attachment_id = confirmed(invoke, owner, account_id)
    clock.advance(hours=24)
    # When it is attached to a new ticket
    response, refused = request(
        invoke, "POST", TICKETS, owner, {**NEW_TICKET, "attachment_ids": [attachment_id]}, account_id=account_id
    )
    # Then it is refused and nothing is created
    assert response["statusCode"] == 422 and refused["error"]["fields"][0]["code"] == "not_linkable"
    assert ticket_count(invoke, owner, account_id) == 0


def test_a_file_is_confirmed_once(ana, invoke):
    # Given a confirmed text file
    owner, account_id = ana
    attachment_id = confirmed(invoke, owner, account_id, TEXT, "text/plain", "log.txt")
    # When it is confirmed again, then that is a conflict
    response, again = request(invoke, "POST", CONFIRM, owner, account_id=account_id, attachment_id=attachment_id)
    assert response["statusCode"] == 409 and again["error"]["code"] == "conflict"


def test_a_download_redirects_to_a_300_second_presigned_get_served_as_an_attachment(ana, invoke, ddb_calls):
    # Given a ticket with an attached PNG
    owner, account_id = ana
    attachment_id = confirmed(invoke, owner, account_id, filename="tela de erro.png")
    _, created = request(
        invoke, "POST", TICKETS, owner, {**NEW_TICKET, "attachment_ids": [attachment_id]}, account_id=account_id
    )
    # When Ana downloads it
    with ddb_calls() as calls:
        response, _ = request(
            invoke,
            "GET",
            DOWNLOAD,
            owner,
            account_id=account_id,
            ticket_id=created["ticket_id"],
            attachment_id=attachment_id,
        )
    # Then, in two DynamoDB calls, she is sent to a presigned GET of at most 300 s, as an attachment of its type
    assert response["statusCode"] == 302 and calls.total <= 2, calls
    location = header(response, "Location")
    query = parse_qs(urlsplit(location).query)
    assert query["X-Amz-Expires"] == ["300"] and query["response-content-type"] == ["image/png"]
    assert query["response-content-disposition"][0].startswith('attachment; filename="tela de erro.png"')
    fetched = requests.get(location, timeout=10)
    assert fetched.content == PNG and fetched.headers["Content-Disposition"].startswith("attachment")
    # And under another ticket id it is not found; staff reach it through the account
    _, other = request(invoke, "POST", TICKETS, owner, NEW_TICKET, account_id=account_id)
    response, _ = request(
        invoke, "GET", DOWNLOAD, owner, account_id=account_id, ticket_id=other["ticket_id"], attachment_id=attachment_id
    )
    assert response["statusCode"] == 404
    support = given_staff("staff_support")
    with ddb_calls() as calls:
        response, _ = request(
            invoke,
            "GET",
            "/api/staff/accounts/{account_id}/attachments/{attachment_id}",
            support,
            account_id=account_id,
            attachment_id=attachment_id,
        )
    assert response["statusCode"] == 302 and calls.total <= 2
    _, staff_view = request(invoke, "GET", STAFF_TICKET, support, ticket_id=created["ticket_id"])
    assert staff_view["messages"][0]["attachments"][0]["attachment_id"] == attachment_id


def scan_result(key: str, result: str) -> None:
    """What GuardDuty Malware Protection for S3 publishes on the default bus."""
    detail = {
        "schemaVersion": "1.0",
        "scanStatus": "COMPLETED",
        "resourceType": "S3_OBJECT",
        "s3ObjectDetails": {"bucketName": bucket(), "objectKey": key, "eTag": "e", "versionId": None},
        "scanResultDetails": {"scanResultStatus": result, "threats": []},
    }
    boto3.client("events").put_events(
        Entries=[
            {
                "Source": "aws.guardduty",
                "DetailType": "GuardDuty Malware Protection Object Scan Result",
                "Detail": json.dumps(detail),
                "EventBusName": "default",
            }
        ]
    )


def test_a_file_found_infected_can_no_longer_be_downloaded(ana, aws, invoke):
    # Given two linked attachments
    owner, account_id = ana
    infected, clean = confirmed(invoke, owner, account_id), confirmed(invoke, owner, account_id)
    _, created = request(
        invoke, "POST", TICKETS, owner, {**NEW_TICKET, "attachment_ids": [infected, clean]}, account_id=account_id
    )
    # When the malware scan reports one infected and the other clean
    scan_result(f"attachments/{account_id}/{infected}", "THREATS_FOUND")
    scan_result(f"attachments/{account_id}/{clean}", "NO_THREATS_FOUND")
    Pipeline(aws, invoke).run()
    # Then the infected one is refused to the customer and to staff, the clean one still downloads
    assert (stored(account_id, infected).scan_status, stored(account_id, clean).scan_status) == ("infected", "clean")
    response, blocked = request(
        invoke, "GET", DOWNLOAD, owner, account_id=account_id, ticket_id=created["ticket_id"], attachment_id=infected
    )
    assert response["statusCode"] == 409 and "malware" in blocked["error"]["message"]
    response, _ = request(
        invoke,
        "GET",
        "/api/staff/accounts/{account_id}/attachments/{attachment_id}",
        given_staff("staff_support"),
        account_id=account_id,
        attachment_id=infected,
    )
    assert response["statusCode"] == 409
    response, _ = request(
        invoke, "GET", DOWNLOAD, owner, account_id=account_id, ticket_id=created["ticket_id"], attachment_id=clean
    )
    assert response["statusCode"] == 302


def test_the_portal_uploads_without_javascript_through_a_single_use_redirect_token(ana):
    # Given the portal renders a plain HTML form that comes back to one of its pages
    owner, account_id = ana
    service = tickets()
    grant = service.request_browser_upload(
        account_id, person(owner), "http://127.0.0.1:8000/tickets/attachments/uploaded?draft=new"
    )
    fields = grant.form.fields
    policy = json.loads(base64.b64decode(fields["policy"]))["conditions"]
    prefix = f"attachments/{account_id}/{grant.attachment.attachment_id}/"
    assert fields["key"] == prefix + "${filename}" and ["starts-with", "$key", prefix] in policy
    assert {"success_action_redirect": fields["success_action_redirect"]} in policy
    assert ["content-length-range", 1, MAX_ATTACHMENT_BYTES] in policy and "Content-Type" not in fields
    # When the browser posts a PDF under its own name, without declaring a type
    posted = post_form({"url": grant.form.url, "fields": fields}, PDF, "relatório de erro.pdf")
    # Then the storage sends it back to the portal with the token
    assert posted.status_code == 303
    landing = parse_qs(urlsplit(posted.headers["Location"]).query)
    assert landing["draft"] == ["new"] and landing["key"] == [f"{prefix}relatório de erro.pdf"]
    # And the token names the account and the attachment; confirming reads the name and the type from the file
    token = landing["token"][0]
    assert service.redeem_upload_token(token) == (account_id, grant.attachment.attachment_id)
    attachment = service.confirm_upload(account_id, grant.attachment.attachment_id)
    assert (attachment.filename, attachment.content_type, attachment.size) == (
        "relatório de erro.pdf",
        "application/pdf",
        len(PDF),
    )
    # And it works once; an altered token is not found
    with pytest.raises(AttachmentAlreadyConfirmedError):
        service.confirm_upload(*service.redeem_upload_token(token))
    with pytest.raises(NotFoundError):
        service.redeem_upload_token(token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB"))


def test_a_browser_form_upload_of_markup_is_refused_and_deleted(ana):
    # Given an HTML page sent through the portal's plain form
    owner, account_id = ana
    service = tickets()
    grant = service.request_browser_upload(account_id, person(owner), "http://127.0.0.1:8000/tickets/uploaded")
    post_form({"url": grant.form.url, "fields": grant.form.fields}, b"<!doctype html><script>x</script>", "a.html")
    # When it is confirmed
    with pytest.raises(AttachmentRefusedError) as refused:
        service.confirm_upload(account_id, grant.attachment.attachment_id)
    # Then its type is refused and the object is gone
    assert refused.value.fields[0].code == "type_not_allowed"
    prefix = f"attachments/{account_id}/{grant.attachment.attachment_id}/"
    assert s3().list_objects_v2(Bucket=bucket(), Prefix=prefix).get("KeyCount") == 0
    assert stored(account_id, grant.attachment.attachment_id).state == "rejected"


def test_the_portal_csp_can_let_forms_post_to_the_attachments_bucket(ana):
    # Given the origin the upload forms post to
    origin = attachments_form_origin()
    # Then it is the bucket's origin, and the portal's policy built with it allows 'self' and that origin only
    grant = tickets().request_upload(ana[1], person(ana[0]), "a.png", "image/png", 80)
    assert grant.form.url.startswith(origin) and origin.count("/") == 2 and bucket() in origin
    assert f"form-action 'self' {origin};" in content_security_policy((origin,))
