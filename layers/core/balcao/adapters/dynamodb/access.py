"""The principal loader's read: the session record and the caller's membership in one TransactGet."""

from __future__ import annotations

from pynamodb.transactions import TransactGet

from balcao.adapters.dynamodb import keys
from balcao.adapters.dynamodb.accounts import membership_from_item
from balcao.adapters.dynamodb.identity import session_from_item
from balcao.adapters.dynamodb.models import BalcaoItem, MemberItem, SessionItem
from balcao.domain.accounts import Membership
from balcao.domain.identity import Session


class DynamoAccessReader:
    def load(self, session_key: str, account_id: str | None, user_id: str) -> tuple[Session | None, Membership | None]:
        if not account_id:
            try:
                return session_from_item(SessionItem.get(keys.session_pk(session_key), keys.SESSION)), None
            except SessionItem.DoesNotExist:
                return None, None
        with TransactGet(connection=BalcaoItem._get_connection().connection) as read:
            session_future = read.get(SessionItem, keys.session_pk(session_key), keys.SESSION)
            member_future = read.get(MemberItem, keys.account_pk(account_id), keys.member_sk(user_id))
        try:
            session = session_from_item(session_future.get())
        except SessionItem.DoesNotExist:
            session = None
        try:
            membership = membership_from_item(member_future.get())
        except MemberItem.DoesNotExist:
            membership = None
        return session, membership
