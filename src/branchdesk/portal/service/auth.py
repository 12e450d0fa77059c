"""Customer logins: enrolment, activation, password + one-time code, lock-out, logout.

Failed steps change state (attempt counters, locks, audit rows) that must be committed, so the
step functions return their error instead of raising it; the caller commits, then raises.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from branchdesk.core.errors import DomainError, RuleViolation
from branchdesk.core.ids import new_id
from branchdesk.core.notify import Message, queue_notification, register_template
from branchdesk.core.security import Signer, hash_password, needs_rehash, verify_password
from branchdesk.customers.models import Customer
from branchdesk.identity.audit import append_audit
from branchdesk.identity.principal import Principal
from branchdesk.identity.roles import Permission
from branchdesk.identity.service import check_password_policy
from branchdesk.portal.config import PortalSettings
from branchdesk.portal.models import ChallengePurpose, LoginStatus, PortalChallenge, PortalLogin
from branchdesk.portal.service.common import (
    CodeRejected,
    CustomerNotFound,
    CustomerPrincipal,
    InvalidLogin,
    PortalAccountLocked,
    TooSoon,
    customer_principal,
    mask_email,
    mask_phone,
)

register_template(
    "portal.login_code",
    {
        "zh-Hant": "branchdesk 網路銀行登入驗證碼:{code},{minutes} 分鐘內有效。請勿告訴任何人。",
        "zh-Hans": "branchdesk 网上银行登录验证码:{code},{minutes} 分钟内有效。请勿告诉任何人。",
        "en": "branchdesk online banking code: {code}, valid for {minutes} minutes. "
        "Never share it.",
    },
)
register_template(
    "portal.activation_code",
    {
        "zh-Hant": "您已開通 branchdesk 網路銀行。啟用碼:{code}({hours} 小時內有效),"
        "請至 /my/activate 設定密碼。",
        "zh-Hans": "您已开通 branchdesk 网上银行。激活码:{code}({hours} 小时内有效),"
        "请至 /my/activate 设置密码。",
        "en": "Your branchdesk online banking is ready. Activation code: {code} (valid for "
        "{hours} hours); set your password at /my/activate.",
    },
)

WEAK_MIN_LENGTH = 10


@dataclass(frozen=True, slots=True)
class CodeSent:
    challenge_id: uuid.UUID
    expires_at: datetime
    sent_to: str  # masked phone or e-mail
    message_id: uuid.UUID | None = None  # the notification's event id (None: sent earlier)


@dataclass(frozen=True, slots=True)
class LoginStep:
    sent: CodeSent | None
    error: DomainError | None


@dataclass(frozen=True, slots=True)
class VerifyStep:
    customer: CustomerPrincipal | None
    error: DomainError | None


@dataclass(frozen=True, slots=True)
class Enrolment:
    customer_number: str
    status: LoginStatus
    sent: CodeSent | None


def _code_hash(signer: Signer, challenge_id: uuid.UUID, code: str) -> str:
    return signer.lookup_hash(f"portal-otp:{challenge_id}:{code.strip()}")


def _audit(
    db: Session,
    action: str,
    now: datetime,
    *,
    customer: Customer,
    outcome: str = "ok",
    reason: str = "",
    actor: Principal | None = None,
    actor_label: str | None = None,
) -> None:
    append_audit(
        db,
        action=action,
        object_type="customer",
        object_id=customer.id,
        branch_id=customer.home_branch_id,
        now=now,
        actor=actor,
        actor_label=actor_label or f"customer:{customer.customer_number}",
        outcome=outcome,
        detail={"reason": reason} if reason else {},
    )


def _send_code(
    db: Session,
    *,
    signer: Signer,
    login: PortalLogin,
    customer: Customer,
    purpose: ChallengePurpose,
    lifetime: timedelta,
    now: datetime,
) -> CodeSent:
    """A fresh six-digit code (earlier open ones of the purpose are closed), queued for sending."""
    db.execute(
        update(PortalChallenge)
        .where(
            PortalChallenge.login_id == login.id,
            PortalChallenge.purpose == purpose,
            PortalChallenge.consumed_at.is_(None),
        )
        .values(consumed_at=now)
        .execution_options(synchronize_session=False)
    )
    code = f"{secrets.randbelow(10**6):06d}"
    challenge = PortalChallenge(
        id=new_id(),
        login_id=login.id,
        purpose=purpose,
        attempts=0,
        expires_at=now + lifetime,
        created_at=now,
        consumed_at=None,
        code_hash="",
    )
    challenge.code_hash = _code_hash(signer, challenge.id, code)
    db.add(challenge)
    db.flush()
    if purpose is ChallengePurpose.login:
        template = "portal.login_code"
        values = {"code": code, "minutes": str(int(lifetime.total_seconds() // 60))}
    else:
        template = "portal.activation_code"
        values = {"code": code, "hours": str(int(lifetime.total_seconds() // 3600))}
    message_id = queue_notification(
        db,
        message=Message(
            template=template,
            locale=customer.preferred_locale,
            to_phone=customer.phone,
            to_email=customer.email,
            values=values,
        ),
        now=now,
        aggregate_type="portal_login",
        aggregate_id=login.id,
        branch_id=customer.home_branch_id,
    )
    return CodeSent(
        challenge_id=challenge.id,
        expires_at=challenge.expires_at,
        sent_to=mask_phone(customer.phone) or mask_email(customer.email),
        message_id=message_id,
    )


def find_customer(db: Session, identifier: str) -> Customer | None:
    """By customer number, or by a phone number / e-mail address only one customer has."""
    value = identifier.strip()
    if not value:
        return None
    by_number = db.execute(
        select(Customer).where(Customer.customer_number == value)
    ).scalar_one_or_none()
    if by_number is not None:
        return by_number
    matches = list(
        db.execute(
            select(Customer)
            .where(or_(Customer.phone == value, Customer.email == value.lower()))
            .limit(2)
        ).scalars()
    )
    return matches[0] if len(matches) == 1 else None


def _login_of(db: Session, customer: Customer, *, lock: bool = False) -> PortalLogin | None:
    query = select(PortalLogin).where(PortalLogin.customer_id == customer.id)
    if lock:
        query = query.with_for_update()
    return db.execute(query).scalar_one_or_none()


# --- enrolment and activation ------------------------------------------------------------------


def enrol(
    db: Session,
    *,
    customer_number: str,
    actor: Principal | None,
    signer: Signer,
    settings: PortalSettings,
    now: datetime,
    password: str | None = None,
    actor_label: str = "cli",
) -> Enrolment:
    """Set up (or reset) a customer's login. With a password it is active at once (CLI, seed);
    without one an activation code is sent. Raises Forbidden, CustomerNotFound, RuleViolation
    (no phone or e-mail to send codes to; weak password)."""
    if actor is not None:
        actor.require(Permission.customer_manage)
    customer = db.execute(
        select(Customer).where(Customer.customer_number == customer_number.strip())
    ).scalar_one_or_none()
    if customer is None:
        raise CustomerNotFound("no such customer", field="customer_number")
    if actor is not None and customer.home_branch_id is not None:
        actor.require(Permission.customer_manage, customer.home_branch_id)
    if not customer.phone and not customer.email:
        raise RuleViolation(
            "the customer needs a phone number or an e-mail address for one-time codes",
            field="phone",
            code="no_contact",
        )
    if password is not None:
        check_password_policy(
            password, username=customer.customer_number, min_length=WEAK_MIN_LENGTH
        )
    login = _login_of(db, customer, lock=True)
    if login is None:
        login = PortalLogin(
            id=new_id(),
            customer_id=customer.id,
            failed_count=0,
            auth_epoch=0,
            daily_limits={},
            created_at=now,
        )
        db.add(login)
    else:
        login.auth_epoch += 1  # a reset ends every session and token
    login.enrolled_by_id = actor.user_id if actor else None
    login.failed_count = 0
    login.locked_until = None
    login.updated_at = now
    sent: CodeSent | None = None
    if password is not None:
        login.password_hash = hash_password(password)
        login.status = LoginStatus.active
        login.activated_at = now
        db.flush()
    else:
        login.password_hash = None
        login.status = LoginStatus.pending_activation
        login.activated_at = None
        db.flush()
        sent = _send_code(
            db, signer=signer, login=login, customer=customer,
            purpose=ChallengePurpose.activation,
            lifetime=timedelta(hours=settings.activation_hours), now=now,
        )  # fmt: skip
    _audit(db, "portal.enrol", now, customer=customer, actor=actor, actor_label=actor_label)
    return Enrolment(customer.customer_number, LoginStatus(login.status), sent)


def _check_code(
    db: Session,
    *,
    challenge: PortalChallenge,
    login: PortalLogin,
    customer: Customer,
    code: str,
    signer: Signer,
    settings: PortalSettings,
    now: datetime,
) -> DomainError | None:
    """None when the code is right (the challenge is then used up); else the error to raise."""
    if challenge.consumed_at is not None:
        return CodeRejected("this code was already used or replaced; ask for a new one")
    if challenge.expires_at <= now:
        challenge.consumed_at = now
        return CodeRejected("this code has expired; ask for a new one", code="code_expired")
    if secrets.compare_digest(challenge.code_hash, _code_hash(signer, challenge.id, code)):
        challenge.consumed_at = now
        return None
    challenge.attempts += 1
    login.failed_count += 1
    if challenge.attempts >= settings.otp_max_attempts:
        challenge.consumed_at = now
    if login.failed_count >= settings.max_failures:
        return _lock(db, login, customer, now, settings, reason="wrong_code")
    _audit(db, "portal.code_failed", now, customer=customer, outcome="refused")
    if challenge.consumed_at is not None:
        return CodeRejected(
            "too many wrong codes; ask for a new one", code="too_many_attempts", field="code"
        )
    return CodeRejected("wrong code", field="code")


def _lock(
    db: Session,
    login: PortalLogin,
    customer: Customer,
    now: datetime,
    settings: PortalSettings,
    *,
    reason: str,
) -> DomainError:
    login.locked_until = now + timedelta(minutes=settings.lockout_minutes)
    login.failed_count = 0
    db.execute(
        update(PortalChallenge)
        .where(PortalChallenge.login_id == login.id, PortalChallenge.consumed_at.is_(None))
        .values(consumed_at=now)
        .execution_options(synchronize_session=False)
    )
    _audit(db, "portal.locked", now, customer=customer, outcome="refused", reason=reason)
    return PortalAccountLocked("too many failed attempts; try again later")


def _is_locked(login: PortalLogin, now: datetime) -> bool:
    return login.locked_until is not None and login.locked_until > now


def activate(
    db: Session,
    *,
    customer_number: str,
    code: str,
    password: str,
    signer: Signer,
    settings: PortalSettings,
    now: datetime,
) -> VerifyStep:
    """Set the first password with the activation code. Raises WeakPassword before any check."""
    check_password_policy(password, username=customer_number.strip(), min_length=WEAK_MIN_LENGTH)
    customer = find_customer(db, customer_number)
    login = _login_of(db, customer, lock=True) if customer is not None else None
    if customer is None or login is None or login.status != LoginStatus.pending_activation:
        return VerifyStep(None, CodeRejected("wrong customer number or activation code"))
    if _is_locked(login, now):
        return VerifyStep(None, PortalAccountLocked("too many failed attempts; try again later"))
    challenge = db.execute(
        select(PortalChallenge)
        .where(
            PortalChallenge.login_id == login.id,
            PortalChallenge.purpose == ChallengePurpose.activation,
        )
        .order_by(PortalChallenge.created_at.desc(), PortalChallenge.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    if challenge is None:
        return VerifyStep(None, CodeRejected("wrong customer number or activation code"))
    error = _check_code(
        db, challenge=challenge, login=login, customer=customer, code=code, signer=signer,
        settings=settings, now=now,
    )  # fmt: skip
    if error is not None:
        return VerifyStep(None, error)
    login.password_hash = hash_password(password)
    login.status = LoginStatus.active
    login.activated_at = now
    login.failed_count = 0
    login.updated_at = now
    db.flush()
    _audit(db, "portal.activated", now, customer=customer)
    return VerifyStep(customer_principal(customer, login), None)


# --- logging in ----------------------------------------------------------------------------------


def start_login(
    db: Session,
    *,
    identifier: str,
    password: str,
    signer: Signer,
    settings: PortalSettings,
    now: datetime,
) -> LoginStep:
    """Step one: the password. On success a one-time code goes to the customer's phone/e-mail;
    asking again within the resend interval reuses the code already sent."""
    customer = find_customer(db, identifier)
    login = _login_of(db, customer, lock=True) if customer is not None else None
    if customer is None or login is None or login.status != LoginStatus.active:
        verify_password(None, password)  # same cost as a real check
        return LoginStep(None, InvalidLogin("wrong customer number or password"))
    if _is_locked(login, now):
        _audit(db, "portal.login_refused_locked", now, customer=customer, outcome="refused")
        return LoginStep(None, PortalAccountLocked("too many failed attempts; try again later"))
    if not verify_password(login.password_hash, password):
        login.failed_count += 1
        if login.failed_count >= settings.max_failures:
            return LoginStep(None, _lock(db, login, customer, now, settings, reason="password"))
        _audit(db, "portal.login_failed", now, customer=customer, outcome="refused")
        return LoginStep(None, InvalidLogin("wrong customer number or password"))
    if login.password_hash and needs_rehash(login.password_hash):
        login.password_hash = hash_password(password)
    recent = _open_challenge(db, login, ChallengePurpose.login, now)
    if recent is not None and (now - recent.created_at).total_seconds() < (
        settings.otp_resend_seconds
    ):
        return LoginStep(CodeSent(recent.id, recent.expires_at, _destination(customer)), None)
    sent = _send_code(
        db, signer=signer, login=login, customer=customer, purpose=ChallengePurpose.login,
        lifetime=timedelta(minutes=settings.otp_minutes), now=now,
    )  # fmt: skip
    return LoginStep(sent, None)


def _destination(customer: Customer) -> str:
    return mask_phone(customer.phone) or mask_email(customer.email)


def _open_challenge(
    db: Session, login: PortalLogin, purpose: ChallengePurpose, now: datetime
) -> PortalChallenge | None:
    return db.execute(
        select(PortalChallenge)
        .where(
            PortalChallenge.login_id == login.id,
            PortalChallenge.purpose == purpose,
            PortalChallenge.consumed_at.is_(None),
            PortalChallenge.expires_at > now,
        )
        .order_by(PortalChallenge.created_at.desc())
        .limit(1)
    ).scalar_one_or_none()


def _challenge_and_login(
    db: Session, challenge_id: uuid.UUID
) -> tuple[PortalChallenge, PortalLogin, Customer] | None:
    row = db.execute(
        select(PortalChallenge, PortalLogin, Customer)
        .join(PortalLogin, PortalLogin.id == PortalChallenge.login_id)
        .join(Customer, Customer.id == PortalLogin.customer_id)
        .where(
            PortalChallenge.id == challenge_id,
            PortalChallenge.purpose == ChallengePurpose.login,
        )
        .with_for_update(of=PortalLogin)
    ).first()
    return (row[0], row[1], row[2]) if row is not None else None


def verify_login(
    db: Session,
    *,
    challenge_id: uuid.UUID,
    code: str,
    signer: Signer,
    settings: PortalSettings,
    now: datetime,
) -> VerifyStep:
    """Step two: the one-time code. Wrong codes count towards the challenge's attempts and the
    login's lock-out."""
    found = _challenge_and_login(db, challenge_id)
    if found is None:
        return VerifyStep(None, CodeRejected("this code is unknown; log in again"))
    challenge, login, customer = found
    if login.status != LoginStatus.active:
        return VerifyStep(None, CodeRejected("this code is unknown; log in again"))
    if _is_locked(login, now):
        return VerifyStep(None, PortalAccountLocked("too many failed attempts; try again later"))
    error = _check_code(
        db, challenge=challenge, login=login, customer=customer, code=code, signer=signer,
        settings=settings, now=now,
    )  # fmt: skip
    if error is not None:
        return VerifyStep(None, error)
    login.failed_count = 0
    login.last_login_at = now
    db.flush()
    _audit(db, "portal.login", now, customer=customer)
    return VerifyStep(customer_principal(customer, login), None)


