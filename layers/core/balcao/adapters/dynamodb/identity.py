"""Users, logins, sessions, one-time codes, pending logins and the rate limiter's buckets in the single table."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from pynamodb.exceptions import DeleteError, PutError, UpdateError

from balcao.adapters.dynamodb import keys
from balcao.adapters.dynamodb.accounts import (
    DynamoAccountStore,
    account_item,
    count_people,
    invitation_from_item,
    member_item,
    membership_from_item,
)
from balcao.adapters.dynamodb.email_log import DynamoServiceDirectory, service_label
from balcao.adapters.dynamodb.models import (
    AccountItem,
    BalcaoItem,
    InvitationItem,
    LookupItem,
    MemberItem,
    RateBucketItem,
    SecretItem,
    ServiceItem,
    SessionItem,
    UserItem,
)
from balcao.adapters.dynamodb.transaction import Transaction
from balcao.domain.accounts import AccountProfile, Invitation, InvitationOffer, Membership
from balcao.domain.calendar import epoch_seconds
from balcao.domain.errors import ConflictError
from balcao.domain.events import DomainEvent
from balcao.domain.identity import CodePurpose, OneTimeCode, Session, SessionKind, User, UserStatus

EMAIL_TAKEN = ConflictError()


def user_from_item(item: UserItem) -> User:
    return User(
        user_id=item.user_id,
        email=item.email,
        name=item.name,
        language=item.language,
        status=UserStatus(item.status),
        created_at=item.created_at,
        totp_enabled=bool(item.totp_enabled),
        totp_secret=item.totp_secret,
        totp_pending_secret=item.totp_pending_secret,
        totp_last_step=int(item.totp_last_step) if item.totp_last_step is not None else None,
        recovery_codes=tuple(str(c) for c in item.recovery_codes or []),
    )


def session_from_item(item: SessionItem) -> Session:
    return Session(
        session_key=item.pk.removeprefix(keys.SESSION_PREFIX),
        session_id=item.session_id,
        user_id=item.user_id,
        email=item.email,
        language=item.language,
        kind=SessionKind(item.kind),
        created_at=item.created_at,
        last_seen_at=item.last_seen_at,
        expires_at=item.expires_at,
        mfa_passed=bool(item.mfa_passed),
        is_staff=bool(item.is_staff),
        device=item.device,
        ip=item.ip,
        revoked_at=item.revoked_at,
    )


def _user_key(user_id: str) -> UserItem:
    return UserItem(pk=keys.user_pk(user_id), sk=keys.PROFILE)


class DynamoIdentityStore(DynamoAccountStore):
    """Implements the identity store (and, through its base, the account store) of the auth use-cases."""

    # --- users -------------------------------------------------------------------------------------------
    def user_id_for_email(self, email: str) -> str | None:
        try:
            return str(LookupItem.get(keys.login_lookup_pk(email), keys.LOOKUP).target["user_id"])
        except LookupItem.DoesNotExist:
            return None

    def user(self, user_id: str) -> User | None:
        try:
            return user_from_item(UserItem.get(keys.user_pk(user_id), keys.PROFILE))
        except UserItem.DoesNotExist:
            return None

    def invitation_offer(self, token: str, visitor_id: str) -> InvitationOffer | None:
        """The invitation of a token with what its page shows: the lookup, then one BatchGet of the invitation, the
        account, the visitor's and the inviter's user records and the service (ids kept on the lookup). A lookup
        written before it kept them costs a read more per missing name."""
        try:
            target = LookupItem.get(keys.invite_lookup_pk(token), keys.LOOKUP).target
        except LookupItem.DoesNotExist:
            return None
        pk = keys.account_pk(str(target["account_id"]))
        wanted = [(pk, keys.invitation_sk(str(target["invitation_id"]))), (pk, keys.PROFILE)]
        user_ids = [visitor_id, *([str(target["invited_by"])] if target.get("invited_by") else [])]
        wanted += [(keys.user_pk(u), keys.PROFILE) for u in user_ids]
        if target.get("service_id"):
            wanted.append((pk, keys.service_sk(str(target["service_id"]))))
        invitation: Invitation | None = None
        account_name: str | None = None
        names: dict[str, User] = {}
        service_name: str | None = None
        for item in BalcaoItem.batch_get(list(dict.fromkeys(wanted))):
            if isinstance(item, InvitationItem):
                invitation = invitation_from_item(item)
            elif isinstance(item, AccountItem):
                account_name = item.name
            elif isinstance(item, UserItem):
                names[item.user_id] = user_from_item(item)
            elif isinstance(item, ServiceItem):
                service_name = service_label(item)
        if invitation is None or account_name is None:
            return None
        if "invited_by" not in target:
            inviter = self.user(invitation.invited_by)
            if inviter is not None:
                names[inviter.user_id] = inviter
            if invitation.service_id:
                service_name = DynamoServiceDirectory().service_name(invitation.account_id, invitation.service_id)
        inviter_found = names.get(invitation.invited_by)
        visitor = names.get(visitor_id)
        return InvitationOffer(
            invitation=invitation,
            account_name=account_name,
            inviter_name=inviter_found.name if inviter_found else None,
            service_name=service_name,
            visitor_email=visitor.email if visitor else None,
        )

    def user_with_memberships(self, user_id: str) -> tuple[User | None, list[Membership]]:
        """The user's record and memberships in one query (GSI1 ``USER#{user}`` below ``SESSION#``)."""
        user: User | None = None
        memberships: list[Membership] = []
        for item in BalcaoItem.by_gsi1.query(keys.gsi1_user_pk(user_id), BalcaoItem.gsi1sk < keys.SESSION_PREFIX):
            if isinstance(item, UserItem):
                user = user_from_item(item)
            elif isinstance(item, MemberItem):
                memberships.append(membership_from_item(item))
        return user, memberships

    def create_signup(
        self, user: User, account: AccountProfile, owner: Membership, code: OneTimeCode, events: Sequence[DomainEvent]
    ) -> None:
        transaction = Transaction()
        transaction.save(
            LookupItem(pk=keys.login_lookup_pk(user.email), sk=keys.LOOKUP, target={"user_id": user.user_id}),
            condition=LookupItem.pk.does_not_exist(),
            error=EMAIL_TAKEN,
        )
        item = UserItem(
            pk=keys.user_pk(user.user_id),
            sk=keys.PROFILE,
            user_id=user.user_id,
            email=user.email,
            name=user.name,
            language=user.language,
            status=user.status.value,
            created_at=user.created_at,
            terms_version=account.terms_version,
            terms_accepted_at=user.created_at,
            gsi1pk=keys.gsi1_user_pk(user.user_id),
            gsi1sk=keys.gsi1_user_profile_sk(),
            gsi3pk=keys.QUEUE_UNCONFIRMED_SIGNUPS,
            gsi3sk=keys.gsi3_queue_sk(user.created_at.isoformat(), user.user_id),
        )
        transaction.save(item, condition=UserItem.pk.does_not_exist())
        transaction.save(account_item(account), condition=AccountItem.pk.does_not_exist())
        transaction.save(member_item(owner, user.created_at), condition=MemberItem.pk.does_not_exist())
        count_people(transaction, account.account_id, users=1)
        transaction.save(self._code_item(code))
        for event in events:
            transaction.emit(event)
        transaction.commit()

    def create_user(self, user: User) -> None:
        """A login without an account of its own (staff), created confirmed."""
        transaction = Transaction()
        transaction.save(
            LookupItem(pk=keys.login_lookup_pk(user.email), sk=keys.LOOKUP, target={"user_id": user.user_id}),
            condition=LookupItem.pk.does_not_exist(),
            error=EMAIL_TAKEN,
        )
        transaction.save(
            UserItem(
                pk=keys.user_pk(user.user_id),
                sk=keys.PROFILE,
                gsi1pk=keys.gsi1_user_pk(user.user_id),
                gsi1sk=keys.gsi1_user_profile_sk(),
                user_id=user.user_id,
                email=user.email,
                name=user.name,
                language=user.language,
                status=user.status.value,
                created_at=user.created_at,
                totp_enabled=user.totp_enabled,
                totp_secret=user.totp_secret,
            ),
            condition=UserItem.pk.does_not_exist(),
        )
        transaction.commit()

    def confirm_user(self, user_id: str, events: Sequence[DomainEvent]) -> None:
        transaction = Transaction()
        transaction.update(
            _user_key(user_id),
            actions=[UserItem.status.set(UserStatus.ACTIVE.value), UserItem.gsi3pk.remove(), UserItem.gsi3sk.remove()],
            condition=UserItem.status == UserStatus.UNCONFIRMED.value,
        )
        for event in events:
            transaction.emit(event)
        transaction.commit()

    def change_login_email(
        self, user: User, new_email: str, also_contract_email: bool, events: Sequence[DomainEvent]
    ) -> None:
        transaction = Transaction()
        transaction.delete(LookupItem(pk=keys.login_lookup_pk(user.email), sk=keys.LOOKUP))
        transaction.save(
            LookupItem(pk=keys.login_lookup_pk(new_email), sk=keys.LOOKUP, target={"user_id": user.user_id}),
            condition=LookupItem.pk.does_not_exist(),
            error=EMAIL_TAKEN,
        )
        transaction.update(
            _user_key(user.user_id), actions=[UserItem.email.set(new_email)], condition=UserItem.pk.exists()
        )
        for membership in self.memberships_of(user.user_id):
            transaction.update(
                MemberItem(pk=keys.account_pk(membership.account_id), sk=keys.member_sk(user.user_id)),
                actions=[MemberItem.user_email.set(new_email)],
                condition=MemberItem.pk.exists(),
            )
            if also_contract_email and membership.is_owner:
                transaction.update(
                    AccountItem(pk=keys.account_pk(membership.account_id), sk=keys.PROFILE),
                    actions=[AccountItem.notice_email.set(new_email)],
                    condition=AccountItem.notice_email == user.email,
                )
        for session in self.sessions_of(user.user_id):
            if session.revoked_at is None:
                transaction.update(
                    SessionItem(pk=keys.session_pk(session.session_key), sk=keys.SESSION),
                    actions=[SessionItem.email.set(new_email)],
                    condition=SessionItem.pk.exists(),
                )
        for event in events:
            transaction.emit(event)
        transaction.commit()

    def emit(self, events: Sequence[DomainEvent]) -> None:
        transaction = Transaction()
        for event in events:
            transaction.emit(event)
        transaction.commit()

    # --- one-time codes ------------------------------------------------------------------------------------
    @staticmethod
    def _code_item(code: OneTimeCode) -> SecretItem:
        return SecretItem(
            pk=keys.code_pk(code.purpose.value, code.subject),
            sk=keys.CODE,
            digest=code.digest,
            subject=code.subject,
            attempts=code.attempts,
            expires_at=code.expires_at,
            payload=dict(code.payload),
            ttl=epoch_seconds(code.expires_at) + 3600,
        )

    def save_code(self, code: OneTimeCode, events: Sequence[DomainEvent]) -> None:
        transaction = Transaction()
        transaction.save(self._code_item(code))
        for event in events:
            transaction.emit(event)
        transaction.commit()

    def code(self, purpose: CodePurpose, subject: str) -> OneTimeCode | None:
        try:
            item = SecretItem.get(keys.code_pk(purpose.value, subject), keys.CODE)
        except SecretItem.DoesNotExist:
            return None
        return OneTimeCode(
            purpose,
            subject,
            item.digest or "",
            item.expires_at,
            int(item.attempts or 0),
            {k: str(v) for k, v in (item.payload or {}).items()},
        )

    def count_code_attempt(self, purpose: CodePurpose, subject: str) -> int:
        item = SecretItem(pk=keys.code_pk(purpose.value, subject), sk=keys.CODE)
        try:
            item.update(actions=[SecretItem.attempts.add(1)], condition=SecretItem.pk.exists())
        except UpdateError:
            return 0
        return int(item.attempts or 0)

    def delete_code(self, purpose: CodePurpose, subject: str) -> None:
        SecretItem(pk=keys.code_pk(purpose.value, subject), sk=keys.CODE).delete()

    # --- sessions ------------------------------------------------------------------------------------------
    def create_session(self, session: Session, refresh_token: str | None, events: Sequence[DomainEvent]) -> None:
        transaction = Transaction()
        transaction.save(
            SessionItem(
                pk=keys.session_pk(session.session_key),
                sk=keys.SESSION,
                gsi1pk=keys.gsi1_user_pk(session.user_id),
                gsi1sk=keys.gsi1_session_sk(session.session_id),
                session_id=session.session_id,
                user_id=session.user_id,
                email=session.email,
                language=session.language,
                kind=session.kind.value,
                created_at=session.created_at,
                last_seen_at=session.last_seen_at,
                expires_at=session.expires_at,
                mfa_passed=session.mfa_passed,
                is_staff=session.is_staff,
                device=session.device,
                ip=session.ip,
                refresh_hash=keys.digest(refresh_token) if refresh_token else None,
                ttl=epoch_seconds(session.expires_at) + 86400,
            ),
            condition=SessionItem.pk.does_not_exist(),
        )
        if refresh_token:
            transaction.save(
                LookupItem(
                    pk=keys.refresh_lookup_pk(refresh_token),
                    sk=keys.LOOKUP,
                    target={"session_key": session.session_key},
                    ttl=epoch_seconds(session.expires_at) + 86400,
                )
            )
        for event in events:
            transaction.emit(event)
        transaction.commit()

    def session(self, session_key: str) -> Session | None:
        try:
            return session_from_item(SessionItem.get(keys.session_pk(session_key), keys.SESSION))
        except SessionItem.DoesNotExist:
            return None

    def session_for_refresh(self, refresh_token: str) -> Session | None:
        try:
            lookup = LookupItem.get(keys.refresh_lookup_pk(refresh_token), keys.LOOKUP)
        except LookupItem.DoesNotExist:
            return None
        return self.session(str(lookup.target["session_key"]))

    def touch_session(self, session_key: str, now: datetime) -> None:
        try:
            SessionItem(pk=keys.session_pk(session_key), sk=keys.SESSION).update(
                actions=[SessionItem.last_seen_at.set(now)], condition=SessionItem.revoked_at.does_not_exist()
            )
        except UpdateError as error:
            if error.cause_response_code != "ConditionalCheckFailedException":
                raise

    def revoke_session(self, session_key: str, now: datetime) -> None:
        try:
            SessionItem(pk=keys.session_pk(session_key), sk=keys.SESSION).update(
                actions=[SessionItem.revoked_at.set(now)],
                condition=SessionItem.pk.exists() & SessionItem.revoked_at.does_not_exist(),
            )
        except UpdateError as error:
            if error.cause_response_code != "ConditionalCheckFailedException":
                raise

    def sessions_of(self, user_id: str) -> list[Session]:
        items = SessionItem.by_gsi1.query(
            keys.gsi1_user_pk(user_id), SessionItem.gsi1sk.startswith(keys.SESSION_PREFIX)
        )
        return [session_from_item(i) for i in items if isinstance(i, SessionItem)]

    def revoke_sessions_of(self, user_id: str, now: datetime, keep: str | None) -> int:
        revoked = 0
        for session in self.sessions_of(user_id):
            if session.session_key != keep and session.revoked_at is None:
                self.revoke_session(session.session_key, now)
                revoked += 1
        return revoked

    # --- pending logins (wall time) -------------------------------------------------------------------------
    def put_pending_login(self, token: str, user_id: str, sealed_tokens: str, expires_epoch: int, kind: str) -> None:
        SecretItem(
            pk=keys.pending_login_pk(token),
            sk=keys.LOOKUP,
            subject=user_id,
            sealed=sealed_tokens,
            expires_at=datetime.fromtimestamp(expires_epoch, UTC),
            payload={"kind": kind},
            ttl=expires_epoch + 3600,
        ).save()

    def take_pending_login(self, token: str) -> tuple[str, str, int, str] | None:
        """Single use: the item is deleted as it is read (a second attempt finds nothing)."""
        try:
            taken = SecretItem.get(keys.pending_login_pk(token), keys.LOOKUP)
            taken.delete(condition=SecretItem.sealed == taken.sealed)
        except (SecretItem.DoesNotExist, DeleteError):
            return None
        return (
            str(taken.subject),
            str(taken.sealed),
            int(taken.expires_at.timestamp()),
            str(taken.payload.get("kind", "api:0")),
        )

    # --- TOTP ----------------------------------------------------------------------------------------------
    def set_totp_pending(self, user_id: str, sealed_secret: str) -> None:
        _user_key(user_id).update(
            actions=[UserItem.totp_pending_secret.set(sealed_secret)], condition=UserItem.pk.exists()
        )

    def enable_totp(self, user_id: str, recovery_hashes: list[str], events: Sequence[DomainEvent]) -> None:
        item = UserItem.get(keys.user_pk(user_id), keys.PROFILE)
        transaction = Transaction()
        transaction.update(
            _user_key(user_id),
            actions=[
                UserItem.totp_secret.set(item.totp_pending_secret),
                UserItem.totp_pending_secret.remove(),
                UserItem.totp_enabled.set(True),
                UserItem.recovery_codes.set(recovery_hashes),  # type: ignore[arg-type]  # PynamoDB types lists of attributes
                UserItem.totp_last_step.remove(),
            ],
            condition=UserItem.totp_pending_secret == item.totp_pending_secret,
        )
        for event in events:
            transaction.emit(event)
        transaction.commit()

    def disable_totp(self, user_id: str, events: Sequence[DomainEvent]) -> None:
        transaction = Transaction()
        transaction.update(
            _user_key(user_id),
            actions=[
                UserItem.totp_enabled.set(False),
                UserItem.totp_secret.remove(),
                UserItem.recovery_codes.remove(),
                UserItem.totp_last_step.remove(),
            ],
            condition=UserItem.pk.exists(),
        )
        for event in events:
            transaction.emit(event)
        transaction.commit()

    def use_totp_step(self, user_id: str, step: int) -> bool:
        """Record the step as used; False when it (or a later one) was used already (a replayed code)."""
        try:
            _user_key(user_id).update(
                actions=[UserItem.totp_last_step.set(step)],
                condition=UserItem.totp_last_step.does_not_exist() | (UserItem.totp_last_step < step),
            )
        except UpdateError as error:
            if error.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def use_recovery_code(self, user_id: str, code_hash: str, events: Sequence[DomainEvent]) -> bool:
        """A recovery code works once and turns 2FA off (the user is asked to enrol again)."""
        item = UserItem.get(keys.user_pk(user_id), keys.PROFILE)
        codes = [str(c) for c in item.recovery_codes or []]
        if code_hash not in codes:
            return False
        transaction = Transaction()
        transaction.update(
            _user_key(user_id),
            actions=[
                UserItem.totp_enabled.set(False),
                UserItem.totp_secret.remove(),
                UserItem.recovery_codes.remove(),
                UserItem.totp_last_step.remove(),
            ],
            condition=UserItem.recovery_codes.contains(code_hash),
        )
        for event in events:
            transaction.emit(event)
        try:
            transaction.commit()
        except ConflictError:
            return False
        return True


