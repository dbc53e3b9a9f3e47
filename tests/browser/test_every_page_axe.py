"""axe-core on every portal page: a visitor and a signed-in demo customer follow every same-origin link (and GET
form) from the home page, in pt-BR; each page shape — its path with ids replaced — is checked twice at most. Any
serious or critical violation fails the test, listed as page, rule and targets. Every page visited is screenshotted
in pt-BR; a failing page is screenshotted in Spanish and English as well."""

from __future__ import annotations

from collections import deque
from typing import Any

import pytest

from support.browser import blocking_violations, in_language, page_shape, portal_links, screenshot, sign_in

VISITS_PER_SHAPE = 2
ANONYMOUS_STARTS = ("/", "/login", "/signup", "/signup/confirm", "/password/forgot", "/password/reset")
NOT_FOUND = "/tickets/0000000000"  # the error page: no such ticket
CUSTOMER = "ana@example.com"


def walk(page: Any, base_url: str, starts: tuple[str, ...], visitor: str) -> tuple[list[str], dict[str, list]]:
    """Every page reached from ``starts`` (pt-BR): the paths visited, and the blocking violations of each failing one."""
    visited: list[str] = []
    failing: dict[str, list] = {}
    shapes: dict[str, int] = {}
    queue = deque(starts)
    while queue:
        path = queue.popleft()
        shape = page_shape(path)
        if path in visited or shapes.get(shape, 0) >= VISITS_PER_SHAPE:
            continue
        shapes[shape] = shapes.get(shape, 0) + 1
        response = page.goto(path)
        assert response is not None and response.status < 500, f"{path}: {response and response.status}"
        if "text/html" not in response.headers.get("content-type", ""):
            continue
        visited.append(path)
        screenshot(page, f"every-page-{visitor}-pt-BR-{path}")
        if found := blocking_violations(page):
            failing[path] = found
        queue.extend(portal_links(page, base_url))
    return visited, failing


def keep_other_languages(page: Any, base_url: str, visitor: str, paths: list[str]) -> None:
    """The failing pages in Spanish and English too, then back to pt-BR."""
    for language in ("es", "en"):
        in_language(page, base_url, language)
        for path in paths:
            page.goto(path)
            screenshot(page, f"every-page-{visitor}-{language}-{path}")
    in_language(page, base_url, "pt-BR")


@pytest.mark.parametrize("visitor", ["anonymous", "customer"])
def test_no_page_has_a_serious_or_critical_axe_violation(page, devstack, visitor):
    # Given a visitor in pt-BR, signed in as the demo customer or not
    if visitor == "customer":
        sign_in(page, CUSTOMER)
        starts: tuple[str, ...] = ("/",)
    else:
        starts = ANONYMOUS_STARTS
    # When they follow every link of the portal from where they start
    visited, failing = walk(page, devstack.url, starts, visitor)
    if visitor == "customer":
        # and they meet the error page once
        response = page.goto(NOT_FOUND)
        assert response is not None and response.status == 404
        screenshot(page, f"every-page-{visitor}-pt-BR-not-found")
        if found := blocking_violations(page):
            failing[NOT_FOUND] = found
    if failing:
        keep_other_languages(page, devstack.url, visitor, list(failing))
    # Then every page was reached, and axe finds nothing serious or critical on any of them
    assert len(visited) >= (len(ANONYMOUS_STARTS) if visitor == "anonymous" else 20), visited
    assert not failing, "serious or critical axe violations:\n" + "\n".join(
        f"{path}: {rule} ({impact}) at {targets}" for path, rules in failing.items() for rule, impact, targets in rules
    )
