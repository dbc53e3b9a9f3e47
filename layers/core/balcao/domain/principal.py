"""Who is calling: the signed-in user behind a request, and the staff roles of API.md."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class StaffRole(StrEnum):
    SUPPORT = "staff_support"
    FINANCE = "staff_finance"
    ADMIN = "staff_admin"


@dataclass(frozen=True, slots=True)
class Principal:
    user_id: str
    email: str
    groups: frozenset[str] = field(default_factory=frozenset)
    session_key: str | None = None
    mfa_passed: bool = False
    language: str | None = None

    @property
    def staff_roles(self) -> frozenset[StaffRole]:
        return frozenset(StaffRole(g) for g in self.groups if g in StaffRole._value2member_map_)

    @property
    def is_staff(self) -> bool:
        return bool(self.staff_roles)

    def has_staff_role(self, allowed: frozenset[StaffRole]) -> bool:
        """Admins may do everything staff may do; other roles only what ``allowed`` lists."""
        roles = self.staff_roles
        return StaffRole.ADMIN in roles or bool(roles & allowed)