class DynamoRateLimiter:
    """Token buckets (capacity, refill per second) keyed by route and a subject (source IP or email); wall time.

    A request reads its bucket and writes it back refilled and less one token, on condition that nobody wrote it
    meanwhile. When somebody did (requests at once from one office behind one address), that writer has just
    refilled the bucket: the request takes one of the tokens it left with an atomic decrement that never goes below
    zero. So a lost race is never taken for an empty bucket, and the bucket never admits more than it holds."""

    def take(self, route: str, subject: str, capacity: int, refill_per_second: float, now: float) -> bool:
        pk, sk = keys.rate_bucket_pk(route, subject), keys.BUCKET
        try:
            current = RateBucketItem.get(pk, sk)
        except RateBucketItem.DoesNotExist:
            tokens, condition = float(capacity), RateBucketItem.pk.does_not_exist()
        else:
            elapsed = max(0.0, now - float(current.updated_at))
            tokens = min(float(capacity), float(current.tokens) + elapsed * refill_per_second)
            if tokens < 1:
                return False
            condition = (RateBucketItem.updated_at == current.updated_at) & (RateBucketItem.tokens == current.tokens)
        item = RateBucketItem(pk=pk, sk=sk, tokens=tokens - 1, updated_at=now, ttl=int(now) + 86400)
        try:
            item.save(condition=condition)
            return True
        except PutError as error:
            if error.cause_response_code != "ConditionalCheckFailedException":
                raise
        try:
            RateBucketItem(pk=pk, sk=sk).update(
                actions=[RateBucketItem.tokens.add(-1)], condition=RateBucketItem.tokens >= 1
            )
            return True
        except UpdateError as error:
            if error.cause_response_code != "ConditionalCheckFailedException":
                raise
        return False
