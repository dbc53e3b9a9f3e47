"""``Provisioner`` over cPanel & WHM's JSON API (WHM API 1), authenticated with a WHM API token.

Sources (api.docs.cpanel.net, "WHM API 1" and "API Tokens in WHM"):

- Authentication: ``Authorization: whm <user>:<token>`` over HTTPS (port 2087).
- Calls: ``GET {base_url}/json-api/<function>?api.version=1&<parameters>``. Every answer carries
  ``metadata.result`` (1 succeeded, 0 failed) and ``metadata.reason``; a rejected token is an HTTP 401/403.
- ``createacct`` (username, domain, plan, contactemail, password → ``data.ip``), ``suspendacct`` (user, reason),
  ``unsuspendacct`` (user), ``removeacct`` (username), ``changepackage`` (user, pkg), ``passwd`` (user, password),
  ``create_user_session`` (user, service → ``data.url``), ``accountsummary`` (user → ``data.acct[0]`` with
  ``domain``, ``ip``, ``suspended``, ``suspendreason``, ``diskused`` such as ``"14M"`` and ``disklimit`` such as
  ``"unlimited"`` or ``"1024M"``; an unknown user answers ``metadata.result = 0`` with "Account does not exist.").

Idempotency: WHM refuses with generic reasons ("Failed to suspend account."), so after a refusal the adapter
reads ``accountsummary`` and succeeds when the account already is in the wanted state.

Retries: timeouts, connection failures and HTTP 5xx (and 429) are retried ``retries`` times with exponential
backoff, then raise a retryable ``ProvisioningError``; every other failure is raised at once.

Secrets: the token travels only in the Authorization header and passwords only as request parameters. Neither,
nor the request URL nor the single sign-on URL, is logged or put into an error (details are also redacted).
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlencode, urlsplit

from balcao.domain.provisioning import (
    AccountStatus,
    LiveState,
    ProvisionedAccount,
    ProvisioningError,
    ProvisioningRequest,
)

if TYPE_CHECKING:
    import urllib3

logger = logging.getLogger(__name__)

BACKOFF_BASE_SECONDS = 0.5
_AUTH_FAILURE_STATUSES = frozenset({401, 403})
_MISSING_ACCOUNT_REASON = "does not exist"
_MEGABYTES = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*M?\s*$", re.IGNORECASE)
_REDACTED = "[redacted]"


class WhmTransport(Protocol):
    """Sends one HTTP request and returns ``(status, body)``.

    Raises ``TimeoutError`` when no answer arrives within ``timeout`` seconds and ``ConnectionError`` when none
    can arrive (refused, reset, TLS failure). Exception messages never contain the URL.
    """

    def request(self, method: str, url: str, headers: Mapping[str, str], timeout: float) -> tuple[int, bytes]: ...


_shared_pool: urllib3.PoolManager | None = None
_shared_pool_lock = threading.Lock()


def _process_pool() -> urllib3.PoolManager:
    """One connection pool per process, created on first use (most Lambda invocations never call WHM)."""
    global _shared_pool
    with _shared_pool_lock:
        if _shared_pool is None:
            import urllib3

            _shared_pool = urllib3.PoolManager(retries=False)
        return _shared_pool


class Urllib3Transport:
    """The default transport: certificates verified, no redirects and no retries of its own."""

    def __init__(self, pool: urllib3.PoolManager | None = None) -> None:
        self._pool = pool

    def request(self, method: str, url: str, headers: Mapping[str, str], timeout: float) -> tuple[int, bytes]:
        import urllib3

        pool = self._pool if self._pool is not None else _process_pool()
        try:
            response = pool.request(
                method,
                url,
                headers=dict(headers),
                timeout=urllib3.Timeout(total=timeout),
                retries=False,
                redirect=False,
            )
        except urllib3.exceptions.NewConnectionError:
            raise ConnectionError("could not connect to WHM") from None
        except urllib3.exceptions.TimeoutError:
            raise TimeoutError("WHM did not answer in time") from None
        except urllib3.exceptions.HTTPError as error:
            raise ConnectionError(f"the connection to WHM failed ({type(error).__name__})") from None
        return response.status, response.data


@dataclass(frozen=True, slots=True)
class _Answer:
    """One decoded WHM API 1 answer."""

    function: str
    succeeded: bool
    reason: str
    data: dict[str, Any] = field(default_factory=dict)


class WhmProvisioner:
    """cPanel/WHM behind the ``Provisioner`` port; ``username`` is the WHM user that owns ``api_token``."""

    def __init__(
        self,
        base_url: str,
        api_token: str,
        *,
        username: str = "root",
        timeout_seconds: float = 10.0,
        retries: int = 2,
        transport: WhmTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if retries < 0:
            raise ValueError("retries must be zero or more")
        if timeout_seconds <= 0:
            raise ValueError("timeout_seconds must be positive")
        self._base_url = base_url.rstrip("/")
        self._server = urlsplit(self._base_url).hostname or self._base_url
        self._api_token = api_token
        self._authorization = f"whm {username}:{api_token}"
        self._timeout_seconds = timeout_seconds
        self._retries = retries
        self._transport: WhmTransport = transport or Urllib3Transport()
        self._sleep = sleep

    def __repr__(self) -> str:
        return f"WhmProvisioner(server={self._server!r})"

    def create(self, request: ProvisioningRequest) -> ProvisionedAccount:
        answer = self._call(
            "createacct",
            {
                "username": request.username,
                "domain": request.domain,
                "plan": request.package,
                "contactemail": request.contact_email,
                "password": request.password,
            },
        )
        if answer.succeeded:
            return self._provisioned(request.username, request.domain, answer.data.get("ip"))
        existing = self._summary(request.username)
        if existing is None:
            raise self._refusal(answer, request.password)
        existing_domain = str(existing.get("domain") or "")
        if existing_domain.lower() != request.domain.lower():
            raise ProvisioningError(
                f"WHM already has an account named {request.username} for another domain ({existing_domain})",
                retryable=False,
            )
        return self._provisioned(request.username, request.domain, existing.get("ip"))

    def suspend(self, username: str, reason: str) -> None:
        answer = self._call("suspendacct", {"user": username, "reason": reason})
        if answer.succeeded or self._live_state(username) is LiveState.SUSPENDED:
            return
        raise self._refusal(answer)

    def unsuspend(self, username: str) -> None:
        answer = self._call("unsuspendacct", {"user": username})
        if answer.succeeded or self._live_state(username) is LiveState.ACTIVE:
            return
        raise self._refusal(answer)

    def terminate(self, username: str) -> None:
        answer = self._call("removeacct", {"username": username})
        if answer.succeeded or self._live_state(username) is LiveState.MISSING:
            return
        raise self._refusal(answer)

    def change_package(self, username: str, package: str) -> None:
        answer = self._call("changepackage", {"user": username, "pkg": package})
        if not answer.succeeded:
            raise self._refusal(answer)

    def change_password(self, username: str, password: str) -> None:
        answer = self._call("passwd", {"user": username, "password": password})
        if not answer.succeeded:
            raise self._refusal(answer, password)

    def sso_url(self, username: str, service: str = "cpaneld") -> str:
        answer = self._call("create_user_session", {"user": username, "service": service})
        if not answer.succeeded:
            raise self._refusal(answer)
        url = answer.data.get("url")
        if not isinstance(url, str) or not url:
            raise ProvisioningError("WHM create_user_session answered without a session URL", retryable=True)
        return url

    def status(self, username: str) -> AccountStatus:
        account = self._summary(username)
        if account is None:
            return AccountStatus(state=LiveState.MISSING)
        suspended = _is_one(account.get("suspended"))
        reason = account.get("suspendreason")
        return AccountStatus(
            state=LiveState.SUSPENDED if suspended else LiveState.ACTIVE,
            disk_used_mb=_megabytes(account.get("diskused")),
            disk_limit_mb=_megabytes(account.get("disklimit")),
            suspended_reason=str(reason) if suspended and reason else None,
        )

    def _live_state(self, username: str) -> LiveState:
        account = self._summary(username)
        if account is None:
            return LiveState.MISSING
        return LiveState.SUSPENDED if _is_one(account.get("suspended")) else LiveState.ACTIVE

    def _summary(self, username: str) -> dict[str, Any] | None:
        """The account's ``accountsummary`` entry, or ``None`` when WHM has no such account."""
        answer = self._call("accountsummary", {"user": username})
        if not answer.succeeded:
            if _MISSING_ACCOUNT_REASON in answer.reason.lower():
                return None
            raise self._refusal(answer)
        accounts = answer.data.get("acct")
        if not isinstance(accounts, list) or not accounts or not isinstance(accounts[0], dict):
            raise ProvisioningError("WHM accountsummary answered without account data", retryable=True)
        return accounts[0]

    def _provisioned(self, username: str, domain: str, ip: object) -> ProvisionedAccount:
        return ProvisionedAccount(
            username=username,
            domain=domain,
            server=self._server,
            ip=ip if isinstance(ip, str) and ip else None,
        )

    def _call(self, function: str, parameters: Mapping[str, str]) -> _Answer:
        """One WHM API 1 call, retried on timeouts, connection failures, HTTP 5xx and 429."""
        url = f"{self._base_url}/json-api/{function}?{urlencode({'api.version': '1', **parameters})}"
        headers = {"Authorization": self._authorization, "Accept": "application/json"}
        attempts = self._retries + 1
        failure = ""
        for attempt in range(attempts):
            try:
                status, body = self._transport.request("GET", url, headers, self._timeout_seconds)
            except TimeoutError:
                failure = f"no answer within {self._timeout_seconds:g} s"
            except ConnectionError as error:
                failure = f"connection failed ({type(error).__name__})"
            else:
                if status == 200:
                    return _decode(function, body)
                if status in _AUTH_FAILURE_STATUSES:
                    raise ProvisioningError(
                        f"WHM rejected the API token on {function} (HTTP {status})", retryable=False
                    )
                if status < 500 and status != 429:
                    raise ProvisioningError(f"WHM {function} answered HTTP {status}", retryable=False)
                failure = f"HTTP {status}"
            if attempt < self._retries:
                delay = BACKOFF_BASE_SECONDS * 2**attempt
                logger.warning(
                    "WHM %s attempt %d of %d failed (%s); retrying in %g s",
                    function,
                    attempt + 1,
                    attempts,
                    failure,
                    delay,
                )
                self._sleep(delay)
        raise ProvisioningError(f"WHM {function} failed after {attempts} attempts: {failure}", retryable=True)

    def _refusal(self, answer: _Answer, *secrets: str) -> ProvisioningError:
        detail = f"WHM {answer.function} refused: {answer.reason or 'no reason given'}"
        for secret in (self._api_token, *secrets):
            if secret:
                detail = detail.replace(secret, _REDACTED)
        return ProvisioningError(detail, retryable=False)


def _decode(function: str, body: bytes) -> _Answer:
    try:
        document = json.loads(body)
    except ValueError:
        raise ProvisioningError(f"WHM {function} answered with malformed JSON", retryable=True) from None
    metadata = document.get("metadata") if isinstance(document, dict) else None
    if not isinstance(metadata, dict) or "result" not in metadata:
        raise ProvisioningError(f"WHM {function} answered without metadata.result", retryable=True)
    data = document.get("data")
    return _Answer(
        function=function,
        succeeded=_is_one(metadata["result"]),
        reason=str(metadata.get("reason") or ""),
        data=data if isinstance(data, dict) else {},
    )


def _is_one(value: object) -> bool:
    """WHM flags are ``1``/``0``, sometimes as strings."""
    return str(value).strip() == "1"


def _megabytes(value: object) -> int | None:
    """``"14M"`` → 14; ``"unlimited"`` (or anything unparseable) → ``None``."""
    match = _MEGABYTES.match(str(value)) if value is not None else None
    return round(float(match.group(1))) if match else None
