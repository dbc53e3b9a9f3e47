"""Access: sign-up and confirmation, login with the app's own TOTP, refresh, logout, password reset and change,
2FA enrolment, sessions, the login-email change and ``GET /api/me``."""

from __future__ import annotations

import time
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from balcao.adapters.clock import app_clock
from balcao.adapters.dynamodb.audit import DynamoAuditLog
from balcao.contracts.identity import (
    Acknowledged,
    ChallengeResponse,
    CodeRequest,
    ConfirmRequest,
    DelegatedService,
    EmailChangeRequest,
    ForgotRequest,
    LoginRequest,
    MeResponse,
    MfaRequest,
    MyAccount,
    PasswordChange,
    RecoveryCodes,
    RefreshRequest,
    ResetRequest,
    SessionList,
    SessionOut,
    SignupRequest,
    SignupResponse,
    TokensResponse,
    TotpSetup,
)
from balcao.runtime import access, composition
from balcao.runtime.audit import RequestAuditor
from balcao.runtime.http import rest_resolver
from balcao.runtime.observability import logger, tracer
from balcao.services.auth import IssuedTokens, Request
from balcao.services.rate_limits import enforce

app = rest_resolver(audit=RequestAuditor(DynamoAuditLog(), app_clock()))
NO_CONTENT = Response(204, "application/json", "")


def request_info() -> Request:
    event = app.current_event
    agent = next((v for k, v in (event.headers or {}).items() if k.lower() == "user-agent"), None)
    return Request(ip=event.request_context.identity.source_ip, device=agent[:200] if agent else None)


def limit(route: str, email: str | None = None) -> None:
    enforce(
        route,
        composition.company().rate_limits,
        composition.rate_limiter(),
        ip=request_info().ip,
        email=email,
        now=time.time(),
    )


def tokens_out(tokens: IssuedTokens) -> TokensResponse:
    return TokensResponse(
        id_token=tokens.id_token,
        access_token=tokens.access_token,
        refresh_token=tokens.refresh_token,
        expires_in=tokens.expires_in,
    )


# --- public -------------------------------------------------------------------------------------------------------
@app.post("/api/auth/signup", status_code=201, **access.public(rate_limited=True))
def signup(body: SignupRequest) -> SignupResponse:
    limit("signup", body.email)
    user_id, account_id = composition.auth().sign_up(
        body.email, body.password, body.name, body.language, body.accept_terms
    )
    return SignupResponse(user_id=user_id, account_id=account_id)


@app.post("/api/auth/signup/confirm", **access.public(rate_limited=True))
def confirm_signup(body: ConfirmRequest) -> Acknowledged:
    limit("confirm", body.email)
    composition.auth().confirm_sign_up(body.email, body.code)
    return Acknowledged()


@app.post("/api/auth/login", **access.public(rate_limited=True))
def login(body: LoginRequest) -> TokensResponse | ChallengeResponse:
    limit("login", body.email)
    result = composition.auth().login(body.email, body.password, request_info())
    if result.challenge_session is not None:
        return ChallengeResponse(session=result.challenge_session)
    assert result.tokens is not None
    return tokens_out(result.tokens)


@app.post("/api/auth/mfa", **access.public(rate_limited=True))
def mfa(body: MfaRequest) -> TokensResponse:
    limit("mfa")
    result = composition.auth().complete_mfa(body.session, body.code, request_info())
    assert result.tokens is not None
    return tokens_out(result.tokens)


@app.post("/api/auth/refresh", **access.public())
def refresh(body: RefreshRequest) -> TokensResponse:
    tokens = composition.auth().refresh(body.refresh_token)
    return TokensResponse(id_token=tokens.id_token, access_token=tokens.access_token, expires_in=tokens.expires_in)


@app.post("/api/auth/logout", status_code=204, **access.public())
def logout(body: RefreshRequest) -> Response[str]:
    composition.auth().logout(body.refresh_token)
    return NO_CONTENT


