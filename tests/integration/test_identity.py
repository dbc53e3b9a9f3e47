"""Identity through its handlers on moto: validation, rate limits, sessions, passwords, 2FA, email change,
profile and contacts rules, users and invitations, privacy jobs, and the read budget of every read route."""

from __future__ import annotations

import base64
import json
import re
import time
from datetime import timedelta

import pytest

from balcao.adapters.cognito import RECORDED_REVOCATIONS
from balcao.adapters.dynamodb import keys
from balcao.adapters.dynamodb.identity import DynamoIdentityStore
from balcao.adapters.dynamodb.models import (
    AccountItem,
    AuditItem,
    EmailLogItem,
    ExportItem,
    LookupItem,
    SummaryItem,
    UserItem,
)
from balcao.domain.totp import totp_code
from devstack import mail
from support.events import api_event, json_body
from support.pipeline import Pipeline

PASSWORD = "Sup3r-Secret-pass!"


def post(invoke, folder: str, path: str, body: dict | None = None, claims=None, resource: str | None = None, **kwargs):
    return invoke(folder, api_event("POST", path, resource=resource, body=body, claims=claims, **kwargs))


def code_for(email: str) -> str:
    [newest, *_] = mail.sent_messages(to=email)
    [code] = re.findall(r"(?<!\d)\d{6}(?!\d)", newest["text"])
    return code


@pytest.fixture
def pipeline(aws, invoke):
    return Pipeline(aws, invoke)


def signed_up(invoke, pipeline, email: str, name: str = "Carla Dias", language: str = "pt-BR") -> dict:
    created = post(
        invoke,
        "auth",
        "/api/auth/signup",
        {"email": email, "password": PASSWORD, "name": name, "language": language, "accept_terms": True},
    )
    assert created["statusCode"] == 201, created["body"]
    pipeline.run()
    confirmed = post(invoke, "auth", "/api/auth/signup/confirm", {"email": email, "code": code_for(email)})
    assert confirmed["statusCode"] == 200, confirmed["body"]
    pipeline.run()
    return json_body(created)


def login(invoke, email: str, password: str = PASSWORD) -> dict:
    response = post(invoke, "auth", "/api/auth/login", {"email": email, "password": password})
    assert response["statusCode"] == 200, response["body"]
    return json_body(response)


def claims_of(tokens: dict) -> dict:
    from balcao.adapters.cognito import unverified_claims

    claims = unverified_claims(tokens["id_token"])
    return {k: (",".join(v) if isinstance(v, list) else str(v)) for k, v in claims.items()}


# --- sign-up -------------------------------------------------------------------------------------------------------
def test_signup_refuses_a_weak_password_and_missing_consent_with_every_field_and_writes_nothing(aws, invoke):
    response = post(
        invoke,
        "auth",
        "/api/auth/signup",
        {"email": "weak@example.com", "password": "short", "name": "", "language": "es", "accept_terms": False},
    )
    assert response["statusCode"] == 422
    fields = {f["field"] for f in json_body(response)["error"]["fields"]}
    assert {"password", "accept_terms"} <= fields
    assert LookupItem.count(keys.login_lookup_pk("weak@example.com")) == 0
    assert mail.sent_messages() == []


def test_signup_creates_an_unconfirmed_login_that_cannot_sign_in_until_confirmed(aws, invoke, pipeline):
    created = post(
        invoke,
        "auth",
        "/api/auth/signup",
        {"email": "dora@example.com", "password": PASSWORD, "name": "Dora", "language": "en", "accept_terms": True},
    )
    assert created["statusCode"] == 201
    user = UserItem.get(keys.user_pk(json_body(created)["user_id"]), keys.PROFILE)
    assert user.status == "unconfirmed" and user.terms_version and user.terms_accepted_at
    refused = post(invoke, "auth", "/api/auth/login", {"email": "dora@example.com", "password": PASSWORD})
    assert refused["statusCode"] == 401 and json_body(refused)["error"]["code"] == "invalid_credentials"
    pipeline.run()
    wrong = post(invoke, "auth", "/api/auth/signup/confirm", {"email": "dora@example.com", "code": "000000"})
    assert wrong["statusCode"] == 422 and json_body(wrong)["error"]["fields"][0]["field"] == "code"
    assert (
        post(
            invoke,
            "auth",
            "/api/auth/signup/confirm",
            {"email": "dora@example.com", "code": code_for("dora@example.com")},
        )["statusCode"]
        == 200
    )
    assert login(invoke, "dora@example.com")["id_token"]


