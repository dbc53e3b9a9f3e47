"""What every part of the bench shares: paths, sizes (full or smoke), progress lines, statistics, and a probe that
records every AWS call a thread makes (botocore events) with the time spent inside it."""

from __future__ import annotations

import json
import os
import statistics
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TESTS = ROOT / "tests"
RUNS = 7  # every timed figure is the median of this many runs
# Never real AWS: the fake credentials the test suites use too (moto accepts any).
LOCAL_AWS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "eu-west-1",
    "AWS_REGION": "eu-west-1",
}


@dataclass(frozen=True)
class Sizes:
    """How much each part measures; ``smoke`` exercises every code path once, in seconds."""

    smoke: bool
    runs: int
    warm_calls: int
    page_calls: int
    due_services: int
    load_customers: int
    load_seconds: float
    payments: int

    @classmethod
    def from_environment(cls) -> Sizes:
        if os.environ.get("BENCH_SMOKE") == "1":
            return cls(True, 1, 5, 2, 70, 3, 3.0, 2)
        return cls(False, RUNS, 1000, 20, 10_000, 50, 60.0, 100)


def progress(message: str) -> None:
    """One progress line on stderr (stdout of a part may be the functions' logs)."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def use_test_support() -> None:
    """The bench reuses the tests' given-steps (``tests/support``) and the BOLA matrix's sample data."""
    for path in (str(TESTS), str(ROOT)):
        if path not in sys.path:
            sys.path.insert(0, path)


def fake_aws_environment() -> None:
    """Never real AWS: the same fake credentials and settings as the test suites."""
    os.environ.update(LOCAL_AWS)
    os.environ.update(
        POWERTOOLS_TRACE_DISABLED="true",
        POWERTOOLS_METRICS_NAMESPACE="Balcao",
        POWERTOOLS_SERVICE_NAME="balcao",
        AWS_ACCOUNT_ID_ENDPOINT_MODE="disabled",
    )


# --- statistics ----------------------------------------------------------------------------------------------------
def median(values: Sequence[float]) -> float:
    return float(statistics.median(values)) if values else float("nan")


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile (``fraction`` 0.99 → p99); NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(fraction * len(ordered) + 0.5)))
    return float(ordered[rank - 1])


# --- the AWS call probe --------------------------------------------------------------------------------------------
@dataclass
class AwsCall:
    service: str
    operation: str
    seconds: float


@dataclass
class Recording:
    calls: list[AwsCall] = field(default_factory=list)

    @property
    def aws_seconds(self) -> float:
        return sum(call.seconds for call in self.calls)

    def operations(self, service: str) -> list[str]:
        return [call.operation for call in self.calls if call.service == service]


class AwsProbe:
    """Records, per thread, each AWS call between botocore's ``before-call`` and ``after-call`` events: request
    signing, sending, the service's answer (moto here, the network and AWS when deployed) and parsing. Parameter
    validation and serialisation happen before ``before-call`` and count as the caller's own time.

    The handlers are added to botocore's built-in handlers, so every session created afterwards carries them
    (boto3's default session and PynamoDB's alike): install it before the first client is made.
    """

    _installed = False
    _local = threading.local()

    @classmethod
    def install(cls) -> None:
        if cls._installed:
            return
        from botocore import handlers

        handlers.BUILTIN_HANDLERS.extend(
            [("before-call", cls._started), ("after-call", cls._finished), ("after-call-error", cls._finished)]
        )
        cls._installed = True

    @classmethod
    def _started(cls, model: Any = None, context: Any = None, **_: Any) -> None:
        if isinstance(context, dict) and getattr(cls._local, "recording", None) is not None:
            context["bench_started"] = time.perf_counter()

    @classmethod
    def _finished(cls, model: Any = None, context: Any = None, **_: Any) -> None:
        recording: Recording | None = getattr(cls._local, "recording", None)
        if recording is None or not isinstance(context, dict) or "bench_started" not in context:
            return
        elapsed = time.perf_counter() - context.pop("bench_started")
        service = model.service_model.service_name if model is not None else "?"
        recording.calls.append(AwsCall(service, model.name if model is not None else "?", elapsed))

    @classmethod
    @contextmanager
    def record(cls) -> Iterator[Recording]:
        if not cls._installed:
            raise RuntimeError("AwsProbe.install() before the first AWS client is created")
        recording = Recording()
        previous = getattr(cls._local, "recording", None)
        cls._local.recording = recording
        try:
            yield recording
        finally:
            cls._local.recording = previous


# --- results of a part -----------------------------------------------------------------------------------------------
def write_result(path: str | Path, payload: dict[str, Any]) -> None:
    Path(path).write_text(json.dumps(payload, indent=2, sort_keys=True, default=str))


def not_measured(reason: str) -> dict[str, Any]:
    return {"measured": False, "reason": reason}
