"""The overview page (``/``) of a signed-in customer: what needs them first, then their services, invoices and
tickets — each part shown only with the permission for it. A technical delegate sees their one service."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response

from balcao.domain.accounts import Membership, Permission
from balcao.domain.errors import N_
from balcao.services.dashboard import AccountOverview, Dashboard
from balcao.web.portal import PortalRequest, page
from balcao.web.session import PortalUser
from balcao.web.views.services import REASON_LABELS, STATUS_LABELS

# Shown at most on the overview; the services page lists them all.
SERVICES_SHOWN = 8


def overview_page(request: PortalRequest, user: PortalUser, dashboard: Dashboard) -> Response[str]:
    current = user.current
    context: dict[str, Any] = {
        "display_name": user.profile.name or user.session.email,
        "mfa_required_notice": bool(current and current.require_mfa and not user.session.mfa_passed),
        "overview": None,
    }
    if current is not None and (not current.require_mfa or user.session.mfa_passed):
        overview = dashboard.overview(current)
        context.update(_sections(request, current, overview))
    return page(request, "home.html", title=N_("Overview"), **context)


def _sections(request: PortalRequest, membership: Membership, overview: AccountOverview) -> dict[str, Any]:
    held = membership.effective_permissions()
    return {
        "overview": overview,
        "delegate": membership.is_delegate,
        "show_services": membership.is_delegate or Permission.SERVICES in held,
        "show_invoices": Permission.INVOICES in held,
        "show_tickets": Permission.TICKETS in held,
        "service_rows": [
            {
                "service": service,
                "status": request.gettext(STATUS_LABELS[service.status.value]),
                "reason": request.gettext(REASON_LABELS[service.reason.value]) if service.reason else "",
            }
            for service in overview.services[:SERVICES_SHOWN]
        ],
        "more_services": max(0, len(overview.services) - SERVICES_SHOWN),
    }
