"""In-process tracing is opt-in: without it the handler is returned as it is and the X-Ray SDK is never imported."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

from balcao.runtime.observability import HandlerTracing, in_process_tracing

LAMBDA = {"LAMBDA_TASK_ROOT": "/var/task"}


@pytest.mark.parametrize(
    ("environment", "expected"),
    [
        ({}, False),  # outside Lambda, as Powertools decides
        ({**LAMBDA, "POWERTOOLS_TRACE_DISABLED": "true"}, False),  # the template's default
        ({**LAMBDA, "POWERTOOLS_TRACE_DISABLED": "false"}, True),  # InProcessTracing=true
        ({**LAMBDA}, True),
        ({**LAMBDA, "POWERTOOLS_TRACE_DISABLED": "false", "AWS_SAM_LOCAL": "true"}, False),
    ],
)
def test_in_process_tracing_follows_the_environment(
    monkeypatch: pytest.MonkeyPatch, environment: dict[str, str], expected: bool
) -> None:
    for name in ("LAMBDA_TASK_ROOT", "POWERTOOLS_TRACE_DISABLED", "AWS_SAM_LOCAL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)

    assert in_process_tracing() is expected


def test_without_in_process_tracing_the_handler_is_returned_as_it_is(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a function on Lambda with the template's default
    monkeypatch.setenv("LAMBDA_TASK_ROOT", "/var/task")
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")

    def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
        return {"seen": event}

    # When it is decorated
    decorated = HandlerTracing().capture_lambda_handler(capture_response=False)(handler)

    # Then it is the same function, answering as before
    assert decorated is handler
    assert decorated({"a": 1}, None) == {"seen": {"a": 1}}


def test_importing_the_runtime_does_not_import_the_xray_sdk() -> None:
    # Given a fresh interpreter, as a cold start (Lambda with the template's default)
    probe = (
        "import os, sys; os.environ.update(LAMBDA_TASK_ROOT='/var/task', POWERTOOLS_TRACE_DISABLED='true');"
        "from balcao.runtime.observability import tracer;"
        "tracer.capture_lambda_handler(capture_response=False)(lambda e, c: e);"
        "print('aws_xray_sdk' in sys.modules)"
    )

    # When the observability module is imported and a handler decorated
    answer = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)

    # Then the X-Ray SDK was never imported
    assert answer.stdout.strip() == "False"