def test_a_code_dies_after_five_wrong_attempts(aws, invoke, pipeline):
    post(
        invoke,
        "auth",
        "/api/auth/signup",
        {"email": "eva@example.com", "password": PASSWORD, "name": "Eva", "language": "en", "accept_terms": True},
    )
    pipeline.run()
    right = code_for("eva@example.com")
    for _ in range(5):
        post(
            invoke,
            "auth",
            "/api/auth/signup/confirm",
            {"email": "eva@example.com", "code": "111111" if right != "111111" else "222222"},
        )
    assert (
        post(invoke, "auth", "/api/auth/signup/confirm", {"email": "eva@example.com", "code": right})["statusCode"]
        == 422
    )


def test_a_code_expires_after_15_minutes(aws, invoke, pipeline, clock):
    post(
        invoke,
        "auth",
        "/api/auth/signup",
        {"email": "fabio@example.com", "password": PASSWORD, "name": "Fábio", "language": "en", "accept_terms": True},
    )
    pipeline.run()
    clock.advance(minutes=16)
    assert (
        post(
            invoke,
            "auth",
            "/api/auth/signup/confirm",
            {"email": "fabio@example.com", "code": code_for("fabio@example.com")},
        )["statusCode"]
        == 422
    )


def test_login_is_rate_limited_per_email_at_the_default_limits(aws, invoke):
    for attempt in range(10):
        response = post(
            invoke, "auth", "/api/auth/login", {"email": "target@example.com", "password": f"Wrong-pass-{attempt}!"}
        )
        assert response["statusCode"] == 401
    limited = post(invoke, "auth", "/api/auth/login", {"email": "target@example.com", "password": "Wrong-pass-x!"})
    assert limited["statusCode"] == 429 and json_body(limited)["error"]["code"] == "rate_limited"
    assert int(limited["multiValueHeaders"]["Retry-After"][0]) >= 1


def test_the_limits_come_from_the_company_settings(aws, invoke):
    from balcao.adapters.dynamodb.settings import DynamoSettingsStore
    from balcao.services.company_settings_document import update_company_settings

    update_company_settings(
        DynamoSettingsStore(), {"rate_limits": {"login": {"per_email": {"capacity": 2, "window_seconds": 3600}}}}
    )
    statuses = [
        post(invoke, "auth", "/api/auth/login", {"email": "t2@example.com", "password": "Wrong-pass-1!"})["statusCode"]
        for _ in range(3)
    ]
    assert statuses == [401, 401, 429]


# --- sessions, passwords, 2FA --------------------------------------------------------------------------------------
def test_refresh_logout_and_the_session_list(aws, invoke, pipeline):
    signed_up(invoke, pipeline, "gil@example.com")
    first, second = login(invoke, "gil@example.com"), login(invoke, "gil@example.com")
    refreshed = post(invoke, "auth", "/api/auth/refresh", {"refresh_token": first["refresh_token"]})
    assert refreshed["statusCode"] == 200 and json_body(refreshed)["id_token"]
    sessions = json_body(invoke("auth", api_event("GET", "/api/me/sessions", claims=claims_of(first))))["items"]
    assert len(sessions) == 2 and sum(s["current"] for s in sessions) == 1
    other = next(s for s in sessions if not s["current"])
    revoked = invoke(
        "auth",
        api_event(
            "DELETE",
            f"/api/me/sessions/{other['session_id']}",
            resource="/api/me/sessions/{session_id}",
            claims=claims_of(first),
        ),
    )
    assert revoked["statusCode"] == 204
    assert invoke("auth", api_event("GET", "/api/me", claims=claims_of(second)))["statusCode"] == 401
    assert post(invoke, "auth", "/api/auth/logout", {"refresh_token": first["refresh_token"]})["statusCode"] == 204
    assert keys.digest(first["refresh_token"]) in RECORDED_REVOCATIONS
    assert invoke("auth", api_event("GET", "/api/me", claims=claims_of(first)))["statusCode"] == 401


def test_password_reset_revokes_every_session_and_sends_a_notice(aws, invoke, pipeline):
    signed_up(invoke, pipeline, "hana@example.com")
    tokens = login(invoke, "hana@example.com")
    assert (
        invoke("auth", api_event("POST", "/api/auth/password/forgot", body={"email": "nobody@example.com"}))[
            "statusCode"
        ]
        == 202
    )
    assert (
        invoke("auth", api_event("POST", "/api/auth/password/forgot", body={"email": "hana@example.com"}))["statusCode"]
        == 202
    )
    pipeline.run()
    new_password = "Another-pass-2026!"
    reset = post(
        invoke,
        "auth",
        "/api/auth/password/reset",
        {"email": "hana@example.com", "code": code_for("hana@example.com"), "password": new_password},
    )
    assert reset["statusCode"] == 200, reset["body"]
    assert invoke("auth", api_event("GET", "/api/me", claims=claims_of(tokens)))["statusCode"] == 401
    assert login(invoke, "hana@example.com", new_password)["id_token"]
    pipeline.run()
    assert any("Aviso de segurança" in m["subject"] for m in mail.sent_messages(to="hana@example.com"))
    assert mail.sent_messages(to="nobody@example.com") == []


