"""Cold init per function against the floor of any DynamoDB-backed Lambda.

The layer is built as ``sam build`` builds it (``layers/core/Makefile``: dependencies, balcao, compiled catalogs,
bytecode compiled with unchecked hashes) and each function's folder is copied as SAM ships it (sources only). A moto
server with the devstack's hooks holds every resource of template.yaml and the demo seed. Each run starts a fresh
interpreter with only the standard library, the layer and the function's folder importable (``-I -S -B``), imports
``app.py`` and calls its handler once with a representative event; the floor is ``import boto3;
boto3.client("dynamodb")`` from the same layer. Runs are interleaved (floor, every function, then again) so drift on
the machine touches all alike.

``python -m bench.cold_start RESULT.json``
"""

from __future__ import annotations

import json
import logging
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.common import LOCAL_AWS, ROOT, Sizes, fake_aws_environment, median, progress, use_test_support, write_result

CHILD = Path(__file__).with_name("_cold_child.py")
LAYER_SOURCE = ROOT / "layers" / "core"


def build_layer(target: Path) -> Path:
    """``make build-CoreLayer`` into ``target`` (for this machine's architecture); the layer's ``python`` folder."""
    machine = "aarch64" if platform.machine() in ("aarch64", "arm64") else "x86_64"
    base_python = getattr(sys, "_base_executable", sys.executable)
    make = shutil.which("make")
    if make is None:
        raise RuntimeError("building the layer needs make on the PATH")
    built = subprocess.run(  # noqa: S603 - our own Makefile with arguments built here, no shell
        [
            make,
            "--no-print-directory",
            "-s",
            "-C",
            str(LAYER_SOURCE),
            "build-CoreLayer",
            f"ARTIFACTS_DIR={target}",
            f"ARCH={machine}",
            f"PYTHON={base_python}",
        ],
        check=False,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,  # pip's notices stay out of the progress lines, and come back if the build fails
        text=True,
        env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
    )
    if built.returncode != 0:
        raise RuntimeError(f"building the layer failed:\n{built.stderr[-2000:]}")
    return target / "python"


