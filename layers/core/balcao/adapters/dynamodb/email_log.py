"""The account's email log (``EMAIL#{ulid}`` items, newest first), and a service's name as the identity capability
needs it (a technical delegate's invitation)."""

from __future__ import annotations

from balcao.adapters.dynamodb import keys
from balcao.adapters.dynamodb.cursors import TABLE_KEY, encode_cursor, start_key
from balcao.adapters.dynamodb.models import EmailLogItem, ServiceItem
from balcao.domain.accounts import Department
from balcao.services.notifications import LoggedEmail


def logged_from_item(item: EmailLogItem) -> LoggedEmail:
    return LoggedEmail(
        email_id=item.email_id,
        sent_at=item.sent_at,
        subject=item.subject,
        recipient=item.recipient,
        department=Department(item.department),
        status=item.status,
        text=item.body_text,
        html=item.body_html,
        status_at=item.status_at,
    )


class DynamoEmailLog:
    def list(self, account_id: str, limit: int, cursor: str | None) -> tuple[list[LoggedEmail], str | None]:
        results = EmailLogItem.query(
            keys.account_pk(account_id),
            EmailLogItem.sk.startswith(keys.EMAIL_PREFIX),
            scan_index_forward=False,
            limit=limit,
            last_evaluated_key=start_key(cursor, {"pk": keys.account_pk(account_id)}, TABLE_KEY),
        )
        entries = [logged_from_item(i) for i in results]
        return entries, encode_cursor(results.last_evaluated_key)

    def get(self, account_id: str, email_id: str) -> LoggedEmail | None:
        try:
            return logged_from_item(EmailLogItem.get(keys.account_pk(account_id), keys.email_sk(email_id)))
        except EmailLogItem.DoesNotExist:
            return None


def service_label(item: ServiceItem) -> str:
    """How a service is named to people: its plan's name, with its domain when it has one."""
    return f"{item.name} ({item.domain})" if item.domain else item.name


class DynamoServiceDirectory:
    def service_name(self, account_id: str, service_id: str) -> str | None:
        try:
            item = ServiceItem.get(keys.account_pk(account_id), keys.service_sk(service_id))
        except ServiceItem.DoesNotExist:
            return None
        return service_label(item)