def resend_code(
    db: Session,
    *,
    challenge_id: uuid.UUID,
    signer: Signer,
    settings: PortalSettings,
    now: datetime,
) -> CodeSent:
    """A new code for a pending login. Raises CodeRejected (unknown/used), TooSoon (throttled),
    PortalAccountLocked."""
    found = _challenge_and_login(db, challenge_id)
    if found is None or found[1].status != LoginStatus.active:
        raise CodeRejected("this code is unknown; log in again")
    challenge, login, customer = found
    if _is_locked(login, now):
        raise PortalAccountLocked("too many failed attempts; try again later")
    latest = db.execute(
        select(PortalChallenge.id, PortalChallenge.created_at)
        .where(
            PortalChallenge.login_id == login.id,
            PortalChallenge.purpose == ChallengePurpose.login,
        )
        .order_by(PortalChallenge.created_at.desc())
        .limit(1)
    ).one()
    if latest[0] != challenge.id:
        raise CodeRejected("a newer code was sent; use that one")
    if (
        challenge.consumed_at is not None
        and challenge.expires_at > now
        and (challenge.attempts < settings.otp_max_attempts)
    ):
        raise CodeRejected("this code was already used; log in again")
    waited = (now - challenge.created_at).total_seconds()
    if waited < settings.otp_resend_seconds:
        raise TooSoon(
            f"wait {int(settings.otp_resend_seconds - waited)} s before asking for a new code"
        )
    return _send_code(
        db, signer=signer, login=login, customer=customer, purpose=ChallengePurpose.login,
        lifetime=timedelta(minutes=settings.otp_minutes), now=now,
    )  # fmt: skip


def logout(db: Session, *, customer: CustomerPrincipal, now: datetime) -> None:
    """End every session and token of the customer (the epoch they carry moves on)."""
    db.execute(
        update(PortalLogin)
        .where(PortalLogin.id == customer.login_id)
        .values(auth_epoch=PortalLogin.auth_epoch + 1, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    found = db.get(Customer, customer.customer_id)
    if found is not None:
        _audit(db, "portal.logout", now, customer=found)