def copy_functions(target: Path) -> Path:
    shutil.copytree(ROOT / "functions", target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return target


class Events:
    """A representative first event per function, built fresh for every run (tokens and sessions stay valid)."""

    def __init__(self, seeded: Any) -> None:
        from support.identity import given_session

        self.seeded = seeded
        now = datetime.now(UTC)
        ana = "ana@example.com"
        self.account_id = seeded.account_ids[ana][0]
        self.customer = given_session(seeded.user_ids[ana], ana, now=now, language="pt-BR")
        self.staff = given_session(
            seeded.user_ids["staff@example.com"],
            "staff@example.com",
            mfa_passed=True,
            groups=("staff_admin",),
            now=now,
        )

    def for_function(self, definition: Any) -> tuple[dict[str, Any] | None, str]:
        """(event, what it is) — None when the function has no event to replay (invoked by a workflow only)."""
        api = [e["Properties"] for e in definition.events_of("Api").values()]
        if api:
            return self._api(api)
        for event in definition.events_of("ScheduleV2").values():
            payload = json.loads(event["Properties"].get("Input", "{}"))
            return payload, f"job {payload.get('job')}"
        if definition.events_of("SQS"):
            return self._sqs(definition), "one queue message"
        if definition.events_of("DynamoDB"):
            return self._stream(), "one stream record"
        return None, "import only: a workflow invokes it"

    def _api(self, routes: list[dict[str, Any]]) -> tuple[dict[str, Any], str]:
        from support.events import api_event

        def rank(props: dict[str, Any]) -> tuple[int, int, int, int]:
            path = str(props["Path"])
            params = path.count("{") - path.count("{account_id}")
            staff = path.startswith("/api/staff")
            return (0 if props["Method"].upper() == "GET" else 1, int(staff), params, len(path))

        chosen = sorted(routes, key=rank)[0]
        path, method = str(chosen["Path"]), str(chosen["Method"]).upper()
        public = (chosen.get("Auth") or {}).get("Authorizer") == "NONE"
        # Path parameters without a seeded value answer 404: still a first invocation through the whole stack.
        concrete = re.sub(r"\{(\w+)\+?\}", lambda m: self.account_id if m.group(1) == "account_id" else "unknown", path)
        caller = self.staff if path.startswith("/api/staff") else self.customer
        event = api_event(
            method,
            concrete,
            resource=path,
            claims=None if public else caller.claims,
            headers={"Accept": "application/json" if path.startswith("/api") else "text/html"},
        )
        return event, f"{method} {path}"

    def _sqs(self, definition: Any) -> dict[str, Any]:
        from balcao.domain.events import new_event

        detail_type = "bench.noop"
        queue_arn = "arn:aws:sqs:eu-west-1:123456789012:bench"
        event = new_event(detail_type, datetime.now(UTC), account_id=self.account_id)
        envelope = {
            "version": "0",
            "id": event.event_id,
            "detail-type": detail_type,
            "source": "balcao",
            "account": "123456789012",
            "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": "eu-west-1",
            "resources": [],
            "detail": event.to_json(),
        }
        record = {
            "messageId": event.event_id,
            "receiptHandle": "bench",
            "body": json.dumps(envelope),
            "attributes": {"ApproximateReceiveCount": "1"},
            "messageAttributes": {},
            "md5OfBody": "",
            "eventSource": "aws:sqs",
            "eventSourceARN": queue_arn,
            "awsRegion": "eu-west-1",
        }
        return {"Records": [record]}

    def _stream(self) -> dict[str, Any]:
        from balcao.domain.events import new_event

        event = new_event("bench.noop", datetime.now(UTC), account_id=self.account_id)
        image = {
            "pk": {"S": f"ACCOUNT#{self.account_id}"},
            "sk": {"S": f"OUTBOX#{event.event_id}"},
            "event": {"S": json.dumps(event.to_json())},
        }
        return {
            "Records": [
                {
                    "eventID": "1",
                    "eventName": "INSERT",
                    "eventVersion": "1.1",
                    "eventSource": "aws:dynamodb",
                    "awsRegion": "eu-west-1",
                    "dynamodb": {
                        "Keys": {},
                        "NewImage": image,
                        "SequenceNumber": "100",
                        "StreamViewType": "NEW_AND_OLD_IMAGES",
                    },
                    "eventSourceARN": "arn:aws:dynamodb:eu-west-1:123456789012:table/bench/stream/1",
                }
            ]
        }


def start_moto() -> tuple[Any, dict[str, str], Any]:
    """A moto server with every resource of the template and the demo seed; the functions' environment."""
    import requests
    from moto.server import ThreadedMotoServer

    from devstack import hooks, resources, seed
    from devstack.stack import _reset_cached_clients, free_port

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request among the progress lines
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    os.environ["AWS_ENDPOINT_URL"] = endpoint
    os.environ["MOTO_PORT"] = str(port)
    requests.post(
        f"{endpoint}/moto-api/config",
        json={"stepfunctions": {"execute_state_machine": False}, "lambda": {"use_docker": False}},
        timeout=10,
    ).raise_for_status()
    hooks.install_fast_moto()  # the devstack's hooks: the functions' first calls meet the same moto
    hooks.install_in_process_transport(server._server.app, endpoint)  # the seed here; the children use HTTP
    created = resources.create_all()
    environment = {**created.environment(), "PAYMENTS_MODE": "local", "SECURE_COOKIES": "false"}
    os.environ.update(environment)
    _reset_cached_clients()
    seeded = seed.run(dict(os.environ))
    child_environment = {
        **environment,
        **LOCAL_AWS,
        "AWS_ENDPOINT_URL": endpoint,
        "LANG": "C.UTF-8",
    }
    return server, child_environment, seeded


def one_run(
    layer: Path, function_dir: Path | None, name: str, kind: str, event: Any, environment: dict[str, str], scratch: Path
) -> dict[str, Any]:
    spec_path, result_path = scratch / "spec.json", scratch / "result.json"
    result_path.unlink(missing_ok=True)
    spec = {
        "kind": kind,
        "name": name,
        "layer_dir": str(layer),
        "function_dir": str(function_dir) if function_dir else None,
        # As on Lambda; in-process tracing follows the template's default (InProcessTracing off, decision 0016).
        "environment": {
            **environment,
            "AWS_LAMBDA_FUNCTION_NAME": name,
            "LAMBDA_TASK_ROOT": str(function_dir or layer),
        },
        "event": event,
        "result": str(result_path),
    }
    spec_path.write_text(json.dumps(spec, default=str))
    base_python = getattr(sys, "_base_executable", sys.executable)
    completed = subprocess.run(  # noqa: S603 - our own interpreter on our own child script
        [base_python, "-I", "-S", "-B", str(CHILD), str(spec_path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        timeout=120,
        check=False,
    )
    if completed.returncode != 0 or not result_path.exists():
        return {"ok": False, "error": (completed.stderr or "no result")[-400:]}
    loaded: dict[str, Any] = json.loads(result_path.read_text())
    return loaded


def smoke_subset(definitions: list[Any], events: Events) -> list[Any]:
    chosen: dict[str, Any] = {}
    for definition in definitions:
        _, what = events.for_function(definition)
        first = what.split(" ", 1)[0]
        kind = "api" if first.isupper() else what if first == "one" else first  # api, job, queue, stream, import
        chosen.setdefault(kind, definition)
    return list(chosen.values())


def measure(sizes: Sizes) -> dict[str, Any]:
    from devstack import template

    fake_aws_environment()
    use_test_support()
    work = Path(tempfile.mkdtemp(prefix="balcao-bench-cold-"))
    try:
        progress("cold init: building the layer as sam build does (compiled bytecode)")
        layer = build_layer(work / "layer")
        functions_dir = copy_functions(work / "functions")
        progress("cold init: moto server with every resource of template.yaml and the demo seed")
        server, environment, seeded = start_moto()
        try:
            events = Events(seeded)
            definitions = sorted(template.functions().values(), key=lambda d: d.logical_id)
            if sizes.smoke:  # one function of each kind
                definitions = smoke_subset(definitions, events)
            samples: dict[str, list[dict[str, Any]]] = {"floor": []}
            described: dict[str, str] = {}
            for run in range(sizes.runs):
                progress(f"cold init: run {run + 1} of {sizes.runs} (floor + {len(definitions)} functions)")
                samples["floor"].append(one_run(layer, None, "floor", "floor", None, environment, work))
                for definition in definitions:
                    event, what = events.for_function(definition)
                    described[definition.logical_id] = what
                    samples.setdefault(definition.logical_id, []).append(
                        one_run(
                            layer,
                            functions_dir / definition.folder,
                            definition.logical_id,
                            "function",
                            event,
                            environment,
                            work,
                        )
                    )
        finally:
            server.stop()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return summarise(samples, described)


def summarise(samples: dict[str, list[dict[str, Any]]], described: dict[str, str]) -> dict[str, Any]:
    def totals(runs: list[dict[str, Any]]) -> list[float]:
        return [r["import_seconds"] + r["invoke_seconds"] for r in runs if r.get("ok")]

    floor = median(totals(samples["floor"]))
    functions: dict[str, Any] = {}
    for name, runs in samples.items():
        if name == "floor":
            continue
        good = [r for r in runs if r.get("ok")]
        errors = sorted({str(r.get("error")) for r in runs if r.get("error")})
        total = median(totals(runs))
        functions[name] = {
            "event": described.get(name, ""),
            "import_seconds": median([r["import_seconds"] for r in good]),
            "invoke_seconds": median([r["invoke_seconds"] for r in good]),
            "total_seconds": total,
            "ratio_to_floor": total / floor if floor else float("nan"),
            "runs": len(good),
            "errors": errors,
        }
    all_median = median([f["total_seconds"] for f in functions.values() if f["runs"]])
    return {
        "measured": True,
        "floor_seconds": floor,
        "floor_runs": len(totals(samples["floor"])),
        "median_of_functions_seconds": all_median,
        "functions": functions,
    }


def main(argv: list[str]) -> int:
    sizes = Sizes.from_environment()
    write_result(argv[0], {"cold_init": measure(sizes)})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