def test_changing_the_password_keeps_this_session_and_ends_the_others(aws, invoke, pipeline):
    signed_up(invoke, pipeline, "ines@example.com")
    here, elsewhere = login(invoke, "ines@example.com"), login(invoke, "ines@example.com")
    wrong = invoke(
        "auth",
        api_event(
            "PUT",
            "/api/me/password",
            claims=claims_of(here),
            body={"current_password": "Nope-nope-123!", "new_password": "Brand-new-pass-1!"},
        ),
    )
    assert wrong["statusCode"] == 422 and json_body(wrong)["error"]["fields"][0]["field"] == "current_password"
    changed = invoke(
        "auth",
        api_event(
            "PUT",
            "/api/me/password",
            claims=claims_of(here),
            body={"current_password": PASSWORD, "new_password": "Brand-new-pass-1!"},
        ),
    )
    assert changed["statusCode"] == 204
    assert invoke("auth", api_event("GET", "/api/me", claims=claims_of(here)))["statusCode"] == 200
    assert invoke("auth", api_event("GET", "/api/me", claims=claims_of(elsewhere)))["statusCode"] == 401


def test_totp_enrolment_login_replay_and_a_recovery_code(aws, invoke, pipeline):
    signed_up(invoke, pipeline, "joao@example.com")
    claims = claims_of(login(invoke, "joao@example.com"))
    setup = json_body(invoke("auth", api_event("POST", "/api/me/mfa/totp", claims=claims)))
    now = int(time.time())
    codes = json_body(
        invoke(
            "auth",
            api_event("POST", "/api/me/mfa/totp/verify", claims=claims, body={"code": totp_code(setup["secret"], now)}),
        )
    )["recovery_codes"]
    challenge = json_body(post(invoke, "auth", "/api/auth/login", {"email": "joao@example.com", "password": PASSWORD}))
    assert challenge["challenge"] == "totp"
    # the step used at enrolment cannot be replayed
    replay = post(
        invoke, "auth", "/api/auth/mfa", {"session": challenge["session"], "code": totp_code(setup["secret"], now)}
    )
    assert replay["statusCode"] == 401
    # a recovery code signs in once and turns 2FA off
    challenge = json_body(post(invoke, "auth", "/api/auth/login", {"email": "joao@example.com", "password": PASSWORD}))
    recovered = post(invoke, "auth", "/api/auth/mfa", {"session": challenge["session"], "code": codes[0]})
    assert recovered["statusCode"] == 200
    assert (
        json_body(invoke("auth", api_event("GET", "/api/me", claims=claims_of(json_body(recovered)))))["mfa_enabled"]
        is False
    )
    assert "id_token" in login(invoke, "joao@example.com")


def test_the_login_email_change_updates_the_contract_email_too_when_asked(aws, invoke, pipeline):
    ids = signed_up(invoke, pipeline, "kai@example.com")
    claims = claims_of(login(invoke, "kai@example.com"))
    asked = invoke(
        "auth",
        api_event(
            "POST", "/api/me/email", claims=claims, body={"email": "kai.new@example.com", "also_contract_email": True}
        ),
    )
    assert asked["statusCode"] == 202
    pipeline.run()
    verified = invoke(
        "auth", api_event("POST", "/api/me/email/verify", claims=claims, body={"code": code_for("kai.new@example.com")})
    )
    assert verified["statusCode"] == 200, verified["body"]
    assert login(invoke, "kai.new@example.com")["id_token"]
    assert LookupItem.count(keys.login_lookup_pk("kai@example.com")) == 0
    assert AccountItem.get(keys.account_pk(ids["account_id"]), keys.PROFILE).notice_email == "kai.new@example.com"


# --- profile and contacts ------------------------------------------------------------------------------------------
def test_profile_validation_names_each_field_and_only_staff_change_the_currency(aws, invoke, pipeline):
    ids = signed_up(invoke, pipeline, "lia@example.com")
    claims = claims_of(login(invoke, "lia@example.com"))
    path, resource = f"/api/accounts/{ids['account_id']}", "/api/accounts/{account_id}"
    bad = invoke(
        "accounts",
        api_event(
            "PATCH",
            path,
            resource=resource,
            claims=claims,
            body={
                "tax_id": "123.456.789-00",
                "address": {
                    "line1": "Rua A",
                    "city": "São Paulo",
                    "state": "SP",
                    "postal_code": "1234",
                    "country": "BR",
                },
                "phone": "12",
                "currency": "EUR",
            },
        ),
    )
    assert bad["statusCode"] == 422
    assert {f["field"] for f in json_body(bad)["error"]["fields"]} == {
        "tax_id",
        "address.postal_code",
        "phone",
        "currency",
    }
    good = invoke(
        "accounts",
        api_event(
            "PATCH",
            path,
            resource=resource,
            claims=claims,
            body={
                "tax_id": "529.982.247-25",
                "phone": "(11) 98765-4321",
                "address": {
                    "line1": "Rua A",
                    "number": "10",
                    "city": "São Paulo",
                    "state": "SP",
                    "postal_code": "01310100",
                    "country": "BR",
                },
            },
        ),
    )
    assert good["statusCode"] == 200, good["body"]
    body = json_body(good)
    assert (
        body["tax_id"]["formatted"] == "529.982.247-25"
        and body["phone"] == "+5511987654321"
        and body["address"]["postal_code"] == "01310-100"
    )


