"""The HTTP seam of the payment providers: every outbound call goes through one ``HttpTransport``.

Deployed (and locally with real keys) it is urllib3; tests inject a transport that answers recorded JSON responses,
so nothing reaches the internet. Stripe's official library takes the same transport through ``StripeHttpClient``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from balcao.domain.errors import ProviderUnavailableError

TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True, slots=True)
class HttpResponse:
    status: int
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)


class HttpTransport(Protocol):
    def request(self, method: str, url: str, headers: Mapping[str, str], body: bytes | None = None) -> HttpResponse: ...


class Urllib3Transport:
    """The real transport: one pooled urllib3 manager per container, short timeouts, no retries of its own (the
    providers' idempotency keys make our retries safe)."""

    def __init__(self, timeout_seconds: float = TIMEOUT_SECONDS) -> None:
        self._timeout = timeout_seconds
        self._pool: Any = None

    def request(self, method: str, url: str, headers: Mapping[str, str], body: bytes | None = None) -> HttpResponse:
        import urllib3

        if self._pool is None:
            self._pool = urllib3.PoolManager(
                timeout=urllib3.Timeout(total=self._timeout), retries=False, cert_reqs="CERT_REQUIRED"
            )
        try:
            response = self._pool.request(method, url, headers=dict(headers), body=body)
        except urllib3.exceptions.HTTPError as error:
            raise ProviderUnavailableError() from error
        return HttpResponse(int(response.status), bytes(response.data), dict(response.headers))


def stripe_http_client(transport: HttpTransport) -> Any:
    """A ``stripe.HTTPClient`` that sends the official library's requests through ``transport``."""
    import stripe

    class StripeHttpClient(stripe.HTTPClient):
        name = "balcao"

        def request(
            self, method: str, url: str, headers: Mapping[str, str] | None, post_data: Any = None, **_: Any
        ) -> tuple[str, int, Mapping[str, str]]:
            body = post_data.encode() if isinstance(post_data, str) else post_data
            answer = transport.request(method.upper(), url, dict(headers or {}), body)
            return answer.body.decode("utf-8"), answer.status, answer.headers

        def close(self) -> None:
            return None

    return StripeHttpClient()
