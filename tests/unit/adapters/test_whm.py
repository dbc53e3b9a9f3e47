"""WhmProvisioner against recorded WHM API 1 answers (tests/fixtures/whm), replayed by a fake transport."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import urllib3

from balcao.adapters.provisioning.whm import Urllib3Transport, WhmProvisioner
from balcao.domain.provisioning import (
    AccountStatus,
    LiveState,
    ProvisionedAccount,
    ProvisioningError,
    ProvisioningRequest,
)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "whm"
BASE_URL = "https://whm.example.net:2087"
API_TOKEN = "U7HMR63FGY292DQZ4H5BFH16JLYMO01M"
PASSWORD = "Pao-de-Queijo#2025!"
USERNAME = "padaria1"
DOMAIN = "padaria-exemplo.com.br"
REQUEST = ProvisioningRequest(
    username=USERNAME,
    domain=DOMAIN,
    package="hospedagem_basica",
    contact_email="contato@padaria-exemplo.com.br",
    password=PASSWORD,
)


def recorded(name: str, status: int = 200) -> tuple[int, bytes]:
    """A recorded WHM answer: the fixture's bytes as WHM sent them."""
    return status, (FIXTURES / f"{name}.json").read_bytes()


@dataclass(frozen=True)
class SentRequest:
    method: str
    url: str
    headers: dict[str, str]
    timeout: float

    @property
    def function(self) -> str:
        return urlsplit(self.url).path.rsplit("/", 1)[-1]

    @property
    def parameters(self) -> dict[str, str]:
        return dict(parse_qsl(urlsplit(self.url).query))


class ReplayTransport:
    """Answers each request with the next scripted outcome: ``(status, body)`` or an exception to raise."""

    def __init__(self, *outcomes: tuple[int, bytes] | BaseException) -> None:
        self._outcomes = list(outcomes)
        self.sent: list[SentRequest] = []

    def request(self, method: str, url: str, headers: Any, timeout: float) -> tuple[int, bytes]:
        self.sent.append(SentRequest(method, url, dict(headers), timeout))
        outcome = self._outcomes.pop(0)
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    @property
    def functions(self) -> list[str]:
        return [request.function for request in self.sent]


def whm(transport: ReplayTransport, **options: Any) -> tuple[WhmProvisioner, list[float]]:
    """A provisioner over ``transport`` whose backoff sleeps are recorded instead of slept."""
    sleeps: list[float] = []
    return WhmProvisioner(BASE_URL, API_TOKEN, transport=transport, sleep=sleeps.append, **options), sleeps


def assert_free_of_secrets(text: str) -> None:
    assert API_TOKEN not in text
    assert PASSWORD not in text


# --- every action, answered with success -------------------------------------------------------------------


def test_create_calls_createacct_with_the_token_header_and_returns_the_new_account():
    # Given WHM accepts the new account
    transport = ReplayTransport(recorded("createacct_success"))
    provisioner, _ = whm(transport)

    # When the account is created
    account = provisioner.create(REQUEST)

    # Then one authenticated GET reached /json-api/createacct with API version 1 and the request's fields
    (sent,) = transport.sent
    assert sent.method == "GET"
    assert sent.url.startswith(f"{BASE_URL}/json-api/createacct?api.version=1&")
    assert sent.headers["Authorization"] == f"whm root:{API_TOKEN}"
    assert sent.timeout == 10.0
    assert sent.parameters == {
        "api.version": "1",
        "username": USERNAME,
        "domain": DOMAIN,
        "plan": "hospedagem_basica",
        "contactemail": "contato@padaria-exemplo.com.br",
        "password": PASSWORD,
    }
    # And the account names the WHM server and the IP WHM assigned
    assert account == ProvisionedAccount(username=USERNAME, domain=DOMAIN, server="whm.example.net", ip="203.0.113.25")