def test_contact_warnings_for_hosted_domains_and_microsoft_mail(aws, invoke, pipeline):
    ids = signed_up(invoke, pipeline, "mia@minhaloja.com.br")
    account = AccountItem.get(keys.account_pk(ids["account_id"]), keys.PROFILE)
    account.update(actions=[AccountItem.hosted_domains.set(["minhaloja.com.br"])])
    claims = claims_of(login(invoke, "mia@minhaloja.com.br"))
    path, resource = f"/api/accounts/{ids['account_id']}/contacts", "/api/accounts/{account_id}/contacts"
    listed = json_body(invoke("accounts", api_event("GET", path, resource=resource, claims=claims)))
    assert [w["code"] for w in listed["warnings"]] == ["all_on_hosted_domain"]
    added = json_body(
        invoke(
            "accounts",
            api_event(
                "POST",
                path,
                resource=resource,
                claims=claims,
                body={"name": "Financeiro", "email": "fin@hotmail.com", "departments": ["billing"]},
            ),
        )
    )
    assert [w["code"] for w in added["warnings"]] == ["filtering_mail_domain"]


# --- users and invitations ------------------------------------------------------------------------------------------
def test_the_owner_cannot_leave_a_member_can_and_ownership_moves(aws, invoke, pipeline):
    owner_ids = signed_up(invoke, pipeline, "nina@example.com")
    member_ids = signed_up(invoke, pipeline, "otto@example.com")
    account_id = owner_ids["account_id"]
    owner = claims_of(login(invoke, "nina@example.com"))
    member = claims_of(login(invoke, "otto@example.com"))
    invitation = invoke(
        "accounts",
        api_event(
            "POST",
            f"/api/accounts/{account_id}/invitations",
            resource="/api/accounts/{account_id}/invitations",
            claims=owner,
            body={"email": "otto@example.com", "permissions": ["invoices"]},
        ),
    )
    assert invitation["statusCode"] == 201
    pipeline.run()
    token = re.search(r"/invitations/([\w-]+)", mail.sent_messages(to="otto@example.com")[0]["text"]).group(1)
    intruder = claims_of(login(invoke, "nina@example.com"))  # the owner's email is not the invited one
    assert (
        invoke(
            "accounts",
            api_event(
                "POST", f"/api/invitations/{token}/accept", resource="/api/invitations/{token}/accept", claims=intruder
            ),
        )["statusCode"]
        == 404
    )
    assert (
        invoke(
            "accounts",
            api_event(
                "POST", f"/api/invitations/{token}/accept", resource="/api/invitations/{token}/accept", claims=member
            ),
        )["statusCode"]
        == 200
    )
    users = "/api/accounts/{account_id}/users/{user_id}"
    leave_owner = invoke(
        "accounts",
        api_event("DELETE", f"/api/accounts/{account_id}/users/{owner_ids['user_id']}", resource=users, claims=owner),
    )
    assert leave_owner["statusCode"] == 409
    transferred = invoke(
        "accounts",
        api_event(
            "POST",
            f"/api/accounts/{account_id}/owner",
            resource="/api/accounts/{account_id}/owner",
            claims=owner,
            body={"user_id": member_ids["user_id"]},
        ),
    )
    assert transferred["statusCode"] == 200 and json_body(transferred)["owner_user_id"] == member_ids["user_id"]
    # the former owner is now a member with every permission, and may leave
    assert (
        invoke(
            "accounts",
            api_event(
                "DELETE", f"/api/accounts/{account_id}/users/{owner_ids['user_id']}", resource=users, claims=owner
            ),
        )["statusCode"]
        == 204
    )


