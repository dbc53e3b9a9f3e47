"""The portal's main navigation, following the seeds' menus. Each capability adds its pages here."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from balcao.domain.accounts import Membership, Permission
from balcao.domain.errors import N_


@dataclass(frozen=True, slots=True)
class NavItem:
    path: str
    label: str
    permission: Permission | None = None
    owner_only: bool = False

    def visible_to(self, membership: Membership | None) -> bool:
        if membership is None or membership.is_delegate:
            return self.permission is None and not self.owner_only
        if self.owner_only:
            return membership.is_owner
        return self.permission is None or self.permission in membership.effective_permissions()


NAVIGATION: list[NavItem] = [
    NavItem("/", N_("Overview")),
    NavItem("/services", N_("Services"), Permission.SERVICES),
    NavItem("/invoices", N_("Invoices"), Permission.INVOICES),
    NavItem("/payment-methods", N_("Payment methods"), Permission.INVOICES),
    NavItem("/tickets", N_("Support"), Permission.TICKETS),
    NavItem("/contacts", N_("Contacts"), Permission.CONTACTS),
    NavItem("/users", N_("Users"), owner_only=True),
    NavItem("/emails", N_("Emails"), Permission.EMAILS),
    NavItem("/profile", N_("Profile"), Permission.PROFILE),
    NavItem("/audit", N_("Audit log"), owner_only=True),
    NavItem("/security", N_("Security")),
]


def navigation_for(membership: Membership | None) -> list[NavItem]:
    return [item for item in NAVIGATION if item.visible_to(membership)]


class Menu:
    """The navigation of a visitor whose memberships are read when the page first lists it (the layout's menu)."""

    def __init__(self, current: Callable[[], Membership | None]) -> None:
        self._current = current

    def __iter__(self) -> Iterator[NavItem]:
        return iter(navigation_for(self._current()))