@pytest.mark.parametrize(
    ("action", "fixture", "function", "parameters"),
    [
        (
            lambda p: p.suspend(USERNAME, "Invoice 2025-0042 overdue"),
            "suspendacct_success",
            "suspendacct",
            {"user": USERNAME, "reason": "Invoice 2025-0042 overdue"},
        ),
        (lambda p: p.unsuspend(USERNAME), "unsuspendacct_success", "unsuspendacct", {"user": USERNAME}),
        (lambda p: p.terminate(USERNAME), "removeacct_success", "removeacct", {"username": USERNAME}),
        (
            lambda p: p.change_package(USERNAME, "hospedagem_pro"),
            "changepackage_success",
            "changepackage",
            {"user": USERNAME, "pkg": "hospedagem_pro"},
        ),
        (
            lambda p: p.change_password(USERNAME, PASSWORD),
            "passwd_success",
            "passwd",
            {"user": USERNAME, "password": PASSWORD},
        ),
    ],
    ids=["suspend", "unsuspend", "terminate", "change_package", "change_password"],
)
def test_each_account_action_calls_its_whm_function_once(
    action: Callable[[WhmProvisioner], None], fixture: str, function: str, parameters: dict[str, str]
):
    # Given WHM accepts the action
    transport = ReplayTransport(recorded(fixture))
    provisioner, sleeps = whm(transport)

    # When the action runs
    action(provisioner)

    # Then exactly one call reached the WHM function with the documented parameters, and nothing was retried
    assert transport.functions == [function]
    assert transport.sent[0].parameters == {"api.version": "1", **parameters}
    assert sleeps == []


def test_sso_url_returns_the_session_url_of_create_user_session():
    # Given WHM creates a cPanel session
    transport = ReplayTransport(recorded("create_user_session_success"))
    provisioner, _ = whm(transport)

    # When a single sign-on URL is asked for
    url = provisioner.sso_url(USERNAME)

    # Then the cpaneld session's login URL comes back as WHM gave it
    assert url == (
        "https://hostname.example.net:2083/cpsess4213516237/login/"
        "?session=padaria1%3aOSBWqwNrc4hgF7bR%3aCREATE_USER_SESSION%2c5b0da0b0f3b1b2c1a6e9d6f1f1b7c5d2"
    )
    assert transport.sent[0].parameters == {"api.version": "1", "user": USERNAME, "service": "cpaneld"}


@pytest.mark.parametrize(
    ("fixture", "expected"),
    [
        ("accountsummary_active", AccountStatus(state=LiveState.ACTIVE, disk_used_mb=312, disk_limit_mb=5120)),
        (
            "accountsummary_suspended",
            AccountStatus(
                state=LiveState.SUSPENDED,
                disk_used_mb=312,
                disk_limit_mb=5120,
                suspended_reason="Fatura 2025-0042 em atraso",
            ),
        ),
        ("accountsummary_other_domain", AccountStatus(state=LiveState.ACTIVE, disk_used_mb=14, disk_limit_mb=None)),
        ("accountsummary_missing", AccountStatus(state=LiveState.MISSING)),
    ],
    ids=["active", "suspended", "unlimited-disk", "missing"],
)
def test_status_maps_accountsummary(fixture: str, expected: AccountStatus):
    # Given WHM's summary of the account
    transport = ReplayTransport(recorded(fixture))
    provisioner, _ = whm(transport)

    # When its live status is read
    status = provisioner.status(USERNAME)

    # Then the suspended flag, the reason and the disk figures (MB, "unlimited" = no limit) are mapped
    assert status == expected
    assert transport.sent[0].parameters == {"api.version": "1", "user": USERNAME}


def test_a_reseller_token_authenticates_as_its_own_user_with_its_own_timeout():
    # Given a provisioner configured for a reseller's token and a shorter timeout
    transport = ReplayTransport(recorded("suspendacct_success"))
    provisioner, _ = whm(transport, username="revenda", timeout_seconds=4.0)

    # When it calls WHM
    provisioner.suspend(USERNAME, "Abuse report")

    # Then the header names the reseller and the transport gets the timeout
    assert transport.sent[0].headers["Authorization"] == f"whm revenda:{API_TOKEN}"
    assert transport.sent[0].timeout == 4.0


