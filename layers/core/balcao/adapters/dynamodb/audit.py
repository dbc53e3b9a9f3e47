"""Audit entries under the account (``ACCOUNT#{id}`` / ``AUDIT#{ulid}``) or the user (``USERAUDIT#{user}``)."""

from __future__ import annotations

from balcao.adapters.dynamodb import keys
from balcao.adapters.dynamodb.models import AuditItem
from balcao.domain.audit import AuditEntry


class DynamoAuditLog:
    def record(self, entry: AuditEntry) -> None:
        if entry.account_id:
            partition = keys.account_pk(entry.account_id)
        elif entry.actor_user_id:
            partition = keys.user_audit_pk(entry.actor_user_id)
        else:
            return
        AuditItem(
            pk=partition,
            sk=keys.audit_sk(entry.audit_id),
            audit_id=entry.audit_id,
            at=entry.at,
            actor_user_id=entry.actor_user_id,
            actor_email=entry.actor_email,
            account_id=entry.account_id,
            action=entry.action,
            target=dict(entry.target),
            source_ip=entry.source_ip,
            request_id=entry.request_id,
            staff=1 if entry.staff else 0,
            gsi3pk=keys.retention_bucket("audit", entry.at.strftime("%Y-%m")),
            gsi3sk=keys.gsi3_queue_sk(entry.at.isoformat(), entry.audit_id),
        ).save()
