"""The loan messages to the customer (paid out, payment overdue, referral decided), trilingual."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.orm import Session

from branchdesk.core.money import format_money
from branchdesk.core.notify import Message, queue_notification, register_template
from branchdesk.customers.models import Customer

register_template(
    "loan.disbursed",
    {
        "zh-Hant": "您的貸款 {number} 已撥款 {amount} 至帳戶 {account}，首期還款日 {first_due}。",
        "zh-Hans": "您的贷款 {number} 已放款 {amount} 至账户 {account}，首期还款日 {first_due}。",
        "en": "Loan {number}: {amount} paid into account {account}. First payment due {first_due}.",
    },
)
register_template(
    "loan.overdue",
    {
        "zh-Hant": "您的貸款 {number} 有 {amount} 已逾期 {days} 天，請盡快還款以免產生更多罰息。",
        "zh-Hans": "您的贷款 {number} 有 {amount} 已逾期 {days} 天，请尽快还款以免产生更多罚息。",
        "en": "Loan {number}: {amount} is {days} days overdue. Please repay soon to stop penalty.",
    },
)
register_template(
    "loan.application_decided",
    {
        "zh-Hant": "您的貸款申請 {reference} 審批結果：{outcome_zh_hant}。",
        "zh-Hans": "您的贷款申请 {reference} 审批结果：{outcome_zh_hans}。",
        "en": "Your loan application {reference}: {outcome_en}.",
    },
)

OUTCOME_WORDS = {
    "approved": {"outcome_zh_hant": "核准", "outcome_zh_hans": "核准", "outcome_en": "approved"},
    "declined": {"outcome_zh_hant": "未獲核准", "outcome_zh_hans": "未获核准",
                 "outcome_en": "not approved"},
}  # fmt: skip


def notify_customer(
    db: Session,
    *,
    customer_id: uuid.UUID,
    template: str,
    values: dict[str, str],
    now: datetime,
    aggregate_type: str,
    aggregate_id: uuid.UUID,
    branch_id: uuid.UUID,
) -> bool:
    """Queue a message to the customer's phone or e-mail; False when there is neither."""
    customer = db.get(Customer, customer_id)
    if customer is None or not (customer.phone or customer.email):
        return False
    queue_notification(
        db,
        message=Message(
            template=template,
            locale=customer.preferred_locale or "zh-Hant",
            to_phone=customer.phone,
            to_email=customer.email,
            values=values,
        ),
        now=now,
        aggregate_type=aggregate_type,
        aggregate_id=aggregate_id,
        branch_id=branch_id,
    )
    return True


def money(minor: int, currency: str) -> str:
    return format_money(minor, currency)