# --- authentication, retries and malformed answers ----------------------------------------------------------


@pytest.mark.parametrize("status", [401, 403])
def test_a_rejected_token_fails_at_once_without_retrying_and_without_the_token(status: int):
    # Given WHM rejects the API token
    transport = ReplayTransport(recorded("access_denied", status=status))
    provisioner, sleeps = whm(transport)

    # When an action is attempted
    with pytest.raises(ProvisioningError) as raised:
        provisioner.change_password(USERNAME, PASSWORD)

    # Then the error is final, names the HTTP status, and holds neither the token nor the password
    assert raised.value.retryable is False
    assert f"HTTP {status}" in raised.value.detail
    assert_free_of_secrets(f"{raised.value.detail} {raised.value} {raised.value!r}")
    assert len(transport.sent) == 1
    assert sleeps == []


def test_a_timeout_is_retried_after_a_backoff_and_the_retry_succeeds():
    # Given the first attempt times out and the second is answered
    transport = ReplayTransport(TimeoutError("read timed out"), recorded("suspendacct_success"))
    provisioner, sleeps = whm(transport)

    # When the account is suspended
    provisioner.suspend(USERNAME, "Invoice overdue")

    # Then the same call was sent twice, with one short backoff in between
    assert transport.functions == ["suspendacct", "suspendacct"]
    assert transport.sent[0].url == transport.sent[1].url
    assert sleeps == [0.5]


def test_a_timeout_on_every_attempt_raises_a_retryable_error_after_exponential_backoff():
    # Given WHM never answers in time
    transport = ReplayTransport(TimeoutError(), TimeoutError(), TimeoutError())
    provisioner, sleeps = whm(transport)

    # When an action is attempted
    with pytest.raises(ProvisioningError) as raised:
        provisioner.unsuspend(USERNAME)

    # Then the first attempt and its two retries were made, backing off 0.5 s then 1 s, and a later try may work
    assert transport.functions == ["unsuspendacct"] * 3
    assert sleeps == [0.5, 1.0]
    assert raised.value.retryable is True
    assert "3 attempts" in raised.value.detail


def test_a_server_error_is_retried_and_the_retry_succeeds():
    # Given WHM answers 503 once, then succeeds
    transport = ReplayTransport((503, b"<html>Service Unavailable</html>"), recorded("removeacct_success"))
    provisioner, sleeps = whm(transport)

    # When the account is terminated
    provisioner.terminate(USERNAME)

    # Then the call was repeated once after a backoff
    assert transport.functions == ["removeacct", "removeacct"]
    assert sleeps == [0.5]


def test_server_errors_and_connection_failures_on_every_attempt_raise_a_retryable_error():
    # Given WHM fails with 500, then a refused connection, then 502
    transport = ReplayTransport((500, b""), ConnectionRefusedError("refused"), (502, b"Bad Gateway"))
    provisioner, _ = whm(transport)

    # When the status is read
    with pytest.raises(ProvisioningError) as raised:
        provisioner.status(USERNAME)

    # Then the error is retryable and reports the last failure
    assert raised.value.retryable is True
    assert "HTTP 502" in raised.value.detail


def test_no_retries_means_a_single_attempt():
    # Given a provisioner that must not retry
    transport = ReplayTransport(TimeoutError())
    provisioner, sleeps = whm(transport, retries=0)

    # When the attempt times out
    with pytest.raises(ProvisioningError) as raised:
        provisioner.status(USERNAME)

    # Then it is reported at once as retryable
    assert raised.value.retryable is True
    assert len(transport.sent) == 1
    assert sleeps == []


def test_an_unexpected_client_error_status_is_final():
    # Given WHM answers 404 (a function this server does not know)
    transport = ReplayTransport((404, b"Not Found"))
    provisioner, sleeps = whm(transport)

    # When an action is attempted
    with pytest.raises(ProvisioningError) as raised:
        provisioner.change_package(USERNAME, "hospedagem_pro")

    # Then it is not retried
    assert raised.value.retryable is False
    assert "HTTP 404" in raised.value.detail
    assert sleeps == []