def test_an_expired_invitation_cannot_be_accepted(aws, invoke, pipeline, clock):
    ids = signed_up(invoke, pipeline, "pia@example.com")
    signed_up(invoke, pipeline, "quim@example.com")
    owner = claims_of(login(invoke, "pia@example.com"))
    invoke(
        "accounts",
        api_event(
            "POST",
            f"/api/accounts/{ids['account_id']}/invitations",
            resource="/api/accounts/{account_id}/invitations",
            claims=owner,
            body={"email": "quim@example.com", "permissions": ["tickets"]},
        ),
    )
    pipeline.run()
    token = re.search(r"/invitations/([\w-]+)", mail.sent_messages(to="quim@example.com")[0]["text"]).group(1)
    clock.advance(days=8)
    guest = claims_of(login(invoke, "quim@example.com"))
    assert (
        invoke(
            "accounts",
            api_event(
                "POST", f"/api/invitations/{token}/accept", resource="/api/invitations/{token}/accept", claims=guest
            ),
        )["statusCode"]
        == 404
    )
    listed = json_body(
        invoke(
            "accounts",
            api_event(
                "GET",
                f"/api/accounts/{ids['account_id']}/invitations",
                resource="/api/accounts/{account_id}/invitations",
                claims=owner,
            ),
        )
    )
    assert listed["items"][0]["status"] == "expired"


# --- the read budget --------------------------------------------------------------------------------------------
def test_read_routes_cost_at_most_two_dynamodb_calls(aws, invoke, pipeline, ddb_calls):
    ids = signed_up(invoke, pipeline, "rui@example.com")
    claims = claims_of(login(invoke, "rui@example.com"))
    account = ids["account_id"]
    reads = [
        ("auth", "/api/me", "/api/me"),
        ("auth", "/api/me/sessions", "/api/me/sessions"),
        ("accounts", f"/api/accounts/{account}", "/api/accounts/{account_id}"),
        ("accounts", f"/api/accounts/{account}/contacts", "/api/accounts/{account_id}/contacts"),
        ("accounts", f"/api/accounts/{account}/users", "/api/accounts/{account_id}/users"),
        ("accounts", f"/api/accounts/{account}/invitations", "/api/accounts/{account_id}/invitations"),
        ("accounts", f"/api/accounts/{account}/audit", "/api/accounts/{account_id}/audit"),
        ("accounts", f"/api/accounts/{account}/emails", "/api/accounts/{account_id}/emails"),
    ]
    invoke("accounts", api_event("GET", reads[2][1], resource=reads[2][2], claims=claims))  # warm the settings cache
    for folder, path, resource in reads:
        with ddb_calls() as calls:
            response = invoke(folder, api_event("GET", path, resource=resource, claims=claims))
        assert response["statusCode"] == 200, (path, response["body"])
        assert calls.total <= 2 and calls.scans == 0, (path, calls)


# --- privacy jobs ---------------------------------------------------------------------------------------------------
def test_an_export_writes_every_item_as_json_and_emails_a_short_lived_link(aws, invoke, pipeline):
    ids = signed_up(invoke, pipeline, "sara@example.com")
    claims = claims_of(login(invoke, "sara@example.com"))
    ticket = invoke(
        "tickets",
        api_event(
            "POST",
            f"/api/accounts/{ids['account_id']}/tickets",
            resource="/api/accounts/{account_id}/tickets",
            claims=claims,
            body={"department": "billing", "subject": "Nota fiscal", "message": "Preciso da nota."},
        ),
    )
    assert ticket["statusCode"] == 201, ticket["body"]
    requested = invoke(
        "accounts",
        api_event(
            "POST",
            f"/api/accounts/{ids['account_id']}/exports",
            resource="/api/accounts/{account_id}/exports",
            claims=claims,
        ),
    )
    assert requested["statusCode"] == 202
    result = invoke("identity_jobs", {"job": "exports"})
    assert result == {"job": "exports", "counts": {"exported": 1}}
    pipeline.run()
    [ready] = [
        m
        for m in mail.sent_messages(to="sara@example.com")
        if "export" in m["subject"].lower() or "exportação" in m["subject"]
    ]
    link = re.search(r"https?://\S+", ready["text"].split("\n\n")[1]).group(0)
    assert "X-Amz-Expires=21600" in link
    import json

    import requests

    exported = json.loads(requests.get(link, timeout=10).content)
    entities = {item["entity"] for item in exported["items"]}
    assert {"Account", "Member", "Audit", "Export", "Ticket", "TicketMessage"} <= entities, entities
    assert invoke("identity_jobs", {"job": "exports"})["counts"] == {"exported": 0}
    assert (
        ExportItem.get(keys.account_pk(ids["account_id"]), keys.export_sk(requested["body"].split('"')[3])).status
        == "done"
    )


