"""Driving a running devstack over HTTP, as a customer (or a test harness) would.

Works for the shared in-process devstack and for a private one in a subprocess: what the test needs to know
(the local AWS endpoint, resource names) comes from ``GET /_dev/stack``.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any, ClassVar

import boto3
import requests

DEMO_PASSWORD = "Balcao-demo-2026!"
STAFF_TOTP_SECRET = "JBSWY3DPEHPK3PXP"
TOTP_STEP = 30


@dataclass
class StackClient:
    base_url: str
    # The server refuses a TOTP step at or before the last one a user spent (replays), and accepts one step of
    # drift: per stack and secret, the last step spent, so two logins inside one 30-second window both pass.
    _spent_steps: ClassVar[dict[tuple[str, str], int]] = {}

    def __post_init__(self) -> None:
        self.http = requests.Session()
        self._stack: dict[str, Any] | None = None
        self._staff_token: str | None = None

    @property
    def stack(self) -> dict[str, Any]:
        if self._stack is None:
            self._stack = self.http.get(f"{self.base_url}/_dev/stack", timeout=10).json()
        return self._stack

    def aws(self, service: str) -> Any:
        return boto3.client(service, endpoint_url=self.stack["aws_endpoint"], region_name=self.stack["region"])

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    def get(self, path: str, token: str | None = None, **kwargs: Any) -> requests.Response:
        return self.http.get(
            self.url(path), headers=self._auth(token, kwargs.pop("headers", None)), timeout=30, **kwargs
        )

    def post(self, path: str, json: Any = None, token: str | None = None, **kwargs: Any) -> requests.Response:
        return self.http.post(
            self.url(path), json=json, headers=self._auth(token, kwargs.pop("headers", None)), timeout=60, **kwargs
        )

    def patch(self, path: str, json: Any = None, token: str | None = None, **kwargs: Any) -> requests.Response:
        return self.http.patch(
            self.url(path), json=json, headers=self._auth(token, kwargs.pop("headers", None)), timeout=30, **kwargs
        )

    def delete(self, path: str, token: str | None = None, **kwargs: Any) -> requests.Response:
        return self.http.delete(
            self.url(path), headers=self._auth(token, kwargs.pop("headers", None)), timeout=30, **kwargs
        )

    @staticmethod
    def _auth(token: str | None, headers: dict[str, str] | None) -> dict[str, str]:
        merged = dict(headers or {})
        if token:
            merged["Authorization"] = f"Bearer {token}"
        return merged

    # --- dev routes -------------------------------------------------------------------------------------------
    def mail(self, to: str) -> list[dict[str, Any]]:
        response = self.http.get(self.url("/_dev/mail.json"), params={"to": to}, timeout=30)
        response.raise_for_status()
        messages: list[dict[str, Any]] = response.json()
        return messages

    def settle(self) -> None:
        self.http.post(self.url("/_dev/settle"), timeout=120).raise_for_status()

    def clock(self, **body: str) -> str:
        response = (
            self.http.post(self.url("/_dev/clock"), json=body, timeout=120)
            if body
            else self.http.get(self.url("/_dev/clock"), timeout=10)
        )
        response.raise_for_status()
        return str(response.json()["now"])

    def run_job(self, name: str) -> dict[str, Any]:
        response = self.http.post(self.url(f"/_dev/jobs/{name}"), timeout=600)
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result

    # --- signing in through the API --------------------------------------------------------------------------
    def login(self, email: str, password: str = DEMO_PASSWORD, totp_secret: str | None = None) -> dict[str, Any]:
        """Tokens (``id_token``…); with ``totp_secret`` the TOTP step is answered too."""
        response = self.post("/api/auth/login", {"email": email, "password": password})
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        if body.get("challenge") == "totp":
            if totp_secret is None:
                return body
            from balcao.domain.totp import totp_code

            step = self._next_totp_step(totp_secret)
            answered = self.post("/api/auth/mfa", {"session": body["session"], "code": totp_code(totp_secret, step)})
            answered.raise_for_status()
            body = answered.json()
        return body

    def _next_totp_step(self, secret: str) -> int:
        """The moment (epoch seconds) whose code to send: now, or the next step when this one was spent."""
        now_step = int(time.time()) // TOTP_STEP
        key = (self.base_url, secret)
        step = max(now_step, self._spent_steps.get(key, now_step - 1) + 1)
        if step > now_step + 1:
            raise AssertionError("a third TOTP login inside 30 seconds would be refused as a replay: reuse a token")
        self._spent_steps[key] = step
        return step * TOTP_STEP

    def token(self, email: str, password: str = DEMO_PASSWORD, totp_secret: str | None = None) -> str:
        return str(self.login(email, password, totp_secret)["id_token"])

    def staff_token(self) -> str:
        """The seeded staff user's ID token, reused while the stack still accepts it (each login spends a TOTP step)."""
        if self._staff_token is None or self.get("/api/me", token=self._staff_token).status_code != 200:
            self._staff_token = self.token("staff@example.com", totp_secret=STAFF_TOTP_SECRET)
        return self._staff_token

    def code_in(self, email: str, subject_contains: str = "") -> str:
        """The only standalone 6-digit number of the newest email to ``email`` (API.md)."""
        for message in self.mail(email):
            if subject_contains in message["subject"]:
                codes = re.findall(r"(?<!\d)\d{6}(?!\d)", message["text"])
                assert len(codes) == 1, message["text"]
                return codes[0]
        raise AssertionError(f"no email to {email} with {subject_contains!r}")
