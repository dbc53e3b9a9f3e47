"""Logins, sessions and one-time codes.

A session record is the revocation guarantee: every request's principal is loaded with its session, and a
revoked or expired session is refused at once, whatever the token says. API sessions follow Cognito's refresh
token (30 days); portal sessions end after 30 minutes idle or 12 hours in all. Business time (the ``Clock``)
decides expiry of sessions and codes; the pending-login window (5 minutes) is wall time, like token freshness.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from balcao.domain.errors import N_, ConflictError, InvalidInputError, MfaRequiredError, RateLimitedError

CODE_LIFETIME = timedelta(minutes=15)
CODE_ATTEMPTS = 5
PENDING_LOGIN_SECONDS = 5 * 60
API_SESSION_LIFETIME = timedelta(days=30)
PORTAL_SESSION_IDLE = timedelta(minutes=30)
PORTAL_SESSION_LIFETIME = timedelta(hours=12)
INVITATION_LIFETIME = timedelta(days=7)
TERMS_VERSION = "2026-11"


class UserStatus(StrEnum):
    UNCONFIRMED = "unconfirmed"
    ACTIVE = "active"


class CodePurpose(StrEnum):
    SIGNUP = "signup"
    PASSWORD_RESET = "password_reset"  # noqa: S105 - a purpose, not a password
    EMAIL_CHANGE = "email_change"


class SessionKind(StrEnum):
    API = "api"
    PORTAL = "portal"


class SecurityEvent(StrEnum):
    """What a security notice tells the user (``identity.security_notice``)."""

    NEW_LOGIN = "new_login"
    PASSWORD_CHANGED = "password_changed"  # noqa: S105 - an event name
    PASSWORD_RESET = "password_reset"  # noqa: S105 - an event name
    MFA_ENABLED = "mfa_enabled"
    MFA_DISABLED = "mfa_disabled"
    RECOVERY_CODE_USED = "recovery_code_used"
    EMAIL_CHANGED = "email_changed"


@dataclass(frozen=True, slots=True)
class User:
    user_id: str
    email: str
    name: str
    language: str
    status: UserStatus
    created_at: datetime
    totp_enabled: bool = False
    totp_secret: str | None = None  # sealed
    totp_pending_secret: str | None = None  # sealed
    totp_last_step: int | None = None
    recovery_codes: tuple[str, ...] = field(default_factory=tuple)  # hashes


@dataclass(frozen=True, slots=True)
class Session:
    session_key: str
    session_id: str
    user_id: str
    email: str
    language: str
    kind: SessionKind
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    mfa_passed: bool = False
    is_staff: bool = False
    device: str | None = None
    ip: str | None = None
    revoked_at: datetime | None = None

    def is_active(self, now: datetime) -> bool:
        if self.revoked_at is not None or now >= self.expires_at:
            return False
        return not (self.kind is SessionKind.PORTAL and now >= self.last_seen_at + PORTAL_SESSION_IDLE)


def session_expiry(kind: SessionKind, now: datetime) -> datetime:
    return now + (API_SESSION_LIFETIME if kind is SessionKind.API else PORTAL_SESSION_LIFETIME)


@dataclass(frozen=True, slots=True)
class OneTimeCode:
    purpose: CodePurpose
    subject: str
    digest: str
    expires_at: datetime
    attempts: int = 0
    payload: dict[str, str] = field(default_factory=dict)


class InvalidCodeError(InvalidInputError):
    """A one-time code that is wrong, used, expired or out of attempts (never says which)."""

    default_message = N_("The code is invalid or expired. Ask for a new one.")

    def __init__(self, field_name: str = "code") -> None:
        from balcao.domain.errors import FieldProblem

        super().__init__([FieldProblem(field_name, "invalid_code", self.default_message)])


class TooManyAttemptsError(RateLimitedError):
    """Rate limit of the sign-in, sign-up and code routes."""


class MfaNotEnabledError(ConflictError):
    """Two-factor authentication is not on for this user."""

    default_message = N_("Two-factor authentication is not enabled.")


class MfaAlreadyEnabledError(ConflictError):
    default_message = N_("Two-factor authentication is already enabled.")


class StaffMfaRequiredError(MfaRequiredError):
    """Staff routes require a session that passed TOTP."""

    default_message = N_("Staff must sign in with two-factor authentication.")
