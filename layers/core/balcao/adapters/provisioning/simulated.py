"""The simulated control panel behind the ``Provisioner`` port, for the devstack, demos and tests.

One in-memory panel per process: accounts live in a module-level dict guarded by a lock, so every instance in
the process sees the same accounts. The semantics follow the WHM adapter (``balcao.adapters.provisioning.whm``):
creating an account that exists for the same domain, suspending a suspended account, unsuspending an active one
and terminating a missing one succeed without change; acting on a missing account or creating a username (or a
domain) that another account holds is refused with a non-retryable ``ProvisioningError``, and so is single
sign-on into a suspended account (WHM's ``create_user_session`` refuses it too).

Defaults answer in 20 ms and never fail: the devstack's "payment webhook → service unsuspended" budget assumes
it. Latency, deterministic failures (``fail_actions``) and random failures (``failure_rate``, drawn from a
seedable ``random.Random``) are opt-in; an injected failure is a retryable ``ProvisioningError`` raised before
the panel changes. Every call, failed or not, is appended to a process-wide log that ``simulated_calls()``
returns, so tests can assert the exact sequence of provisioning calls.
"""

from __future__ import annotations

import random
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from urllib.parse import quote

from balcao.domain.provisioning import (
    AccountStatus,
    LiveState,
    ProvisionedAccount,
    ProvisioningError,
    ProvisioningRequest,
)

ACTIONS = frozenset(
    {"create", "suspend", "unsuspend", "terminate", "change_package", "change_password", "sso_url", "status"}
)
SIMULATED_SERVER = "simulated-panel"
SIMULATED_IP = "192.0.2.10"


@dataclass(frozen=True, slots=True)
class SimulatedAccount:
    """One account of the simulated panel (passwords are not kept)."""

    username: str
    domain: str
    package: str
    contact_email: str
    suspended: bool = False
    suspended_reason: str | None = None


_panel_lock = threading.Lock()
_accounts: dict[str, SimulatedAccount] = {}
_calls: list[tuple[str, str]] = []


def simulated_calls() -> list[tuple[str, str]]:
    """Every call made to the simulated panel in this process, in order, as ``(action, username)``."""
    with _panel_lock:
        return list(_calls)


def simulated_account(username: str) -> SimulatedAccount | None:
    """The simulated panel's account named ``username``, or ``None``."""
    with _panel_lock:
        return _accounts.get(username)


def reset_simulated_panel() -> None:
    """Forget every account and call (tests start from an empty panel)."""
    with _panel_lock:
        _accounts.clear()
        _calls.clear()


class SimulatedProvisioner:
    """The ``Provisioner`` port over the process-wide simulated panel."""

    def __init__(
        self,
        *,
        latency_seconds: float = 0.02,
        failure_rate: float = 0.0,
        fail_actions: frozenset[str] = frozenset(),
        sleep: Callable[[float], None] = time.sleep,
        sso_base_url: str = "http://127.0.0.1:8000",
        rng: random.Random | None = None,
    ) -> None:
        if latency_seconds < 0:
            raise ValueError("latency_seconds must be zero or more")
        if not 0.0 <= failure_rate <= 1.0:
            raise ValueError("failure_rate must be between 0 and 1")
        unknown_actions = fail_actions - ACTIONS
        if unknown_actions:
            raise ValueError(f"unknown provisioning actions: {', '.join(sorted(unknown_actions))}")
        self._latency_seconds = latency_seconds
        self._failure_rate = failure_rate
        self._fail_actions = fail_actions
        self._sleep = sleep
        self._sso_base_url = sso_base_url.rstrip("/")
        self._rng = rng if rng is not None else random.Random()  # noqa: S311 - failure injection, not cryptography

    def create(self, request: ProvisioningRequest) -> ProvisionedAccount:
        self._enter("create", request.username)
        with _panel_lock:
            existing = _accounts.get(request.username)
            if existing is not None:
                if existing.domain != request.domain.lower():
                    raise ProvisioningError(
                        f"the simulated panel already has an account named {request.username} "
                        f"for another domain ({existing.domain})",
                        retryable=False,
                    )
                return _provisioned(existing)
            if any(account.domain == request.domain.lower() for account in _accounts.values()):
                raise ProvisioningError(
                    f"the domain {request.domain} belongs to another account of the simulated panel", retryable=False
                )
            account = SimulatedAccount(
                username=request.username,
                domain=request.domain.lower(),
                package=request.package,
                contact_email=request.contact_email,
            )
            _accounts[request.username] = account
        return _provisioned(account)

    def suspend(self, username: str, reason: str) -> None:
        self._enter("suspend", username)
        with _panel_lock:
            account = _existing(username)
            if not account.suspended:
                _accounts[username] = replace(account, suspended=True, suspended_reason=reason)

    def unsuspend(self, username: str) -> None:
        self._enter("unsuspend", username)
        with _panel_lock:
            account = _existing(username)
            if account.suspended:
                _accounts[username] = replace(account, suspended=False, suspended_reason=None)

    def terminate(self, username: str) -> None:
        self._enter("terminate", username)
        with _panel_lock:
            _accounts.pop(username, None)

    def change_package(self, username: str, package: str) -> None:
        self._enter("change_package", username)
        with _panel_lock:
            _accounts[username] = replace(_existing(username), package=package)

    def change_password(self, username: str, password: str) -> None:
        self._enter("change_password", username)
        if not password:
            raise ProvisioningError("the simulated panel refuses an empty password", retryable=False)
        with _panel_lock:
            _existing(username)

    def sso_url(self, username: str, service: str = "cpaneld") -> str:
        self._enter("sso_url", username)
        with _panel_lock:
            if _existing(username).suspended:
                raise ProvisioningError(
                    f"the simulated panel cannot open a {service} session for the suspended account {username}",
                    retryable=False,
                )
        return f"{self._sso_base_url}/_dev/cpanel/{quote(username, safe='')}?session={secrets.token_urlsafe(24)}"

    def status(self, username: str) -> AccountStatus:
        self._enter("status", username)
        with _panel_lock:
            account = _accounts.get(username)
        if account is None:
            return AccountStatus(state=LiveState.MISSING)
        return AccountStatus(
            state=LiveState.SUSPENDED if account.suspended else LiveState.ACTIVE,
            disk_used_mb=0,
            disk_limit_mb=None,
            bandwidth_used_mb=0,
            suspended_reason=account.suspended_reason,
        )

    def _enter(self, action: str, username: str) -> None:
        """Record the call, wait the configured latency, then raise the injected failure if one is due."""
        with _panel_lock:
            _calls.append((action, username))
            fails = action in self._fail_actions or (self._failure_rate > 0 and self._rng.random() < self._failure_rate)
        if self._latency_seconds > 0:
            self._sleep(self._latency_seconds)
        if fails:
            raise ProvisioningError(f"simulated failure of {action} for {username}", retryable=True)


def _existing(username: str) -> SimulatedAccount:
    """The account named ``username``; the caller holds the panel lock."""
    account = _accounts.get(username)
    if account is None:
        raise ProvisioningError(f"the simulated panel has no account named {username}", retryable=False)
    return account


def _provisioned(account: SimulatedAccount) -> ProvisionedAccount:
    return ProvisionedAccount(
        username=account.username, domain=account.domain, server=SIMULATED_SERVER, ip=SIMULATED_IP
    )
