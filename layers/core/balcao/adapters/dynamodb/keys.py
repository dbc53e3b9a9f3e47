"""Every key shape of the single table. Nothing else in the code base builds key strings.

Access patterns and their queries are listed in docs/access-patterns.md; keep both in step.

Conventions: ``UPPER#id`` segments joined by ``#``; dates and timestamps inside sort keys are ISO 8601 so they sort;
ids are ULIDs (time-sortable). A lookup item (``<KIND>#<value>`` / ``LOOKUP``) points from a single natural id to
its owner.
"""

from __future__ import annotations

# --- sort-key constants and prefixes -------------------------------------------------------------------------
SETTINGS = "COMPANY"
AUDIT_PREFIX = "AUDIT#"


# --- company-wide items ---------------------------------------------------------------------------------------
def settings_pk() -> str:
    return "SETTINGS"


# --- accounts and their collections ---------------------------------------------------------------------------
def account_pk(account_id: str) -> str:
    return f"ACCOUNT#{account_id}"


def audit_sk(audit_id: str) -> str:
    return f"{AUDIT_PREFIX}{audit_id}"


# --- users ----------------------------------------------------------------------------------------------------
def user_audit_pk(user_id: str) -> str:
    """Audit entries of actions that concern a user, not an account (sign-in, password, 2FA, staff settings)."""
    return f"USERAUDIT#{user_id}"
