"""What an account may do while its holder's KYC is expired or incomplete (a pure decision).

The ledger calls `decide(operation, kyc=status)` before a posting: money may keep coming in and
debts may be repaid, but nothing leaves the bank and nothing new is opened until the customer
has renewed their ID. A grace period after expiry only warns. Incomplete information (a
required field missing) blocks new products and credit, not existing payments.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from branchdesk.risk.kyc.completeness import IdStatus, KycStatus

__all__ = ["DEFAULT_POLICY", "Decision", "Operation", "RestrictionPolicy", "decide"]


class Operation(StrEnum):
    CASH_DEPOSIT = "cash_deposit"
    INCOMING_TRANSFER = "incoming_transfer"
    LOAN_REPAYMENT = "loan_repayment"
    KYC_UPDATE = "kyc_update"
    CASH_WITHDRAWAL = "cash_withdrawal"
    OUTGOING_TRANSFER = "outgoing_transfer"
    REMITTANCE_OUT = "remittance_out"
    CARD_PAYMENT = "card_payment"
    OPEN_PRODUCT = "open_product"
    LOAN_DISBURSEMENT = "loan_disbursement"
    CLOSE_ACCOUNT = "close_account"


@dataclass(frozen=True)
class RestrictionPolicy:
    """Which operations stay open while the ID is expired or the information is incomplete."""

    allowed_when_expired: frozenset[Operation] = frozenset(
        {
            Operation.CASH_DEPOSIT,
            Operation.INCOMING_TRANSFER,
            Operation.LOAN_REPAYMENT,
            Operation.KYC_UPDATE,
        }
    )
    blocked_when_incomplete: frozenset[Operation] = frozenset(
        {Operation.OPEN_PRODUCT, Operation.LOAN_DISBURSEMENT}
    )
    grace_days: int = 0  # days after expiry during which operations are allowed with a warning
    treat_unknown_expiry_as_expired: bool = False


DEFAULT_POLICY = RestrictionPolicy()


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str
    warning: str = ""


def decide(
    operation: Operation, *, kyc: KycStatus, policy: RestrictionPolicy = DEFAULT_POLICY
) -> Decision:
    """May an account whose holder has this KYC status perform `operation`? With the reason."""
    expiry = kyc.id_expiry
    warning = ""
    expired = expiry.status is IdStatus.EXPIRED or (
        expiry.status is IdStatus.UNKNOWN and policy.treat_unknown_expiry_as_expired
    )
    if expired:
        days_over = -expiry.days_left if expiry.days_left is not None else None
        if days_over is not None and days_over <= policy.grace_days:
            warning = f"{expiry.describe()}; grace period of {policy.grace_days} days"
        elif operation not in policy.allowed_when_expired:
            return Decision(
                False,
                f"{operation.value} refused: {expiry.describe()}; the customer must renew "
                "their ID first (deposits, incoming transfers and repayments remain open)",
            )
    elif expiry.status is IdStatus.EXPIRING:
        warning = expiry.describe()
    if not kyc.is_complete and operation in policy.blocked_when_incomplete:
        fields = ", ".join(m.field for m in kyc.missing)
        return Decision(
            False, f"{operation.value} refused: KYC information incomplete ({fields})", warning
        )
    return Decision(True, f"{operation.value} allowed", warning)
