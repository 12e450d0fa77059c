"""QR payment requests: a signed, versioned text payload, paid once by pasting or scanning it.

``BDPAY1|<account>|<amount_minor>|<currency>|<ref>|<expires unix s>|<sig>``: ``sig`` is an HMAC
of everything before it under a key derived from the app's secret (``Signer``), so a changed
account, amount or expiry fails the check. Paying uses the ledger idempotency key
``qr:<ref>:<hash of the payload>``: paying the same request again replays the first payment
(nothing moves twice), and another payer gets the ledger's 409 for the used key.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import segno
from sqlalchemy.orm import Session

from branchdesk.core.errors import RuleViolation
from branchdesk.core.security import Signer
from branchdesk.ledger.service.compliance import PrePostingCheck
from branchdesk.portal.config import PortalSettings
from branchdesk.portal.models import PortalTransferKind
from branchdesk.portal.schemas import PaymentRequestRead, TransferResult
from branchdesk.portal.service.banking import make_transfer, owned_account
from branchdesk.portal.service.common import CustomerPrincipal

VERSION = "BDPAY1"
_REF_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


class PayloadInvalid(RuleViolation):
    code = "payload_invalid"


@dataclass(frozen=True, slots=True)
class ParsedRequest:
    account: str
    amount_minor: int
    currency: str
    ref: str
    expires_at: datetime
    body: str


def _sign(signer: Signer, body: str) -> str:
    # The Signer's keyed HMAC (its CSRF key) under a purpose prefix no session nonce can have.
    return signer.csrf_token(f"bdpay1-request:{body}")[:32]


def qr_svg(payload: str) -> str:
    return str(segno.make(payload, error="m").svg_inline(scale=4, title="QR"))


def create_payment_request(
    db: Session,
    *,
    customer: CustomerPrincipal,
    account: str,
    amount_minor: int,
    signer: Signer,
    settings: PortalSettings,
    now: datetime,
) -> PaymentRequestRead:
    """A request to be paid into an own account. Raises AccountNotFound, RuleViolation."""
    target = owned_account(db, customer=customer, number=account)
    if amount_minor <= 0 or amount_minor >= 10**15:
        raise RuleViolation("the amount must be a positive whole number", field="amount_minor")
    ref = "".join(secrets.choice(_REF_ALPHABET) for _ in range(10))
    expires_at = (now + timedelta(minutes=settings.payment_request_minutes)).replace(microsecond=0)
    body = "|".join(
        [VERSION, target.number, str(amount_minor), target.currency, ref,
         str(int(expires_at.timestamp()))]
    )  # fmt: skip
    payload = f"{body}|{_sign(signer, body)}"
    return PaymentRequestRead(
        payload=payload,
        account=target.number,
        amount_minor=amount_minor,
        currency=target.currency,
        ref=ref,
        expires_at=expires_at,
        qr_svg=qr_svg(payload),
    )


def parse_payload(payload: str, *, signer: Signer, now: datetime) -> ParsedRequest:
    """Raises PayloadInvalid (field ``payload``): malformed, tampered or expired."""
    parts = payload.strip().split("|")
    if len(parts) != 7 or parts[0] != VERSION:
        raise PayloadInvalid("this is not a branchdesk payment request", field="payload")
    body, sig = "|".join(parts[:6]), parts[6]
    if not secrets.compare_digest(_sign(signer, body), sig):
        raise PayloadInvalid(
            "the payment request was changed or is not ours",
            field="payload",
            code="payload_tampered",
        )
    _version, account, amount, currency, ref, expires = parts[:6]
    try:
        amount_minor = int(amount)
        expires_at = datetime.fromtimestamp(int(expires), UTC)
    except ValueError as exc:
        raise PayloadInvalid("malformed payment request", field="payload") from exc
    if expires_at <= now:
        raise PayloadInvalid(
            "the payment request has expired", field="payload", code="payload_expired"
        )
    return ParsedRequest(account, amount_minor, currency, ref, expires_at, body)


def pay_payment_request(
    db: Session,
    *,
    customer: CustomerPrincipal,
    payload: str,
    from_account: str,
    signer: Signer,
    settings: PortalSettings,
    compliance: PrePostingCheck,
    now: datetime,
) -> TransferResult:
    """Pay a pasted request from an own account. Raises PayloadInvalid and those of
    ``make_transfer`` (daily limit, insufficient funds, a key already used by another payer)."""
    parsed = parse_payload(payload, signer=signer, now=now)
    digest = hashlib.sha256(parsed.body.encode()).hexdigest()[:32]
    return make_transfer(
        db, customer=customer, from_account=from_account, to_account=parsed.account,
        amount_minor=parsed.amount_minor, currency=parsed.currency,
        idempotency_key=f"qr:{parsed.ref}:{digest}", memo=f"QR {parsed.ref}", now=now,
        compliance=compliance, settings=settings, kind=PortalTransferKind.qr_payment,
    )  # fmt: skip
