"""Ports: what the use-cases need from the outside world, as ``typing.Protocol``s.

Adapters in ``balcao.adapters`` implement them; handlers (and the devstack) construct adapters and pass them in;
tests pass fakes. Each capability adds the ports it needs here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from balcao.domain.accounts import AccountProfile, Membership
from balcao.domain.audit import AuditEntry
from balcao.domain.email import OutgoingEmail
from balcao.domain.identity import Session, User
from balcao.domain.provisioning import AccountStatus, ProvisionedAccount, ProvisioningRequest


class Clock(Protocol):
    """Business time: due dates, jobs, workflow waits, quotes, expiry of codes, invitations and sessions.

    Locally the devstack moves it forward; deployed it is wall time.
    """

    def now(self) -> datetime:
        """The current instant, timezone-aware (UTC)."""
        ...


class SettingsStore(Protocol):
    """Company settings persisted as one document with a version."""

    def load(self) -> tuple[dict[str, Any], int]:
        """The stored settings document (``{}`` when none was saved yet) and its version (0 when none)."""
        ...

    def save(self, document: Mapping[str, Any], expected_version: int) -> int:
        """Save if the stored version is still ``expected_version``; return the new version.

        Raises ``ConflictError`` when another change was saved in between.
        """
        ...


class AuditLog(Protocol):
    """Append-only record of who did what, when and from where."""

    def record(self, entry: AuditEntry) -> None: ...


class Mailer(Protocol):
    """Sends one rendered email (HTML and text parts, attachments); returns the provider's message id."""

    def send(self, message: OutgoingEmail) -> str: ...


class Provisioner(Protocol):
    """A hosting control panel (cPanel/WHM, or the simulated one) acting on one hosting account.

    Every method is idempotent from the caller's point of view: creating an account that already exists with the
    same username, suspending a suspended account or terminating a removed one succeed without change. Failures
    raise ``ProvisioningError`` (retryable or not, see ``balcao.domain.provisioning``).
    """

    def create(self, request: ProvisioningRequest) -> ProvisionedAccount: ...

    def suspend(self, username: str, reason: str) -> None: ...

    def unsuspend(self, username: str) -> None: ...

    def terminate(self, username: str) -> None: ...

    def change_package(self, username: str, package: str) -> None: ...

    def change_password(self, username: str, password: str) -> None: ...

    def sso_url(self, username: str, service: str = "cpaneld") -> str: ...

    def status(self, username: str) -> AccountStatus: ...


@dataclass
class AccessRead:
    """What the principal loader read in its one call."""

    session: Session | None = None
    membership: Membership | None = None
    account: AccountProfile | None = None
    user: User | None = None


class AccessReader(Protocol):
    def load(
        self,
        session_key: str,
        user_id: str,
        account_id: str | None,
        *,
        with_account: bool = False,
        with_user: bool = False,
    ) -> AccessRead:
        """The session record and, as asked, the membership, the account's profile and the user — in one read."""
        ...
