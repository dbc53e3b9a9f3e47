"""Browser helpers: screenshots kept as test artifacts, signing in, axe-core checks and the portal's link walk."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

from support.stack_client import DEMO_PASSWORD

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
BLOCKING_IMPACTS = ("serious", "critical")
LANGUAGE_COOKIE = "balcao_lang"
ID_IN_PATH = re.compile(r"/(?=[^/]*\d)[A-Za-z0-9_-]{6,}")
# Not pages: files, the raw email frame, assets, the local stack's own routes and the JSON API
NOT_PAGES = re.compile(r"^/(static|_dev|api|health|webhooks)(/|$)|/(pdf|html)$|/attachments/(?!new$)")
LINKS_SCRIPT = """() => [
    ...[...document.querySelectorAll('a[href]')].map(a => a.href),
    ...[...document.querySelectorAll('form')]
        .filter(f => (f.getAttribute('method') || 'get').toLowerCase() === 'get' && f.getAttribute('action'))
        .map(f => f.action),
]"""

_axe: Any = None


def safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", name)[:120]


def screenshot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{safe_name(name)}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def sign_in(page: Any, email: str, password: str = DEMO_PASSWORD) -> None:
    """The pt-BR login form, filled and sent; waits for the page it lands on."""
    page.goto("/login")
    page.get_by_role("textbox", name="E-mail", exact=True).fill(email)
    page.locator("#field-password").fill(password)
    page.get_by_role("button", name="Entrar").click()
    page.wait_for_load_state()


def blocking_violations(page: Any) -> list[tuple[str, str, list[Any]]]:
    """axe-core's serious and critical violations on the page: (rule, impact, targets)."""
    global _axe
    if _axe is None:
        from axe_playwright_python.sync_playwright import Axe

        _axe = Axe()
    violations = _axe.run(page).response["violations"]
    return [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"]]) for v in violations if v["impact"] in BLOCKING_IMPACTS
    ]


def page_shape(path: str) -> str:
    """A page's path with its ids replaced: ``/invoices/01J…`` → ``/invoices/{id}``."""
    return ID_IN_PATH.sub("/{id}", urlsplit(path).path)


def portal_links(page: Any, base_url: str) -> list[str]:
    """The same-origin page paths (with their query) the current page links to, or sends a GET form to."""
    origin = urlsplit(base_url).netloc
    found: list[str] = []
    for href in page.evaluate(LINKS_SCRIPT):
        target = urlsplit(urljoin(page.url, href))
        if target.scheme not in ("http", "https") or target.netloc != origin or NOT_PAGES.search(target.path):
            continue
        query = "&".join(p for p in target.query.split("&") if p and not p.startswith("lang="))
        path = target.path + (f"?{query}" if query else "")
        if path not in found:
            found.append(path)
    return found


def in_language(page: Any, base_url: str, language: str) -> None:
    """The portal's language cookie, as the language switcher leaves it."""
    page.context.add_cookies([{"name": LANGUAGE_COOKIE, "value": language, "url": base_url}])