@app.post("/api/auth/password/forgot", status_code=202, **access.public(rate_limited=True))
def forgot_password(body: ForgotRequest) -> Response[str]:
    limit("forgot", body.email)
    composition.auth().forgot_password(body.email)
    return Response(202, "application/json", Acknowledged(status="accepted").model_dump_json())


@app.post("/api/auth/password/reset", **access.public(rate_limited=True))
def reset_password(body: ResetRequest) -> Acknowledged:
    limit("reset", body.email)
    composition.auth().reset_password(body.email, body.code, body.password, request_info())
    return Acknowledged()


# --- the signed-in user --------------------------------------------------------------------------------------------
@app.get("/api/me", **access.signed_in(with_user=True))
def me() -> MeResponse:
    principal = access.current_principal(app)
    user = access.current_user(app)
    memberships = composition.identity_store().memberships_of(principal.user_id)
    return MeResponse(
        user_id=user.user_id,
        email=user.email,
        name=user.name,
        language=user.language,
        mfa_enabled=user.totp_enabled,
        is_staff=principal.is_staff,
        accounts=[
            MyAccount(
                account_id=m.account_id,
                name=m.account_name,
                owner=m.is_owner,
                permissions=sorted(p.value for p in m.effective_permissions()),
            )
            for m in memberships
            if not m.is_delegate
        ],
        delegated_services=[
            DelegatedService(account_id=m.account_id, service_id=m.service_id or "", name=m.account_name)
            for m in memberships
            if m.is_delegate
        ],
    )


@app.put("/api/me/password", status_code=204, **access.signed_in())
def change_password(body: PasswordChange) -> Response[str]:
    principal = access.current_principal(app)
    composition.auth().change_password(
        principal.user_id, principal.session_key, body.current_password, body.new_password, request_info()
    )
    return NO_CONTENT


@app.post("/api/me/mfa/totp", **access.signed_in())
def start_totp() -> TotpSetup:
    import segno

    secret, uri = composition.auth().start_totp(access.current_principal(app).user_id)
    qr = segno.make(uri, error="m").svg_inline(scale=4, title="QR code")
    return TotpSetup(secret=secret, otpauth_uri=uri, qr_svg=qr)


@app.post("/api/me/mfa/totp/verify", **access.signed_in())
def verify_totp(body: CodeRequest) -> RecoveryCodes:
    principal = access.current_principal(app)
    codes = composition.auth().confirm_totp(principal.user_id, principal.session_key, body.code, request_info())
    return RecoveryCodes(recovery_codes=codes)


@app.delete("/api/me/mfa/totp", status_code=204, **access.signed_in())
def disable_totp(body: CodeRequest) -> Response[str]:
    principal = access.current_principal(app)
    composition.auth().disable_totp(principal.user_id, principal.session_key, body.code, request_info())
    return NO_CONTENT


@app.get("/api/me/sessions", **access.signed_in())
def sessions() -> SessionList:
    principal = access.current_principal(app)
    found = composition.auth().sessions(principal.user_id)
    return SessionList(
        items=[SessionOut.of(s, principal.session_key) for s in sorted(found, key=lambda s: s.session_id, reverse=True)]
    )


@app.delete("/api/me/sessions/<session_id>", status_code=204, **access.signed_in())
def revoke_session(session_id: Annotated[str, Path(max_length=64)]) -> Response[str]:
    composition.auth().revoke(access.current_principal(app).user_id, session_id)
    return NO_CONTENT


@app.post("/api/me/email", status_code=202, **access.signed_in())
def request_email_change(body: EmailChangeRequest) -> Response[str]:
    composition.auth().request_email_change(access.current_principal(app).user_id, body.email, body.also_contract_email)
    return Response(202, "application/json", Acknowledged(status="accepted").model_dump_json())


@app.post("/api/me/email/verify", **access.signed_in())
def verify_email_change(body: CodeRequest) -> Acknowledged:
    principal = access.current_principal(app)
    composition.auth().confirm_email_change(principal.user_id, principal.session_key, body.code, request_info())
    return Acknowledged()


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