@pytest.mark.parametrize(
    "body",
    [b"<html><body>cPanel is restarting</body></html>", b'{"metadata": {"command": "passwd"', b'{"data": {}}', b"[]"],
    ids=["html", "truncated-json", "no-metadata", "not-an-object"],
)
def test_a_malformed_answer_is_a_retryable_error(body: bytes):
    # Given WHM answers 200 with something that is not a WHM API 1 document
    transport = ReplayTransport((200, body))
    provisioner, _ = whm(transport)

    # When the password is changed
    with pytest.raises(ProvisioningError) as raised:
        provisioner.change_password(USERNAME, PASSWORD)

    # Then a later attempt may succeed, and the error holds no secret
    assert raised.value.retryable is True
    assert_free_of_secrets(raised.value.detail)


def test_a_session_answer_without_url_is_a_retryable_error():
    # Given create_user_session succeeds but carries no URL
    transport = ReplayTransport((200, b'{"data": {}, "metadata": {"result": 1, "reason": "Created session"}}'))
    provisioner, _ = whm(transport)

    # When a single sign-on URL is asked for
    with pytest.raises(ProvisioningError) as raised:
        provisioner.sso_url(USERNAME)

    # Then the caller may try again
    assert raised.value.retryable is True


# --- refusals and idempotency --------------------------------------------------------------------------------


def test_creating_an_existing_account_for_the_same_domain_succeeds():
    # Given WHM already has the account (an earlier attempt created it) for the same domain
    transport = ReplayTransport(recorded("createacct_username_taken"), recorded("accountsummary_active"))
    provisioner, _ = whm(transport)

    # When the account is created again
    account = provisioner.create(REQUEST)

    # Then WHM's summary confirmed it and the existing account is returned
    assert transport.functions == ["createacct", "accountsummary"]
    assert account == ProvisionedAccount(username=USERNAME, domain=DOMAIN, server="whm.example.net", ip="203.0.113.25")


def test_creating_a_username_that_another_domain_holds_is_refused():
    # Given WHM has an account with this username for another domain
    transport = ReplayTransport(recorded("createacct_username_taken"), recorded("accountsummary_other_domain"))
    provisioner, _ = whm(transport)

    # When the account is created
    with pytest.raises(ProvisioningError) as raised:
        provisioner.create(REQUEST)

    # Then the refusal is final and names the other domain
    assert raised.value.retryable is False
    assert "outro-cliente.com.br" in raised.value.detail


def test_a_refused_creation_of_a_missing_account_reports_whms_reason_without_the_password():
    # Given WHM refuses the password and has no such account
    transport = ReplayTransport(recorded("createacct_weak_password"), recorded("accountsummary_missing"))
    provisioner, _ = whm(transport)

    # When the account is created
    with pytest.raises(ProvisioningError) as raised:
        provisioner.create(REQUEST)

    # Then WHM's reason is reported as final, free of secrets
    assert raised.value.retryable is False
    assert "too weak" in raised.value.detail
    assert_free_of_secrets(f"{raised.value.detail} {raised.value!r}")


def test_suspending_a_suspended_account_succeeds():
    # Given WHM refuses the suspension because the account already is suspended
    transport = ReplayTransport(recorded("suspendacct_failure"), recorded("accountsummary_suspended"))
    provisioner, _ = whm(transport)

    # When the account is suspended
    provisioner.suspend(USERNAME, "Invoice overdue")

    # Then the summary confirmed the wanted state and no error is raised
    assert transport.functions == ["suspendacct", "accountsummary"]


def test_a_refused_suspension_of_an_active_account_is_an_error():
    # Given WHM refuses the suspension and the account still is active
    transport = ReplayTransport(recorded("suspendacct_failure"), recorded("accountsummary_active"))
    provisioner, _ = whm(transport)

    # When the account is suspended
    with pytest.raises(ProvisioningError) as raised:
        provisioner.suspend(USERNAME, "Invoice overdue")

    # Then WHM's reason is a final error
    assert raised.value.retryable is False
    assert raised.value.detail == "WHM suspendacct refused: Failed to suspend account."


