"""What a control panel is asked to do and what it answers (the ``Provisioner`` port's vocabulary)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from balcao.domain.errors import N_, ProviderUnavailableError


@dataclass(frozen=True, slots=True)
class ProvisioningRequest:
    username: str
    domain: str
    package: str
    contact_email: str
    password: str


@dataclass(frozen=True, slots=True)
class ProvisionedAccount:
    username: str
    domain: str
    server: str
    ip: str | None = None


class LiveState(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    MISSING = "missing"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class AccountStatus:
    state: LiveState
    disk_used_mb: int | None = None
    disk_limit_mb: int | None = None
    bandwidth_used_mb: int | None = None
    suspended_reason: str | None = None


class ProvisioningError(ProviderUnavailableError):
    """The control panel refused or failed an action. ``retryable``: a later attempt may succeed."""

    default_message = N_("The hosting control panel did not complete the action. We will retry.")
    refused_message = N_("The hosting control panel refused the action. Our team has been told.")

    def __init__(self, detail: str, *, retryable: bool, message: str | None = None) -> None:
        super().__init__(message or (self.default_message if retryable else self.refused_message))
        self.detail = detail
        self.retryable = retryable
