"""Keep template.yaml's ``Api`` events in step with a function's resolver.

``python -m devstack.routes <folder>`` prints the events block of ``functions/<folder>`` (paste it into the
function's ``Events``); ``--check`` fails when the template and the resolver disagree (also a test).
"""

from __future__ import annotations

import argparse
import re
import sys

from devstack.template import api_routes, functions, load_function_module


def resolver_routes(folder: str) -> set[tuple[str, str]]:
    app = load_function_module(folder).app
    document = app.get_openapi_schema().model_dump(by_alias=True, exclude_none=True)
    return {(method.upper(), path) for path, item in document["paths"].items() for method in item}


def template_routes(folder: str) -> set[tuple[str, str]]:
    logical = next(d.logical_id for d in functions().values() if d.folder == folder)
    return {(r.method, r.path) for r in api_routes() if r.function == logical}


def event_name(method: str, path: str) -> str:
    parts = [p for p in re.split(r"[/{}_.-]", path) if p and p != "api"] or ["root"]
    return method.capitalize() + "".join(p.capitalize() for p in parts)


def events_yaml(folder: str, public: bool) -> str:
    lines = []
    for method, path in sorted(resolver_routes(folder), key=lambda r: (r[1], r[0])):
        auth = ", Auth: { Authorizer: NONE }" if public else ""
        quoted = f'"{path}"' if "{" in path else path
        lines.append(f"        {event_name(method, path)}:")
        lines.append("          Type: Api")
        lines.append(f"          Properties: {{ RestApiId: !Ref BalcaoApi, Path: {quoted}, Method: {method}{auth} }}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack.routes")
    parser.add_argument("folder")
    parser.add_argument("--public", action="store_true", help="every route without the Cognito authorizer (portal)")
    parser.add_argument("--check", action="store_true")
    arguments = parser.parse_args(argv)
    if arguments.check:
        missing = resolver_routes(arguments.folder) - template_routes(arguments.folder)
        extra = template_routes(arguments.folder) - resolver_routes(arguments.folder)
        for method, path in sorted(missing):
            print(f"not in template.yaml: {method} {path}", file=sys.stderr)
        for method, path in sorted(extra):
            print(f"in template.yaml but not served: {method} {path}", file=sys.stderr)
        return 1 if missing or extra else 0
    print(events_yaml(arguments.folder, arguments.public))
    return 0


if __name__ == "__main__":
    sys.exit(main())
