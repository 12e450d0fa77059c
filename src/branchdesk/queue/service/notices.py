"""'Come back now' notices for remote (virtual-queue) tickets, sent through the notifier."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from branchdesk.catalog import service as catalog
from branchdesk.catalog.models import Branch
from branchdesk.core.i18n import localized
from branchdesk.core.notify import Message, queue_notification, register_template
from branchdesk.queue.models import Channel, Ticket, TicketState
from branchdesk.queue.service.common import WaitEstimator, queue_settings
from branchdesk.queue.service.screens import estimate_wait, hall_view

COME_BACK = "queue.come_back"

register_template(
    COME_BACK,
    {
        "zh-Hant": "【{branch}】您的號碼 {number} 預計約 {minutes} 分鐘後叫號，"
        "請返回分行並於取號機報到。",
        "zh-Hans": "【{branch}】您的号码 {number} 预计约 {minutes} 分钟后叫号，"
        "请返回网点并在取号机签到。",
        "en": "{branch}: ticket {number} is expected to be called in about {minutes} min. "
        "Please come back and check in at the kiosk.",
    },
)


def send_come_back_notices(
    db: Session, *, branch: Branch, now: datetime, estimator: WaitEstimator | None
) -> int:
    """Notify remote ticket holders whose turn is near (once each); returns how many."""
    lead = queue_settings(db, branch).come_back_minutes * 60
    query = select(Ticket).where(
        Ticket.branch_id == branch.id,
        Ticket.business_on == catalog.business_day(branch, now),
        Ticket.state == TicketState.waiting,
        Ticket.channel == Channel.remote,
        Ticket.checked_in_at.is_(None),
        Ticket.come_back_sent_at.is_(None),
        Ticket.contact_phone != "",
    )
    if db.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)  # one instance sends each notice
    tickets = list(db.execute(query).scalars())
    if not tickets:
        return 0
    hall = hall_view(db, branch=branch, now=now)
    sent = 0
    for ticket in tickets:
        wait = estimate_wait(db, ticket=ticket, now=now, estimator=estimator, hall=hall)
        if wait is None or wait > lead:
            continue
        locale = "zh-Hans" if branch.timezone == "Asia/Shanghai" else "zh-Hant"
        queue_notification(
            db,
            message=Message(
                template=COME_BACK,
                locale=locale,
                to_phone=ticket.contact_phone,
                values={
                    "branch": localized(
                        branch.name_zh_hant, branch.name_zh_hans, branch.name_en, locale
                    ),
                    "number": ticket.number,
                    "minutes": str(max(1, round(wait / 60))),
                },
            ),
            now=now,
            aggregate_type="ticket",
            aggregate_id=ticket.id,
            branch_id=branch.id,
        )
        ticket.come_back_sent_at = now
        sent += 1
    db.flush()
    return sent