def test_unconfirmed_signups_are_removed_after_the_configured_days(aws, invoke, pipeline, clock):
    created = json_body(
        post(
            invoke,
            "auth",
            "/api/auth/signup",
            {"email": "tina@example.com", "password": PASSWORD, "name": "Tina", "language": "en", "accept_terms": True},
        )
    )
    signed_up(invoke, pipeline, "ugo@example.com")
    assert invoke("identity_jobs", {"job": "unconfirmed_signups"})["counts"] == {"removed": 0}
    clock.advance(days=8)
    assert invoke("identity_jobs", {"job": "unconfirmed_signups"})["counts"] == {"removed": 1}
    assert UserItem.count(keys.user_pk(created["user_id"])) == 0
    assert AccountItem.count(keys.account_pk(created["account_id"])) == 0
    assert SummaryItem.count(keys.account_pk(created["account_id"]), SummaryItem.sk == keys.SUMMARY) == 0
    assert LookupItem.count(keys.login_lookup_pk("tina@example.com")) == 0
    assert "id_token" in login(invoke, "ugo@example.com")


def test_retention_deletes_old_log_entries_and_anonymises_closed_accounts_after_fiscal_retention(
    aws, invoke, pipeline, clock
):
    ids = signed_up(invoke, pipeline, "vera@example.com")
    claims = claims_of(login(invoke, "vera@example.com"))
    account_path = f"/api/accounts/{ids['account_id']}"
    invoke(
        "accounts",
        api_event(
            "PATCH", account_path, resource="/api/accounts/{account_id}", claims=claims, body={"company": "Vera ME"}
        ),
    )
    closure = invoke(
        "accounts",
        api_event("POST", f"{account_path}/closure", resource="/api/accounts/{account_id}/closure", claims=claims),
    )
    assert closure["statusCode"] == 202 and json_body(closure)["status"] == "closure_requested"
    assert EmailLogItem.count(keys.account_pk(ids["account_id"]), EmailLogItem.sk.startswith(keys.EMAIL_PREFIX)) == 1
    clock.advance(days=731)
    counts = invoke("identity_jobs", {"job": "retention"})["counts"]
    assert counts["emails_deleted"] == 1 and counts["accounts_anonymised"] == 0
    clock.advance(days=5 * 366 - 731 + 1)
    counts = invoke("identity_jobs", {"job": "retention"})["counts"]
    assert counts["accounts_anonymised"] == 1 and counts["audit_deleted"] >= 1
    account = AccountItem.get(keys.account_pk(ids["account_id"]), keys.PROFILE)
    assert account.status == "closed" and account.name == "anonymised" and account.company is None
    summary = SummaryItem.get(keys.account_pk(ids["account_id"]), keys.SUMMARY)
    assert (summary.users, summary.contacts) == (0, 0)  # every user and contact was removed
    assert AuditItem.count(keys.account_pk(ids["account_id"]), AuditItem.sk.startswith(keys.AUDIT_PREFIX)) == 0
    assert timedelta(days=1)  # the fiscal clock is the application clock (moved above), never the wall clock


def test_a_forged_or_foreign_cursor_is_refused_with_a_422(aws, invoke, pipeline):
    import base64
    import json

    mine = signed_up(invoke, pipeline, "wil@example.com")
    other = signed_up(invoke, pipeline, "xena@example.com")
    claims = claims_of(login(invoke, "wil@example.com"))
    foreign = {"pk": {"S": keys.account_pk(other["account_id"])}, "sk": {"S": "EMAIL#0"}}
    for cursor in (
        "not-base64!",
        base64.urlsafe_b64encode(b'{"pk": 1}').decode(),
        base64.urlsafe_b64encode(json.dumps(foreign).encode()).decode(),
    ):
        response = invoke(
            "accounts",
            api_event(
                "GET",
                f"/api/accounts/{mine['account_id']}/emails",
                resource="/api/accounts/{account_id}/emails",
                claims=claims,
                query={"cursor": cursor},
            ),
        )
        assert response["statusCode"] == 422, cursor
        assert json_body(response)["error"]["fields"][0]["field"] == "cursor"


def test_after_an_email_change_the_sessions_carry_the_new_address(aws, invoke, pipeline):
    signed_up(invoke, pipeline, "yuri@example.com")
    tokens = login(invoke, "yuri@example.com")
    claims = claims_of(tokens)
    invoke("auth", api_event("POST", "/api/me/email", claims=claims, body={"email": "yuri.two@example.com"}))
    pipeline.run()
    invoke(
        "auth",
        api_event("POST", "/api/me/email/verify", claims=claims, body={"code": code_for("yuri.two@example.com")}),
    )
    session = DynamoIdentityStore().session(claims["origin_jti"])
    assert session is not None and session.email == "yuri.two@example.com"


