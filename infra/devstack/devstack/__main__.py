"""``python -m devstack`` runs the local stack until Ctrl-C; ``python -m devstack openapi [--check]`` writes the
merged OpenAPI document (or fails when the committed one drifted)."""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading
import time

from devstack.seed import DEMO_LOGINS, DEMO_PASSWORD, STAFF_TOTP_SECRET


def banner(url: str, started_in: float) -> str:
    lines = [
        "",
        f"  Balcão is running on {url}   (ready in {started_in:.1f} s; Ctrl-C stops everything)",
        "",
        f"  Portal           {url}/",
        f"  API docs         {url}/api/docs",
        f"  Dev mailbox      {url}/_dev/mail",
        f"  Health           {url}/health",
        "",
        f"  Demo logins (password {DEMO_PASSWORD}):",
    ]
    for login in DEMO_LOGINS:
        role = "staff (admin)" if login.groups else "customer"
        lines.append(f"    {login.email:<22} {role}")
    lines.append(f"  Staff TOTP secret (local only): {STAFF_TOTP_SECRET}")
    lines.append("")
    return "\n".join(lines)


def run(port: int | None) -> int:
    from devstack.stack import DevStack, PortBusyError

    started = time.monotonic()
    stack = DevStack(port=port)
    try:
        stack.start()
    except PortBusyError as error:
        print(f"devstack: {error}", file=sys.stderr)
        return 2
    print(banner(stack.url, time.monotonic() - started), flush=True)
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    with contextlib.suppress(KeyboardInterrupt):
        stopping.wait()
    print("\nStopping…", flush=True)
    stack.stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="devstack")
    sub = parser.add_subparsers(dest="command")
    serve = sub.add_parser("serve", help="run the local stack (default)")
    serve.add_argument("--port", type=int, default=None)
    openapi = sub.add_parser("openapi", help="write (or --check) functions/health/openapi.json")
    openapi.add_argument("--check", action="store_true")
    arguments = parser.parse_args(argv)
    if arguments.command == "openapi":
        from devstack.openapi import check_or_write

        return check_or_write(check=arguments.check)
    return run(getattr(arguments, "port", None))


if __name__ == "__main__":
    sys.exit(main())
