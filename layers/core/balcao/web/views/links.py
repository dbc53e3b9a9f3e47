"""What pages addressed by a document's id share: ids are checked for shape before the table is asked, and a link
from an email (which names the document only) reaches it in whichever of the user's accounts it belongs to."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from aws_lambda_powertools.event_handler import Response

from balcao.domain.accounts import Permission, authorize
from balcao.domain.errors import NotFoundError
from balcao.web.portal import PortalRequest, cookie_header, redirect
from balcao.web.session import ACCOUNT_COOKIE, PortalUser

MAX_ID_LENGTH = 64
ACCOUNT_COOKIE_AGE = 30 * 86400


def known_id(value: str) -> str:
    """Ids in paths are short opaque strings; anything else is not found without asking the table."""
    if not value or len(value) > MAX_ID_LENGTH:
        raise NotFoundError()
    return value


@dataclass(frozen=True)
class Elsewhere:
    """How a page reaches a document of another account of the signed-in user (a link from an email)."""

    user: PortalUser
    permission: Permission
    locate: Callable[[str], str]

    def switch_to(self, request: PortalRequest, document_id: str) -> Response[str]:
        """Switch to the account ``document_id`` belongs to and come back; the 404 page when the user may not."""
        account_id = self.locate(known_id(document_id))
        found = next((m for m in self.user.memberships if m.account_id == account_id), None)
        current = self.user.current
        if current is not None and current.account_id == account_id:
            raise NotFoundError()
        authorize(found, self.permission, mfa_passed=self.user.session.mfa_passed)
        request.new_cookies.append(
            cookie_header(ACCOUNT_COOKIE, account_id, secure=request.secure_cookies, max_age=ACCOUNT_COOKIE_AGE)
        )
        return redirect(request, request.path)
