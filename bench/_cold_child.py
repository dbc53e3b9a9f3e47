"""One cold start, in a fresh interpreter started with ``-I -S -B`` (no site-packages, no bytecode written): only the
standard library, the built layer and the function's folder are importable, as on Lambda.

``python -I -S -B _cold_child.py SPEC.json`` — the spec names the layer and function folders, the environment, the
handler's event (or ``floor`` for ``import boto3; boto3.client("dynamodb")``) and where to write the timings.
Standard library only: this file must not import anything the layer does not hold.
"""

import importlib.util
import json
import os
import sys
import time
import uuid
from pathlib import Path

STARTED = time.perf_counter()


class Context:
    """The fields of Lambda's context object that Powertools and our handlers read."""

    def __init__(self, name: str) -> None:
        self.function_name = name
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:eu-west-1:123456789012:function:{name}"
        self.memory_limit_in_mb = 1024
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{name}"
        self.log_stream_name = "bench"
        self._deadline = time.monotonic() + 900

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def main(spec_path: str) -> None:
    spec = json.loads(Path(spec_path).read_text())
    os.environ.update(spec["environment"])
    sys.path[:0] = [p for p in (spec.get("function_dir"), spec["layer_dir"]) if p]
    result: dict[str, object] = {"startup": STARTED}
    began = time.perf_counter()
    error: str | None = None
    if spec["kind"] == "floor":
        import boto3

        boto3.client("dynamodb")
        imported = time.perf_counter()
        invoked = imported
    else:
        module_spec = importlib.util.spec_from_file_location("app", Path(spec["function_dir"]) / "app.py")
        assert module_spec is not None and module_spec.loader is not None
        module = importlib.util.module_from_spec(module_spec)
        sys.modules["app"] = module
        module_spec.loader.exec_module(module)
        imported = time.perf_counter()
        if spec.get("event") is not None:
            try:
                answer = module.lambda_handler(spec["event"], Context(spec["name"]))
            except Exception as failure:  # measured all the same; reported beside the figure
                error = f"{type(failure).__name__}: {failure}"[:300]
            else:
                status = answer.get("statusCode") if isinstance(answer, dict) else None
                if isinstance(status, int) and status >= 500:
                    error = f"answered {status}"
        invoked = time.perf_counter()
    result.update(
        {"import_seconds": imported - began, "invoke_seconds": invoked - imported, "error": error, "ok": True}
    )
    Path(spec["result"]).write_text(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1])
