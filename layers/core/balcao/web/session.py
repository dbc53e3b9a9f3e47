"""Portal sessions: the cookie, the signed-in user, the current account and the one policy for account pages.

The cookie holds only an opaque random id (256 bits) of a session record — tokens never go in a cookie. It is
``__Host-balcao`` (HttpOnly, Secure, SameSite=Lax, Path=/) when cookies are secure; browsers refuse a ``__Host-``
cookie without Secure, so the local stack (plain http) names it ``balcao_session``. Sessions end after 30 minutes
idle or 12 hours. The current account (the account switcher) is remembered in a plain cookie and always checked
against the user's memberships.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from aws_lambda_powertools.event_handler import APIGatewayRestResolver

from balcao.domain.accounts import Membership, Permission, authorize
from balcao.domain.identity import Session, User
from balcao.web.navigation import Menu, navigation_for
from balcao.web.portal import PortalRequest, SignInRequired, cookie_header, current_request

SECURE_SESSION_COOKIE = "__Host-balcao"
LOCAL_SESSION_COOKIE = "balcao_session"
ACCOUNT_COOKIE = "balcao_account"
SESSION_MAX_AGE = 12 * 3600


def session_cookie_name(secure: bool) -> str:
    return SECURE_SESSION_COOKIE if secure else LOCAL_SESSION_COOKIE


def session_cookie(request: PortalRequest, value: str) -> str:
    return cookie_header(
        session_cookie_name(request.secure_cookies), value, secure=request.secure_cookies, max_age=SESSION_MAX_AGE
    )


def clear_session_cookie(request: PortalRequest) -> str:
    return cookie_header(session_cookie_name(request.secure_cookies), "", secure=request.secure_cookies, max_age=0)


class PortalUser:
    """The signed-in visitor. Their live session is read first (it signs them in and gives the language); their user
    record and memberships are read together (one query) when the page first needs them — so a page may answer
    before that read, as the invitation page does for a token it does not know."""

    def __init__(
        self,
        request: PortalRequest,
        session: Session,
        user_with_memberships: Callable[[str], tuple[User | None, Sequence[Membership]]],
    ) -> None:
        self.session = session
        self._request = request
        self._read = user_with_memberships
        self._loaded: tuple[User, list[Membership], Membership | None] | None = None

    def _load(self) -> tuple[User, list[Membership], Membership | None]:
        if self._loaded is None:
            profile, found = self._read(self.session.user_id)
            if profile is None:  # the user record is gone: the session no longer signs anyone in
                self._request.new_cookies.append(clear_session_cookie(self._request))
                raise SignInRequired(self._request.path)
            memberships = sorted(found, key=lambda m: (m.is_delegate, m.account_name.lower()))
            wanted = self._request.cookies.get(ACCOUNT_COOKIE)
            current = next((m for m in memberships if m.account_id == wanted), None) or next(iter(memberships), None)
            self._loaded = (profile, memberships, current)
        return self._loaded

    @property
    def user_id(self) -> str:
        return self.session.user_id

    @property
    def profile(self) -> User:
        return self._load()[0]

    @property
    def memberships(self) -> list[Membership]:
        return self._load()[1]

    @property
    def current(self) -> Membership | None:
        return self._load()[2]

    @property
    def accounts(self) -> list[Membership]:
        return [m for m in self.memberships if not m.is_delegate]

    @property
    def delegations(self) -> list[Membership]:
        return [m for m in self.memberships if m.is_delegate]

    @property
    def menu(self) -> Menu:
        """The layout's navigation, listed (and the memberships read) only when a page is rendered."""
        return Menu(lambda: self.current)


@dataclass(frozen=True)
class SignedInHeader:
    """The layout's header for a signed-in visitor whose memberships a page does not read: no account switcher."""

    memberships: tuple[Membership, ...] = ()
    current: Membership | None = None


def header_without_accounts(request: PortalRequest) -> None:
    """This page shows the signed-in header without the account switcher and the account's menu (it answers
    without reading the visitor's memberships)."""
    request.site.update(user=SignedInHeader(), navigation=navigation_for(None))


def identify(
    request: PortalRequest,
    live_session: Callable[[str], Session | None],
    user_with_memberships: Callable[[str], tuple[User | None, Sequence[Membership]]],
) -> PortalUser | None:
    """The signed-in visitor of this request (their live session: one read), or None; their user record and
    memberships are read when first needed."""
    cookie = request.cookies.get(session_cookie_name(request.secure_cookies))
    if not cookie:
        return None
    session = live_session(cookie)
    if session is None:
        request.new_cookies.append(clear_session_cookie(request))
        return None
    return PortalUser(request, session, user_with_memberships)


def portal_user(app: APIGatewayRestResolver) -> PortalUser | None:
    user = app.context.get("portal_user")
    return user if isinstance(user, PortalUser) else None


def require_user(app: APIGatewayRestResolver) -> PortalUser:
    user = portal_user(app)
    if user is None:
        request = current_request(app)
        raise SignInRequired(request.path)
    return user


def require_account(
    app: APIGatewayRestResolver, permission: Permission | None, *, owner_only: bool = False
) -> Membership:
    """The current account's membership through the one policy (404 page otherwise)."""
    user = require_user(app)
    return authorize(user.current, permission, mfa_passed=user.session.mfa_passed, owner_only=owner_only)
