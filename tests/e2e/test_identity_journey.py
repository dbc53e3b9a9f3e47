"""Identity's acceptance journey, over HTTP on the devstack."""

from __future__ import annotations

import time
import uuid

from balcao.domain.totp import totp_code

PASSWORD = "Sup3r-Secret-pass!"


def signup_and_confirm(client, email: str, name: str, language: str = "pt-BR") -> dict:
    created = client.post(
        "/api/auth/signup",
        {"email": email, "password": PASSWORD, "name": name, "language": language, "accept_terms": True},
    )
    assert created.status_code == 201, created.text
    client.settle()
    code = client.code_in(email)
    confirmed = client.post("/api/auth/signup/confirm", {"email": email, "code": code})
    assert confirmed.status_code == 200, confirmed.text
    client.settle()
    return created.json()


def next_totp(secret: str, after_step: int | None = None) -> tuple[str, int]:
    """A code for the current step — or, when that step was used already, for the next one (±1 is accepted)."""
    step = int(time.time()) // 30
    if after_step is not None and step <= after_step:
        step = after_step + 1
    return totp_code(secret, step * 30), step


def test_signup_totp_logout_invite_accept_revoke(client):
    owner_email = f"owner-{uuid.uuid4().hex[:8]}@example.com"
    # Sign up → code email → confirm → welcome email
    ids = signup_and_confirm(client, owner_email, "Olga Dona")
    account_id = ids["account_id"]
    subjects = [m["subject"] for m in client.mail(owner_email)]
    assert any("Dados de acesso" in s for s in subjects), subjects
    # Login
    tokens = client.login(owner_email, PASSWORD)
    token = tokens["id_token"]
    me = client.get("/api/me", token=token).json()
    assert me["email"] == owner_email and me["mfa_enabled"] is False
    assert [a["account_id"] for a in me["accounts"]] == [account_id] and me["accounts"][0]["owner"] is True
    # Enrol TOTP
    setup = client.post("/api/me/mfa/totp", token=token).json()
    assert (
        len(setup["secret"]) == 32 and setup["otpauth_uri"].startswith("otpauth://totp/") and "<svg" in setup["qr_svg"]
    )
    code, step = next_totp(setup["secret"])
    recovery = client.post("/api/me/mfa/totp/verify", {"code": code}, token=token)
    assert recovery.status_code == 200, recovery.text
    assert len(recovery.json()["recovery_codes"]) == 10
    assert client.get("/api/me", token=token).json()["mfa_enabled"] is True
    # Logout: the old ID token answers 401 at once
    assert client.post("/api/auth/logout", {"refresh_token": tokens["refresh_token"]}).status_code == 204
    assert client.get("/api/me", token=token).status_code == 401
    assert client.post("/api/auth/refresh", {"refresh_token": tokens["refresh_token"]}).status_code == 401
    # Login again: now with the TOTP step
    challenge = client.login(owner_email, PASSWORD)
    assert challenge["challenge"] == "totp"
    code, step = next_totp(setup["secret"], after_step=step)
    answered = client.post("/api/auth/mfa", {"session": challenge["session"], "code": code})
    assert answered.status_code == 200, answered.text
    owner_token = answered.json()["id_token"]
    assert (
        client.post("/api/auth/mfa", {"session": challenge["session"], "code": code}).status_code == 401
    )  # single use
    # Invite a second user with `contacts` only
    invited_email = f"helper-{uuid.uuid4().hex[:8]}@example.com"
    invitation = client.post(
        f"/api/accounts/{account_id}/invitations",
        {"email": invited_email, "permissions": ["contacts"]},
        token=owner_token,
    )
    assert invitation.status_code == 201, invitation.text
    assert invitation.json()["status"] == "pending"
    client.settle()
    [invite_mail] = client.mail(invited_email)
    accept_url = next(w for w in invite_mail["text"].split() if "/invitations/" in w)
    invite_token = accept_url.rsplit("/", 1)[1]
    # That user signs up, accepts, sees the account, lists contacts, gets 404 on the profile and users
    helper = signup_and_confirm(client, invited_email, "Hugo Ajudante")
    helper_token = client.token(invited_email, PASSWORD)
    accepted = client.post(f"/api/invitations/{invite_token}/accept", token=helper_token)
    assert accepted.status_code == 200, accepted.text
    assert client.post(f"/api/invitations/{invite_token}/accept", token=helper_token).status_code == 404  # single use
    my_accounts = client.get("/api/me", token=helper_token).json()["accounts"]
    assert {(a["account_id"], tuple(a["permissions"])) for a in my_accounts} >= {(account_id, ("contacts",))}
    assert client.get(f"/api/accounts/{account_id}/contacts", token=helper_token).status_code == 200
    assert client.get(f"/api/accounts/{account_id}", token=helper_token).status_code == 404
    assert client.get(f"/api/accounts/{account_id}/users", token=helper_token).status_code == 404
    # The owner revokes the access: the next call answers 404
    removed = client.delete(f"/api/accounts/{account_id}/users/{helper['user_id']}", token=owner_token)
    assert removed.status_code == 204
    assert client.get(f"/api/accounts/{account_id}/contacts", token=helper_token).status_code == 404


def test_an_email_already_registered_gets_the_same_answer_and_an_account_exists_email(client):
    response = client.post(
        "/api/auth/signup",
        {
            "email": "bruno@example.com",
            "password": PASSWORD,
            "name": "Bruno",
            "language": "pt-BR",
            "accept_terms": True,
        },
    )
    assert response.status_code == 201 and set(response.json()) == {"user_id", "account_id"}
    client.settle()
    assert any("já tem uma conta" in m["subject"] for m in client.mail("bruno@example.com"))


def test_a_signup_code_email_in_spanish_has_both_parts_and_stays_out_of_the_account_log(client):
    email = f"nuria-{uuid.uuid4().hex[:8]}@example.es"
    ids = signup_and_confirm(client, email, "Nuria Peña", language="es")
    code_mail = next(m for m in client.mail(email) if "confirmación" in m["subject"])
    assert 'lang="es"' in code_mail["html"] and code_mail["text"] and code_mail["language"] == "es"
    token = client.token(email, PASSWORD)
    log = client.get(f"/api/accounts/{ids['account_id']}/emails", token=token).json()["items"]
    assert [e["subject"] for e in log] == ["Acceso a tu área de cliente de Balcão Hosting"]


def test_staff_settings_need_totp(client):
    challenge = client.login("staff@example.com")
    assert challenge["challenge"] == "totp"
    assert client.get("/api/staff/settings", token=client.staff_token()).status_code == 200