def test_unsuspending_an_active_account_succeeds():
    # Given WHM refuses the unsuspension because the account is active
    transport = ReplayTransport(recorded("unsuspendacct_failure"), recorded("accountsummary_active"))
    provisioner, _ = whm(transport)

    # When the account is unsuspended
    provisioner.unsuspend(USERNAME)

    # Then the summary confirmed the wanted state
    assert transport.functions == ["unsuspendacct", "accountsummary"]


def test_terminating_a_missing_account_succeeds():
    # Given WHM has no such user any more
    transport = ReplayTransport(recorded("removeacct_missing_user"), recorded("accountsummary_missing"))
    provisioner, _ = whm(transport)

    # When the account is terminated
    provisioner.terminate(USERNAME)

    # Then the summary confirmed it is gone
    assert transport.functions == ["removeacct", "accountsummary"]


@pytest.mark.parametrize(
    ("action", "fixture", "reason"),
    [
        (lambda p: p.change_package(USERNAME, "ouro"), "changepackage_unknown_package", "Specified package"),
        (lambda p: p.sso_url(USERNAME), "create_user_session_suspended", "currently suspended"),
    ],
    ids=["unknown-package", "sso-into-suspended-account"],
)
def test_a_refusal_is_a_final_error_with_whms_reason(
    action: Callable[[WhmProvisioner], object], fixture: str, reason: str
):
    # Given WHM refuses the action
    transport = ReplayTransport(recorded(fixture))
    provisioner, _ = whm(transport)

    # When it is attempted
    with pytest.raises(ProvisioningError) as raised:
        action(provisioner)

    # Then the error is final and carries WHM's reason
    assert raised.value.retryable is False
    assert reason in raised.value.detail


# --- secrets -------------------------------------------------------------------------------------------------


def test_secrets_echoed_by_whm_are_redacted_from_errors():
    # Given a refusal whose reason repeats the password and the token
    body = (
        '{"metadata": {"command": "passwd", "result": 0, '
        f'"reason": "The password {PASSWORD} was refused for the token {API_TOKEN}."}}}}'
    ).encode()
    transport = ReplayTransport((200, body))
    provisioner, _ = whm(transport)

    # When the password is changed
    with pytest.raises(ProvisioningError) as raised:
        provisioner.change_password(USERNAME, PASSWORD)

    # Then the reason is kept but both secrets are redacted
    assert "was refused" in raised.value.detail
    assert_free_of_secrets(f"{raised.value.detail} {raised.value} {raised.value!r}")


def test_transport_failures_never_leak_the_request_url(caplog: pytest.LogCaptureFixture):
    # Given a transport whose failures repeat the URL (which carries the password)
    transport = ReplayTransport(
        ConnectionResetError(f"reset while sending {BASE_URL}/json-api/passwd?password={PASSWORD}"),
        TimeoutError(f"timed out on {BASE_URL}/json-api/passwd?password={PASSWORD}"),
        (503, b""),
    )
    provisioner, _ = whm(transport)

    # When the password change fails on every attempt
    with (
        caplog.at_level(logging.DEBUG, logger="balcao.adapters.provisioning.whm"),
        pytest.raises(ProvisioningError) as raised,
    ):
        provisioner.change_password(USERNAME, PASSWORD)

    # Then neither the error nor the retry log lines hold the URL, the password or the token
    assert raised.value.retryable is True
    assert_free_of_secrets(f"{raised.value.detail} {raised.value!r} {caplog.text}")
    assert "json-api" not in f"{raised.value.detail} {caplog.text}"
    assert len(caplog.records) == 2


