"""Turning refused input into inline form errors (translated, one per field) for a page to render again."""

from __future__ import annotations

from balcao.domain.errors import InvalidInputError
from balcao.web.portal import PortalRequest


def field_errors(request: PortalRequest, error: InvalidInputError) -> dict[str, str]:
    errors: dict[str, str] = {}
    for problem in error.fields:
        errors.setdefault(problem.field, request.gettext(problem.message))
    return errors
