"""Logins at the service level: password, one-time code (wrong, expired, too many attempts),
lock-out, resend throttle, activation, enrolment."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from branchdesk.core.errors import Forbidden, RuleViolation
from branchdesk.core.events import Event
from branchdesk.core.security import Signer
from branchdesk.identity.roles import Role
from branchdesk.portal import service
from branchdesk.portal.config import PortalSettings
from branchdesk.portal.models import PortalChallenge, PortalLogin
from branchdesk.portal.service.auth import _code_hash
from tests.factories import NOW, make_customer, make_user, principal
from tests.portal.conftest import PASSWORD, PortalWorld


def _codes(db: Session) -> list[str]:
    rows = db.execute(
        select(Event.payload).where(Event.type == "notify.requested").order_by(Event.seq)
    ).scalars()
    return [p["values"]["code"] for p in rows if p["template"].startswith("portal.")]


def _start(
    db: Session,
    signer: Signer,
    settings: PortalSettings,
    who: str,
    now=NOW,
    password: str = PASSWORD,
) -> service.auth.LoginStep:  # type: ignore[no-untyped-def]
    return service.start_login(
        db, identifier=who, password=password, signer=signer, settings=settings, now=now
    )


def _login(db: Session, world: PortalWorld) -> PortalLogin:
    return db.execute(
        select(PortalLogin).where(PortalLogin.customer_id == world.alice.id)
    ).scalar_one()


def test_password_then_code_logs_in_and_only_a_hash_is_kept(
    db: Session, signer: Signer, portal_settings: PortalSettings, world: PortalWorld
) -> None:
    step = _start(db, signer, portal_settings, world.alice.customer_number)
    assert step.error is None
    assert step.sent is not None
    assert step.sent.sent_to == "*********001"
    assert step.sent.expires_at == NOW + timedelta(minutes=5)
    code = _codes(db)[-1]
    challenge = db.get(PortalChallenge, step.sent.challenge_id)
    assert challenge is not None
    assert code not in challenge.code_hash
    assert challenge.code_hash == _code_hash(signer, challenge.id, code)
    done = service.verify_login(
        db, challenge_id=step.sent.challenge_id, code=code, signer=signer,
        settings=portal_settings, now=NOW + timedelta(minutes=1),
    )  # fmt: skip
    assert done.error is None
    assert done.customer is not None
    assert done.customer.customer_number == world.alice.customer_number
    # the code is used up
    again = service.verify_login(
        db, challenge_id=step.sent.challenge_id, code=code, signer=signer,
        settings=portal_settings, now=NOW + timedelta(minutes=1),
    )  # fmt: skip
    assert again.customer is None
    assert again.error is not None
    assert again.error.code == "invalid_code"


@pytest.mark.parametrize("identifier", ["+886912000001", "alice@example.com"])
def test_phone_or_email_identify_the_customer(
    db: Session, signer: Signer, portal_settings: PortalSettings, world: PortalWorld,
    identifier: str,
) -> None:  # fmt: skip
    step = _start(db, signer, portal_settings, identifier)
    assert step.error is None
    assert step.sent is not None


def test_wrong_password_and_unknown_customer_look_the_same(
    db: Session, signer: Signer, portal_settings: PortalSettings, world: PortalWorld
) -> None:
    wrong = _start(db, signer, portal_settings, world.alice.customer_number, password="nope")
    unknown = _start(db, signer, portal_settings, "0000000000")
    assert wrong.error is not None
    assert unknown.error is not None
    assert (wrong.error.code, wrong.error.detail) == (unknown.error.code, unknown.error.detail)
    assert wrong.sent is None
    assert _codes(db) == []
    assert _login(db, world).failed_count == 1


def test_wrong_code_then_too_many_attempts(
    db: Session, signer: Signer, portal_settings: PortalSettings, world: PortalWorld
) -> None:
    step = _start(db, signer, portal_settings, world.alice.customer_number)
    assert step.sent is not None
    right = _codes(db)[-1]
    wrong = "000000" if right != "000000" else "111111"
    errors = []
    for _ in range(3):
        result = service.verify_login(
            db, challenge_id=step.sent.challenge_id, code=wrong, signer=signer,
            settings=portal_settings, now=NOW,
        )  # fmt: skip
        assert result.customer is None
        assert result.error is not None
        errors.append(result.error.code)
    assert errors == ["invalid_code", "invalid_code", "too_many_attempts"]
    late = service.verify_login(
        db, challenge_id=step.sent.challenge_id, code=right, signer=signer,
        settings=portal_settings, now=NOW,
    )  # fmt: skip
    assert late.customer is None  # the right code no longer works after the attempts


def test_expired_code_is_refused(
    db: Session, signer: Signer, portal_settings: PortalSettings, world: PortalWorld
) -> None:
    step = _start(db, signer, portal_settings, world.alice.customer_number)
    assert step.sent is not None
    result = service.verify_login(
        db, challenge_id=step.sent.challenge_id, code=_codes(db)[-1], signer=signer,
        settings=portal_settings, now=NOW + timedelta(minutes=5),
    )  # fmt: skip
    assert result.customer is None
    assert result.error is not None
    assert result.error.code == "code_expired"


def test_repeated_failures_lock_the_login(
    db: Session, signer: Signer, portal_settings: PortalSettings, world: PortalWorld
) -> None:
    for _ in range(3):
        step = _start(db, signer, portal_settings, world.alice.customer_number, password="bad")
        assert step.error is not None
        assert step.error.code == "invalid_credentials"
    locking = _start(db, signer, portal_settings, world.alice.customer_number, password="bad")
    assert locking.error is not None
    assert locking.error.code == "login_locked"
    assert isinstance(locking.error, Forbidden)
    # even the right password is refused while locked, and no code is sent
    locked = _start(db, signer, portal_settings, world.alice.customer_number)
    assert locked.error is not None
    assert locked.error.code == "login_locked"
    assert _codes(db) == []
    assert _login(db, world).locked_until == NOW + timedelta(minutes=15)
    later = _start(db, signer, portal_settings, world.alice.customer_number,
                   now=NOW + timedelta(minutes=16))  # fmt: skip
    assert later.error is None
    assert later.sent is not None


def test_wrong_codes_count_towards_the_lock(
    db: Session, signer: Signer, portal_settings: PortalSettings, world: PortalWorld
) -> None:
    codes: list[str] = []
    for round_ in range(2):
        step = _start(db, signer, portal_settings, world.alice.customer_number,
                      now=NOW + timedelta(minutes=2 * round_))  # fmt: skip
        assert step.sent is not None
        codes.append(_codes(db)[-1])
        for _ in range(3 if round_ == 0 else 1):
            result = service.verify_login(
                db, challenge_id=step.sent.challenge_id,
                code="000000" if codes[-1] != "000000" else "111111",
                signer=signer, settings=portal_settings, now=NOW + timedelta(minutes=2 * round_),
            )  # fmt: skip
    assert result.error is not None
    assert result.error.code == "login_locked"


def test_resend_is_throttled_and_replaces_the_code(
    db: Session, signer: Signer, portal_settings: PortalSettings, world: PortalWorld
) -> None:
    step = _start(db, signer, portal_settings, world.alice.customer_number)
    assert step.sent is not None
    # the password step again within the interval reuses the code already sent
    again = _start(db, signer, portal_settings, world.alice.customer_number,
                   now=NOW + timedelta(seconds=10))  # fmt: skip
    assert again.sent is not None
    assert again.sent.challenge_id == step.sent.challenge_id
    assert len(_codes(db)) == 1
    with pytest.raises(service.TooSoon):
        service.resend_code(
            db, challenge_id=step.sent.challenge_id, signer=signer, settings=portal_settings,
            now=NOW + timedelta(seconds=30),
        )  # fmt: skip
    first = _codes(db)[-1]
    sent = service.resend_code(
        db, challenge_id=step.sent.challenge_id, signer=signer, settings=portal_settings,
        now=NOW + timedelta(seconds=61),
    )  # fmt: skip
    assert sent.challenge_id != step.sent.challenge_id
    assert len(_codes(db)) == 2
    old = service.verify_login(
        db, challenge_id=step.sent.challenge_id, code=first, signer=signer,
        settings=portal_settings, now=NOW + timedelta(seconds=62),
    )  # fmt: skip
    assert old.customer is None
    new = service.verify_login(
        db, challenge_id=sent.challenge_id, code=_codes(db)[-1], signer=signer,
        settings=portal_settings, now=NOW + timedelta(seconds=62),
    )  # fmt: skip
    assert new.customer is not None


def test_enrolment_without_password_sends_an_activation_code(
    db: Session, signer: Signer, portal_settings: PortalSettings
) -> None:
    customer = make_customer(db, signer, phone="+886912000009")
    done = service.enrol(
        db, customer_number=customer.customer_number, actor=None, signer=signer,
        settings=portal_settings, now=NOW,
    )  # fmt: skip
    assert done.status == "pending_activation"
    assert done.sent is not None
    # no login before activation
    step = _start(db, signer, portal_settings, customer.customer_number)
    assert step.error is not None
    assert step.error.code == "invalid_credentials"
    with pytest.raises(RuleViolation):  # weak password: refused before any check
        service.activate(
            db, customer_number=customer.customer_number, code=_codes(db)[-1], password="short",
            signer=signer, settings=portal_settings, now=NOW,
        )  # fmt: skip
    activated = service.activate(
        db, customer_number=customer.customer_number, code=_codes(db)[-1],
        password="a-good-new-password", signer=signer, settings=portal_settings, now=NOW,
    )  # fmt: skip
    assert activated.error is None
    assert activated.customer is not None
    step = service.start_login(
        db, identifier=customer.customer_number, password="a-good-new-password",
        signer=signer, settings=portal_settings, now=NOW,
    )  # fmt: skip
    assert step.error is None


def test_enrolment_needs_a_contact_and_a_permitted_role(
    db: Session, signer: Signer, portal_settings: PortalSettings, world: PortalWorld
) -> None:
    silent = make_customer(db, signer, phone="", email="")
    with pytest.raises(RuleViolation) as raised:
        service.enrol(
            db, customer_number=silent.customer_number, actor=None, signer=signer,
            settings=portal_settings, now=NOW, password=PASSWORD,
        )  # fmt: skip
    assert raised.value.field == "phone"
    quality = principal(db, make_user(db, Role.quality_officer, (world.bank.branch,)))
    with pytest.raises(Forbidden):
        service.enrol(
            db, customer_number=world.alice.customer_number, actor=quality, signer=signer,
            settings=portal_settings, now=NOW,
        )  # fmt: skip
    assert db.execute(select(func.count()).select_from(PortalLogin)).scalar_one() == 2
