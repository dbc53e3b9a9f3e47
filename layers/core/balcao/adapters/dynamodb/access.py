"""The principal loader's read: the session record, the caller's membership and (when a route asks) the account's
profile and the user's own record — in one TransactGet."""

from __future__ import annotations

from pynamodb.transactions import TransactGet

from balcao.adapters.dynamodb import keys
from balcao.adapters.dynamodb.accounts import account_from_item, membership_from_item
from balcao.adapters.dynamodb.identity import session_from_item, user_from_item
from balcao.adapters.dynamodb.models import AccountItem, BalcaoItem, MemberItem, SessionItem, UserItem
from balcao.services.ports import AccessRead


class DynamoAccessReader:
    def load(
        self,
        session_key: str,
        user_id: str,
        account_id: str | None,
        *,
        with_account: bool = False,
        with_user: bool = False,
    ) -> AccessRead:
        with TransactGet(connection=BalcaoItem._get_connection().connection) as read:
            session_future = read.get(SessionItem, keys.session_pk(session_key), keys.SESSION)
            member_future = (
                read.get(MemberItem, keys.account_pk(account_id), keys.member_sk(user_id)) if account_id else None
            )
            account_future = (
                read.get(AccountItem, keys.account_pk(account_id), keys.PROFILE)
                if account_id and with_account
                else None
            )
            user_future = read.get(UserItem, keys.user_pk(user_id), keys.PROFILE) if with_user else None
        found = AccessRead()
        try:
            found.session = session_from_item(session_future.get())
        except SessionItem.DoesNotExist:
            return found
        if member_future is not None:
            try:
                found.membership = membership_from_item(member_future.get())
            except MemberItem.DoesNotExist:
                found.membership = None
        if account_future is not None:
            try:
                found.account = account_from_item(account_future.get())
            except AccountItem.DoesNotExist:
                found.account = None
        if user_future is not None:
            try:
                found.user = user_from_item(user_future.get())
            except UserItem.DoesNotExist:
                found.user = None
        return found
