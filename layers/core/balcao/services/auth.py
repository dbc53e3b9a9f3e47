"""Access: sign-up, confirmation, login (with the app's own TOTP), refresh, logout, password reset and change,
2FA enrolment, login-email change and sessions.

Cognito checks passwords; everything else is ours (decision 0004): codes are 6 digits, stored hashed, valid 15
minutes and 5 attempts, sent through the email pipeline; sessions are records that a revocation ends at once;
responses never reveal whether an email is registered.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Protocol

from balcao.domain import totp
from balcao.domain.accounts import ALL_PERMISSIONS, AccountProfile, Membership, Role
from balcao.domain.calendar import format_timestamp
from balcao.domain.emails import normalise_email
from balcao.domain.errors import (
    FIELD_MESSAGES,
    N_,
    FieldProblem,
    InvalidCredentialsError,
    InvalidInputError,
    NotFoundError,
    UnauthenticatedError,
)
from balcao.domain.events import DomainEvent, new_event
from balcao.domain.identity import (
    CODE_ATTEMPTS,
    CODE_LIFETIME,
    PENDING_LOGIN_SECONDS,
    PORTAL_SESSION_IDLE,
    TERMS_VERSION,
    CodePurpose,
    InvalidCodeError,
    MfaAlreadyEnabledError,
    MfaNotEnabledError,
    OneTimeCode,
    SecurityEvent,
    Session,
    SessionKind,
    User,
    UserStatus,
    session_expiry,
)
from balcao.domain.ids import new_ulid
from balcao.domain.passwords import check_password
from balcao.services.ports import Clock

TOTP_PURPOSE = "totp-secret"
TOKENS_PURPOSE = "pending-login"
ISSUER_FALLBACK = "Balcao"


# --- ports ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class IssuedTokens:
    id_token: str
    access_token: str
    expires_in: int
    refresh_token: str | None = None


class IdentityProvider(Protocol):
    """Cognito: passwords only."""

    def sign_up(self, email: str, password: str, name: str) -> str: ...

    def confirm(self, user_id: str) -> None: ...

    def authenticate(self, user_id: str, password: str) -> IssuedTokens: ...

    def refresh(self, user_id: str, refresh_token: str) -> IssuedTokens: ...

    def revoke(self, refresh_token: str) -> None: ...

    def set_password(self, user_id: str, password: str) -> None: ...

    def set_email(self, user_id: str, email: str) -> None: ...

    def delete(self, user_id: str) -> None: ...


class TokenClaims(Protocol):
    def origin_jti(self, id_token: str) -> str: ...


class Sealer(Protocol):
    def seal(self, plaintext: str, purpose: str) -> str: ...

    def open(self, sealed: str, purpose: str) -> str: ...


class WallClock(Protocol):
    def epoch_seconds(self) -> float: ...


class IdentityStore(Protocol):
    def user_id_for_email(self, email: str) -> str | None: ...

    def user(self, user_id: str) -> User | None: ...

    def memberships_of(self, user_id: str) -> list[Membership]: ...

    def create_signup(
        self, user: User, account: AccountProfile, owner: Membership, code: OneTimeCode, events: Sequence[DomainEvent]
    ) -> None: ...

    def confirm_user(self, user_id: str, events: Sequence[DomainEvent]) -> None: ...

    def save_code(self, code: OneTimeCode, events: Sequence[DomainEvent]) -> None: ...

    def code(self, purpose: CodePurpose, subject: str) -> OneTimeCode | None: ...

    def count_code_attempt(self, purpose: CodePurpose, subject: str) -> int: ...

    def delete_code(self, purpose: CodePurpose, subject: str) -> None: ...

    def create_session(self, session: Session, refresh_token: str | None, events: Sequence[DomainEvent]) -> None: ...

    def session(self, session_key: str) -> Session | None: ...

    def session_for_refresh(self, refresh_token: str) -> Session | None: ...

    def touch_session(self, session_key: str, now: datetime) -> None: ...

    def revoke_session(self, session_key: str, now: datetime) -> None: ...

    def sessions_of(self, user_id: str) -> list[Session]: ...

    def revoke_sessions_of(self, user_id: str, now: datetime, keep: str | None) -> int: ...

    def put_pending_login(
        self, token: str, user_id: str, sealed_tokens: str, expires_epoch: int, kind: str
    ) -> None: ...

    def take_pending_login(self, token: str) -> tuple[str, str, int, str] | None: ...

    def set_totp_pending(self, user_id: str, sealed_secret: str) -> None: ...

    def enable_totp(self, user_id: str, recovery_hashes: list[str], events: Sequence[DomainEvent]) -> None: ...

    def disable_totp(self, user_id: str, events: Sequence[DomainEvent]) -> None: ...

    def use_totp_step(self, user_id: str, step: int) -> bool: ...

    def use_recovery_code(self, user_id: str, code_hash: str, events: Sequence[DomainEvent]) -> bool: ...

    def change_login_email(
        self, user: User, new_email: str, also_contract_email: bool, events: Sequence[DomainEvent]
    ) -> None: ...

    def emit(self, events: Sequence[DomainEvent]) -> None: ...


@dataclass(frozen=True, slots=True)
class Request:
    """Where a request comes from (for sessions and security notices)."""

    ip: str | None = None
    device: str | None = None


@dataclass(frozen=True, slots=True)
class LoginResult:
    tokens: IssuedTokens | None = None
    challenge_session: str | None = None
    session: Session | None = None
    cookie: str | None = None  # a portal session's opaque id (its SHA-256 keys the record)


def portal_session_key(cookie: str) -> str:
    """The record key of a portal session: the cookie is never stored, only its hash."""
    return hashlib.sha256(cookie.encode()).hexdigest()


@dataclass
class Auth:
    """The use-cases, with their ports. Handlers build one per container."""

    store: IdentityStore
    provider: IdentityProvider
    claims: TokenClaims
    sealer: Sealer
    clock: Clock
    wall: WallClock
    default_currency: str = "BRL"
    brand_name: str = ISSUER_FALLBACK

    # --- sign-up --------------------------------------------------------------------------------------------------
    def sign_up(self, email: str, password: str, name: str, language: str, accept_terms: bool) -> tuple[str, str]:
        """201 ``(user_id, account_id)`` for a new email, and the same shape for a registered one (which gets an
        "account exists" email instead): the answer never reveals whether an email is registered."""
        email = normalise_email(email)
        problems: list[FieldProblem] = []
        try:
            check_password(password, email=email)
        except InvalidInputError as weak:
            problems.extend(weak.fields)
        if not accept_terms:
            problems.append(
                FieldProblem("accept_terms", "required", N_("You must accept the terms to create an account."))
            )
        if not name.strip():
            problems.append(FieldProblem("name", "required", FIELD_MESSAGES["required"]))
        if problems:
            raise InvalidInputError(problems)
        now = self.clock.now()
        existing = self.store.user_id_for_email(email)
        if existing is not None:
            user = self.store.user(existing)
            self.store.emit(
                [
                    new_event(
                        "identity.account_exists",
                        now,
                        user_id=existing,
                        to=email,
                        language=user.language if user else language,
                    )
                ]
            )
            return new_ulid(), new_ulid()
        user_id = self.provider.sign_up(email, password, name.strip())
        account_id = new_ulid()
        user = User(user_id, email, name.strip(), language, UserStatus.UNCONFIRMED, now)
        currency = {"pt-BR": "BRL", "es": "EUR"}.get(language, self.default_currency)
        account = AccountProfile(
            account_id=account_id,
            name=name.strip(),
            language=language,
            currency=currency,
            notice_email=email,
            owner_user_id=user_id,
            created_at=now,
            terms_version=TERMS_VERSION,
        )
        owner = Membership(
            account_id,
            user_id,
            Role.OWNER,
            ALL_PERMISSIONS,
            account.name,
            user_email=email,
            user_name=user.name,
            notice_email=email,
        )
        code = totp.new_numeric_code()
        stored = OneTimeCode(
            CodePurpose.SIGNUP, email, totp.hash_code(CodePurpose.SIGNUP, email, code), now + CODE_LIFETIME
        )
        event = new_event(
            "identity.signup_code", now, user_id=user_id, to=email, language=language, name=user.name, code=code
        )
        try:
            self.store.create_signup(user, account, owner, stored, [event])
        except Exception:
            self.provider.delete(user_id)  # lost a race for the email, or the write failed: no orphan login
            raise
        return user_id, account_id

    def confirm_sign_up(self, email: str, code: str) -> None:
        email = normalise_email(email)
        self._consume_code(CodePurpose.SIGNUP, email, code)
        user_id = self.store.user_id_for_email(email)
        user = self.store.user(user_id) if user_id else None
        if user is None or user.status is not UserStatus.UNCONFIRMED:
            raise InvalidCodeError()
        self.provider.confirm(user.user_id)
        memberships = [m for m in self.store.memberships_of(user.user_id) if m.is_owner]
        welcome = [
            new_event("identity.welcome", self.clock.now(), account_id=m.account_id, name=user.name, login_email=email)
            for m in memberships
        ]
        self.store.confirm_user(user.user_id, welcome)

    # --- codes ------------------------------------------------------------------------------------------------
    def _consume_code(self, purpose: CodePurpose, subject: str, code: str) -> OneTimeCode:
        stored = self.store.code(purpose, subject)
        now = self.clock.now()
        if stored is None or now >= stored.expires_at or stored.attempts >= CODE_ATTEMPTS:
            raise InvalidCodeError()
        if not totp.code_matches_hash(purpose, subject, code.strip(), stored.digest):
            if self.store.count_code_attempt(purpose, subject) >= CODE_ATTEMPTS:
                self.store.delete_code(purpose, subject)
            raise InvalidCodeError()
        self.store.delete_code(purpose, subject)
        return stored

    # --- login ------------------------------------------------------------------------------------------------
    def login(
        self, email: str, password: str, request: Request, kind: SessionKind = SessionKind.API, is_staff: bool = False
    ) -> LoginResult:
        try:
            email = normalise_email(email)
        except InvalidInputError:
            raise InvalidCredentialsError() from None
        user_id = self.store.user_id_for_email(email)
        user = self.store.user(user_id) if user_id else None
        if user is None or user.status is not UserStatus.ACTIVE:
            # Same work and answer as a wrong password: never say whether the email exists.
            self.provider.authenticate(user_id or f"unknown-{new_ulid()}", password)
            raise InvalidCredentialsError()
        tokens = self.provider.authenticate(user.user_id, password)
        if user.totp_enabled:
            challenge = secrets.token_urlsafe(32)
            sealed = self.sealer.seal(_pack(tokens), TOKENS_PURPOSE)
            expires = int(self.wall.epoch_seconds()) + PENDING_LOGIN_SECONDS
            self.store.put_pending_login(challenge, user.user_id, sealed, expires, f"{kind.value}:{int(is_staff)}")
            return LoginResult(challenge_session=challenge)
        return self._open_session(user, tokens, request, kind, mfa_passed=False, is_staff=is_staff)

    def complete_mfa(self, challenge: str, code: str, request: Request) -> LoginResult:
        pending = self.store.take_pending_login(challenge)
        if pending is None or pending[2] < int(self.wall.epoch_seconds()):
            raise InvalidCredentialsError()
        user_id, sealed, _expires, kind_flags = pending
        kind_text, _, staff_flag = kind_flags.partition(":")
        user = self.store.user(user_id)
        if user is None or not user.totp_enabled or user.totp_secret is None:
            raise InvalidCredentialsError()
        if not self._verify_totp(user, code):
            recovery = totp.hash_recovery_code(code)
            notice = self._notice(user, SecurityEvent.RECOVERY_CODE_USED, request)
            if not self.store.use_recovery_code(user.user_id, recovery, [notice]):
                raise InvalidCredentialsError()
            user = replace(user, totp_enabled=False)
        tokens = _unpack(self.sealer.open(sealed, TOKENS_PURPOSE))
        return self._open_session(
            user, tokens, request, SessionKind(kind_text), mfa_passed=True, is_staff=staff_flag == "1"
        )

    def _verify_totp(self, user: User, code: str) -> bool:
        assert user.totp_secret is not None
        secret = self.sealer.open(user.totp_secret, TOTP_PURPOSE)
        step = totp.verify_totp(secret, code, int(self.wall.epoch_seconds()), user.totp_last_step)
        return step is not None and self.store.use_totp_step(user.user_id, step)

    def _open_session(
        self, user: User, tokens: IssuedTokens, request: Request, kind: SessionKind, *, mfa_passed: bool, is_staff: bool
    ) -> LoginResult:
        now = self.clock.now()
        cookie = None
        if kind is SessionKind.API:
            key = self.claims.origin_jti(tokens.id_token)
            refresh = tokens.refresh_token
        else:
            cookie = secrets.token_urlsafe(32)  # 256 bits; only its hash is stored
            key = portal_session_key(cookie)
            refresh = None
        session = Session(
            session_key=key,
            session_id=new_ulid(),
            user_id=user.user_id,
            email=user.email,
            language=user.language,
            kind=kind,
            created_at=now,
            last_seen_at=now,
            expires_at=session_expiry(kind, now),
            mfa_passed=mfa_passed,
            is_staff=is_staff,
            device=request.device,
            ip=request.ip,
        )
        notice = self._notice(user, SecurityEvent.NEW_LOGIN, request)
        self.store.create_session(session, refresh, [notice])
        if kind is SessionKind.PORTAL and tokens.refresh_token:
            self.provider.revoke(tokens.refresh_token)  # a portal session holds no Cognito token at all
        return LoginResult(tokens=tokens if kind is SessionKind.API else None, session=session, cookie=cookie)

    def _notice(self, user: User, what: SecurityEvent, request: Request, **extra: Any) -> DomainEvent:
        now = self.clock.now()
        return new_event(
            "identity.security_notice",
            now,
            user_id=user.user_id,
            to=user.email,
            language=user.language,
            kind=what.value,
            when=format_timestamp(now),
            ip=request.ip,
            device=request.device,
            **extra,
        )

    # --- tokens and sessions --------------------------------------------------------------------------------
    def refresh(self, refresh_token: str) -> IssuedTokens:
        session = self.store.session_for_refresh(refresh_token)
        now = self.clock.now()
        if session is None or not session.is_active(now):
            raise UnauthenticatedError()
        tokens = self.provider.refresh(session.user_id, refresh_token)
        self.store.touch_session(session.session_key, now)
        return tokens

    def logout(self, refresh_token: str) -> None:
        session = self.store.session_for_refresh(refresh_token)
        if session is not None:
            self.store.revoke_session(session.session_key, self.clock.now())
        self.provider.revoke(refresh_token)

    def end_portal_session(self, cookie: str) -> None:
        self.store.revoke_session(portal_session_key(cookie), self.clock.now())

    def portal_session(self, cookie: str) -> Session | None:
        """The live portal session of a cookie (idle time refreshed at most every 5 minutes), or None."""
        session = self.store.session(portal_session_key(cookie))
        if session is None or session.kind is not SessionKind.PORTAL or not self.session_is_live(session):
            return None
        return session

    def sessions(self, user_id: str) -> list[Session]:
        now = self.clock.now()
        return [s for s in self.store.sessions_of(user_id) if s.is_active(now)]

    def revoke(self, user_id: str, session_id: str) -> None:
        for session in self.store.sessions_of(user_id):
            if session.session_id == session_id:
                self.store.revoke_session(session.session_key, self.clock.now())
                return
        raise NotFoundError()

    def session_is_live(self, session: Session) -> bool:
        now = self.clock.now()
        if not session.is_active(now):
            return False
        if session.kind is SessionKind.PORTAL and now - session.last_seen_at > PORTAL_SESSION_IDLE / 6:
            self.store.touch_session(session.session_key, now)
        return True

    # --- passwords ------------------------------------------------------------------------------------------
    def forgot_password(self, email: str) -> None:
        """Always accepted (202): a code goes only to a registered, confirmed address."""
        try:
            email = normalise_email(email)
        except InvalidInputError:
            return
        user_id = self.store.user_id_for_email(email)
        user = self.store.user(user_id) if user_id else None
        if user is None or user.status is not UserStatus.ACTIVE:
            return
        now = self.clock.now()
        code = totp.new_numeric_code()
        stored = OneTimeCode(
            CodePurpose.PASSWORD_RESET,
            email,
            totp.hash_code(CodePurpose.PASSWORD_RESET, email, code),
            now + CODE_LIFETIME,
        )
        self.store.save_code(
            stored,
            [
                new_event(
                    "identity.password_reset_code",
                    now,
                    user_id=user.user_id,
                    to=email,
                    language=user.language,
                    code=code,
                )
            ],
        )

    def reset_password(self, email: str, code: str, password: str, request: Request) -> None:
        email = normalise_email(email)
        check_password(password, email=email)
        self._consume_code(CodePurpose.PASSWORD_RESET, email, code)
        user_id = self.store.user_id_for_email(email)
        user = self.store.user(user_id) if user_id else None
        if user is None:
            raise InvalidCodeError()
        self.provider.set_password(user.user_id, password)
        self.store.revoke_sessions_of(user.user_id, self.clock.now(), keep=None)
        self.store.emit([self._notice(user, SecurityEvent.PASSWORD_RESET, request)])

    def change_password(self, user_id: str, session_key: str | None, current: str, new: str, request: Request) -> None:
        user = self._user(user_id)
        try:
            self.provider.authenticate(user.user_id, current)
        except InvalidCredentialsError:
            raise InvalidInputError.single(
                "current_password", N_("The current password is not correct."), "invalid_password"
            ) from None
        check_password(new, field="new_password", email=user.email)
        self.provider.set_password(user.user_id, new)
        self.store.revoke_sessions_of(user.user_id, self.clock.now(), keep=session_key)
        self.store.emit([self._notice(user, SecurityEvent.PASSWORD_CHANGED, request)])

    def _user(self, user_id: str) -> User:
        user = self.store.user(user_id)
        if user is None:
            raise UnauthenticatedError()
        return user

    # --- two-factor authentication ------------------------------------------------------------------------
    def start_totp(self, user_id: str) -> tuple[str, str]:
        """A new 160-bit secret (kept pending until verified) and its otpauth URI."""
        user = self._user(user_id)
        if user.totp_enabled:
            raise MfaAlreadyEnabledError()
        secret = totp.new_secret()
        self.store.set_totp_pending(user.user_id, self.sealer.seal(secret, TOTP_PURPOSE))
        issuer = self.brand_name.replace(":", " ")
        return secret, totp.otpauth_uri(secret, user.email, issuer)

    def confirm_totp(self, user_id: str, session_key: str | None, code: str, request: Request) -> list[str]:
        user = self._user(user_id)
        if user.totp_enabled:
            raise MfaAlreadyEnabledError()
        if user.totp_pending_secret is None:
            raise MfaNotEnabledError()
        secret = self.sealer.open(user.totp_pending_secret, TOTP_PURPOSE)
        step = totp.verify_totp(secret, code, int(self.wall.epoch_seconds()), None)
        if step is None:
            raise InvalidCodeError()
        recovery = totp.new_recovery_codes()
        self.store.enable_totp(
            user.user_id,
            [totp.hash_recovery_code(c) for c in recovery],
            [self._notice(user, SecurityEvent.MFA_ENABLED, request)],
        )
        self.store.use_totp_step(user.user_id, step)
        self.store.revoke_sessions_of(user.user_id, self.clock.now(), keep=session_key)
        return recovery

    def disable_totp(self, user_id: str, session_key: str | None, code: str, request: Request) -> None:
        user = self._user(user_id)
        if not user.totp_enabled or user.totp_secret is None:
            raise MfaNotEnabledError()
        if not self._verify_totp(user, code):
            raise InvalidCodeError()
        self.store.disable_totp(user.user_id, [self._notice(user, SecurityEvent.MFA_DISABLED, request)])
        self.store.revoke_sessions_of(user.user_id, self.clock.now(), keep=session_key)

    # --- login email ---------------------------------------------------------------------------------------
    def request_email_change(self, user_id: str, new_email: str, also_contract_email: bool) -> None:
        user = self._user(user_id)
        email = normalise_email(new_email)
        if email == user.email:
            raise InvalidInputError.single("email", N_("This is already your email address."), "unchanged")
        now = self.clock.now()
        code = totp.new_numeric_code()
        stored = OneTimeCode(
            CodePurpose.EMAIL_CHANGE,
            user.user_id,
            totp.hash_code(CodePurpose.EMAIL_CHANGE, user.user_id, code),
            now + CODE_LIFETIME,
            payload={"email": email, "also_contract_email": "1" if also_contract_email else ""},
        )
        # The code goes to the new address; nothing reveals whether that address is taken until it is confirmed.
        self.store.save_code(
            stored,
            [
                new_event(
                    "identity.email_change_code", now, user_id=user.user_id, to=email, language=user.language, code=code
                )
            ],
        )

    def confirm_email_change(self, user_id: str, session_key: str | None, code: str, request: Request) -> str:
        user = self._user(user_id)
        stored = self._consume_code(CodePurpose.EMAIL_CHANGE, user.user_id, code)
        new_email = stored.payload["email"]
        notice = self._notice(user, SecurityEvent.EMAIL_CHANGED, request, new_email=new_email)  # to the old address
        self.store.change_login_email(user, new_email, bool(stored.payload.get("also_contract_email")), [notice])
        self.provider.set_email(user.user_id, new_email)
        self.store.revoke_sessions_of(user.user_id, self.clock.now(), keep=session_key)
        return new_email


def _pack(tokens: IssuedTokens) -> str:
    import json

    return json.dumps([tokens.id_token, tokens.access_token, tokens.expires_in, tokens.refresh_token])


def _unpack(text: str) -> IssuedTokens:
    import json

    id_token, access_token, expires_in, refresh_token = json.loads(text)
    return IssuedTokens(id_token, access_token, int(expires_in), refresh_token)