def test_an_invitation_token_never_reaches_the_audit_log(aws, invoke, pipeline):
    ids = signed_up(invoke, pipeline, "zoe@example.com")
    signed_up(invoke, pipeline, "abel@example.com")
    owner = claims_of(login(invoke, "zoe@example.com"))
    invoke(
        "accounts",
        api_event(
            "POST",
            f"/api/accounts/{ids['account_id']}/invitations",
            resource="/api/accounts/{account_id}/invitations",
            claims=owner,
            body={"email": "abel@example.com", "permissions": ["tickets"]},
        ),
    )
    pipeline.run()
    token = re.search(r"/invitations/([\w-]+)", mail.sent_messages(to="abel@example.com")[0]["text"]).group(1)
    guest = claims_of(login(invoke, "abel@example.com"))
    assert (
        invoke(
            "accounts",
            api_event(
                "POST", f"/api/invitations/{token}/accept", resource="/api/invitations/{token}/accept", claims=guest
            ),
        )["statusCode"]
        == 200
    )
    entries = list(AuditItem.query(keys.account_pk(ids["account_id"]), AuditItem.sk.startswith(keys.AUDIT_PREFIX)))
    assert any(e.action == "POST /api/invitations/{token}/accept" for e in entries)
    assert all(token not in json.dumps(e.target) for e in entries)


# --- staff: an account's detail, its users and its contacts ----------------------------------------------------------
@pytest.fixture
def staff_get(aws, invoke):
    """A GET by a staff member of a role; each role's session is made at its first call (so warm it up before the
    calls that are counted)."""
    from support.identity import given_staff

    sessions: dict[str, dict] = {}

    def get(path: str, resource: str, role: str = "staff_support", query: dict | None = None) -> dict:
        if role not in sessions:
            sessions[role] = given_staff(role).claims
        return invoke("accounts", api_event("GET", path, resource=resource, claims=sessions[role], query=query))

    return get


def add_contact(invoke, account_id: str, claims: dict, name: str) -> str:
    added = post(
        invoke,
        "accounts",
        f"/api/accounts/{account_id}/contacts",
        {"name": name, "email": f"{name.lower()}@example.org", "departments": ["billing"]},
        claims=claims,
        resource="/api/accounts/{account_id}/contacts",
    )
    assert added["statusCode"] == 201, added["body"]
    return json_body(added)["contact_id"]


def joined(invoke, pipeline, account_id: str, owner: dict, email: str) -> dict:
    """``email`` signs up, is invited to ``account_id`` and accepts; their ids."""
    ids = signed_up(invoke, pipeline, email)
    invited = post(
        invoke,
        "accounts",
        f"/api/accounts/{account_id}/invitations",
        {"email": email, "permissions": ["contacts"]},
        claims=owner,
        resource="/api/accounts/{account_id}/invitations",
    )
    assert invited["statusCode"] == 201, invited["body"]
    pipeline.run()
    token = re.search(r"/invitations/([\w-]+)", mail.sent_messages(to=email)[0]["text"]).group(1)
    accepted = post(
        invoke,
        "accounts",
        f"/api/invitations/{token}/accept",
        claims=claims_of(login(invoke, email)),
        resource="/api/invitations/{token}/accept",
    )
    assert accepted["statusCode"] == 200, accepted["body"]
    return ids


def test_the_staff_account_detail_answers_the_profile_and_the_counts_in_two_reads(
    aws, staff_get, invoke, pipeline, ddb_calls
):
    # Given an account with its owner, a member who joined, and two contacts of which one was removed
    ids = signed_up(invoke, pipeline, "bela.prado@example.com", name="Bela Prado")
    account = ids["account_id"]
    owner = claims_of(login(invoke, "bela.prado@example.com"))
    member = joined(invoke, pipeline, account, owner, "caio.lima@example.com")
    add_contact(invoke, account, owner, "Financeiro")
    removed = add_contact(invoke, account, owner, "Compras")
    contact_path = "/api/accounts/{account_id}/contacts/{contact_id}"
    deleted = invoke(
        "accounts",
        api_event("DELETE", f"/api/accounts/{account}/contacts/{removed}", resource=contact_path, claims=owner),
    )
    assert deleted["statusCode"] == 204
    staff_get(f"/api/staff/accounts/{account}", "/api/staff/accounts/{account_id}")  # warm the settings
    # When support reads the account
    with ddb_calls() as calls:
        response = staff_get(f"/api/staff/accounts/{account}", "/api/staff/accounts/{account_id}")
    # Then it answers the profile and how many users and contacts it has (the lists have their own routes)
    assert response["statusCode"] == 200, response["body"]
    detail = json_body(response)
    assert detail["account"]["account_id"] == account and detail["account"]["name"] == "Bela Prado"
    assert (detail["user_count"], detail["contact_count"]) == (2, 1)
    assert "users" not in detail and "contacts" not in detail
    # And it costs the staff session and one read of the profile with the counts
    assert calls.total <= 2 and calls.scans == 0, calls
    # When the member leaves, then the count follows
    users = "/api/accounts/{account_id}/users/{user_id}"
    left = invoke(
        "accounts",
        api_event(
            "DELETE",
            f"/api/accounts/{account}/users/{member['user_id']}",
            resource=users,
            claims=claims_of(login(invoke, "caio.lima@example.com")),
        ),
    )
    assert left["statusCode"] == 204
    detail = json_body(staff_get(f"/api/staff/accounts/{account}", "/api/staff/accounts/{account_id}"))
    assert (detail["user_count"], detail["contact_count"]) == (1, 1)
    # And an unknown account is a 404
    unknown = staff_get("/api/staff/accounts/01HZZZZZZZZZZZZZZZZZZZZZZZ", "/api/staff/accounts/{account_id}")
    assert unknown["statusCode"] == 404