def test_the_session_url_and_the_token_are_never_logged(caplog: pytest.LogCaptureFixture):
    # Given WHM creates a session after one failed attempt
    transport = ReplayTransport((500, b""), recorded("create_user_session_success"))
    provisioner, _ = whm(transport)

    # When a single sign-on URL is asked for, logging everything
    with caplog.at_level(logging.DEBUG):
        url = provisioner.sso_url(USERNAME)

    # Then the retry was logged but neither the URL nor its session nor the token were
    assert caplog.records
    assert url not in caplog.text
    assert "cpsess" not in caplog.text
    assert API_TOKEN not in caplog.text


def test_the_provisioner_repr_holds_no_token():
    # Given a provisioner
    provisioner, _ = whm(ReplayTransport())

    # When it is printed, Then only the server shows
    assert repr(provisioner) == "WhmProvisioner(server='whm.example.net')"


def test_invalid_settings_are_refused():
    # Given impossible retry and timeout settings, When a provisioner is built, Then it refuses them
    with pytest.raises(ValueError, match="retries"):
        whm(ReplayTransport(), retries=-1)
    with pytest.raises(ValueError, match="timeout"):
        whm(ReplayTransport(), timeout_seconds=0)


# --- the default urllib3 transport ----------------------------------------------------------------------------


class FakePool:
    """Stands in for urllib3.PoolManager: records the call, then answers or raises."""

    def __init__(self, outcome: urllib3.BaseHTTPResponse | Exception) -> None:
        self._outcome = outcome
        self.calls: list[tuple[str, str, dict[str, Any]]] = []

    def request(self, method: str, url: str, **options: Any) -> urllib3.BaseHTTPResponse:
        self.calls.append((method, url, options))
        if isinstance(self._outcome, Exception):
            raise self._outcome
        return self._outcome


SECRET_URL = f"{BASE_URL}/json-api/passwd?api.version=1&user={USERNAME}&password={PASSWORD}"


def test_the_default_transport_sends_without_retries_or_redirects_and_returns_status_and_body():
    # Given a pool that answers
    pool = FakePool(urllib3.HTTPResponse(body=b'{"metadata": {"result": 1}}', status=200, preload_content=True))

    # When the transport sends a request
    answer = Urllib3Transport(pool).request("GET", SECRET_URL, {"Authorization": "whm root:x"}, 7.5)  # type: ignore[arg-type]

    # Then it returns the status and body, and left retrying and redirects to the provisioner
    assert answer == (200, b'{"metadata": {"result": 1}}')
    ((method, url, options),) = pool.calls
    assert (method, url) == ("GET", SECRET_URL)
    assert options["retries"] is False
    assert options["redirect"] is False
    assert options["timeout"].total == 7.5
    assert options["headers"] == {"Authorization": "whm root:x"}


@pytest.mark.parametrize(
    ("failure", "expected"),
    [
        (urllib3.exceptions.ReadTimeoutError(None, SECRET_URL, "Read timed out."), TimeoutError),  # type: ignore[arg-type]
        (urllib3.exceptions.ConnectTimeoutError(f"timed out connecting to {SECRET_URL}"), TimeoutError),
        (urllib3.exceptions.NewConnectionError(None, f"refused: {SECRET_URL}"), ConnectionError),  # type: ignore[arg-type]
        (urllib3.exceptions.SSLError(f"certificate verify failed for {SECRET_URL}"), ConnectionError),
        (urllib3.exceptions.ProtocolError(f"Connection aborted: {SECRET_URL}"), ConnectionError),
    ],
    ids=["read-timeout", "connect-timeout", "refused", "tls", "aborted"],
)
def test_the_default_transport_maps_urllib3_failures_without_the_url(failure: Exception, expected: type[Exception]):
    # Given a pool that fails with a urllib3 error that quotes the URL
    transport = Urllib3Transport(FakePool(failure))  # type: ignore[arg-type]

    # When a request is sent
    with pytest.raises(expected) as raised:
        transport.request("GET", SECRET_URL, {}, 5.0)

    # Then the mapped error is the one the provisioner retries, and it hides the URL and its cause
    assert type(raised.value) is expected
    assert PASSWORD not in str(raised.value)
    assert raised.value.__cause__ is None
    assert raised.value.__suppress_context__ is True