def test_staff_list_an_accounts_users_and_contacts_a_page_at_a_time(aws, staff_get, invoke, pipeline, ddb_calls):
    # Given an account with two users and three contacts
    ids = signed_up(invoke, pipeline, "davi.costa@example.com", name="Davi Costa")
    account = ids["account_id"]
    owner = claims_of(login(invoke, "davi.costa@example.com"))
    joined(invoke, pipeline, account, owner, "edna.reis@example.com")
    for name in ("Ana", "Bia", "Cid"):
        add_contact(invoke, account, owner, name)
    other = "01HZZZZZZZZZZZZZZZZZZZZZZZ"
    contacts, resource = f"/api/staff/accounts/{account}/contacts", "/api/staff/accounts/{account_id}/contacts"
    staff_get(contacts, resource), staff_get(contacts, resource, "staff_finance")  # warm the settings
    # When finance lists the contacts two at a time
    with ddb_calls() as calls:
        first = staff_get(contacts, resource, "staff_finance", {"limit": "2"})
    # Then the first page holds two, with a cursor, in the staff session and one Query
    assert first["statusCode"] == 200, first["body"]
    page = json_body(first)
    assert len(page["items"]) == 2 and page["next"] and calls.total <= 2 and calls.scans == 0, calls
    with ddb_calls() as calls:
        second = json_body(staff_get(contacts, resource, "staff_finance", {"limit": "2", "cursor": page["next"]}))
    assert sorted(c["name"] for c in page["items"] + second["items"]) == ["Ana", "Bia", "Cid"]
    assert second["next"] is None
    assert calls.total <= 2, calls
    # When support lists the users, then the owner and the member are there, in the same budget
    users, users_resource = f"/api/staff/accounts/{account}/users", "/api/staff/accounts/{account_id}/users"
    with ddb_calls() as calls:
        listed = staff_get(users, users_resource)
    assert listed["statusCode"] == 200 and calls.total <= 2 and calls.scans == 0, calls
    assert sorted(u["email"] for u in json_body(listed)["items"]) == ["davi.costa@example.com", "edna.reis@example.com"]
    assert {u["role"] for u in json_body(listed)["items"]} == {"owner", "member"}
    # And a cursor of another account's partition is refused
    forged = {"pk": {"S": keys.account_pk(other)}, "sk": {"S": keys.contact_sk("0")}}
    forged = base64.urlsafe_b64encode(json.dumps(forged).encode()).decode()
    refused = staff_get(contacts, resource, query={"cursor": forged})
    assert refused["statusCode"] == 422
    # And so is a cursor of the contacts given to the users' list
    assert staff_get(users, users_resource, query={"cursor": page["next"]})["statusCode"] == 422
    # And a customer is refused
    customer = invoke("accounts", api_event("GET", users, resource=users_resource, claims=owner))
    assert customer["statusCode"] == 403


# --- the rate limiter's bucket under concurrent requests ---------------------------------------------------------------
def take_at_once(count: int, capacity: int) -> list[bool]:
    """``count`` requests for one bucket (route and subject) released together, nothing refilled meanwhile."""
    from concurrent.futures import ThreadPoolExecutor
    from threading import Barrier

    from balcao.adapters.dynamodb.identity import DynamoRateLimiter

    limiter, start, now = DynamoRateLimiter(), Barrier(count), time.time()

    def take(_: int) -> bool:
        start.wait()
        return limiter.take("login", "203.0.113.7", capacity, 0.0, now)

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(take, range(count)))


def test_logins_at_once_from_one_address_under_the_limit_are_all_admitted(aws):
    # Given an office of 24 people behind one address, signing in at the same moment, under a limit of 30
    # When their logins reach the bucket together (their conditional writes race)
    admitted = take_at_once(24, capacity=30)
    # Then nobody is refused: a lost race is not an empty bucket
    assert admitted == [True] * 24


def test_logins_at_once_over_the_limit_are_admitted_up_to_the_capacity_exactly(aws):
    admitted = take_at_once(24, capacity=10)
    assert admitted.count(True) == 10
