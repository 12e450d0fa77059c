"""The appointment messages (booked, rescheduled, cancelled, reminder) in three languages."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from branchdesk.appointments.models import Appointment
from branchdesk.catalog.models import Branch, ServiceType
from branchdesk.core.i18n import localized
from branchdesk.core.jobs import Job, register_job
from branchdesk.core.notify import Message, register_template
from branchdesk.customers.models import Customer

register_template(
    "appointment.booked",
    {
        "zh-Hant": "您已預約 {branch} {service}，時間 {date} {time}，預約編號 {reference}。",
        "zh-Hans": "您已预约 {branch} {service}，时间 {date} {time}，预约编号 {reference}。",
        "en": "Booked: {service} at {branch}, {date} {time}. Reference {reference}.",
    },
)
register_template(
    "appointment.rescheduled",
    {
        "zh-Hant": "您的預約 {reference} 已改至 {date} {time}，{branch} {service}。",
        "zh-Hans": "您的预约 {reference} 已改至 {date} {time}，{branch} {service}。",
        "en": "Your appointment {reference} moved to {date} {time}: {service} at {branch}.",
    },
)
register_template(
    "appointment.cancelled",
    {
        "zh-Hant": "您的預約 {reference}（{date} {time}，{branch}）已取消。",
        "zh-Hans": "您的预约 {reference}（{date} {time}，{branch}）已取消。",
        "en": "Your appointment {reference} ({date} {time}, {branch}) is cancelled.",
    },
)
register_template(
    "appointment.reminder",
    {
        "zh-Hant": "提醒您：{date} {time} 於 {branch} 辦理 {service}，預約編號 {reference}。",
        "zh-Hans": "提醒您：{date} {time} 在 {branch} 办理 {service}，预约编号 {reference}。",
        "en": "Reminder: {service} at {branch} on {date} at {time}. Reference {reference}.",
    },
)


def appointment_message(db: Session, appointment: Appointment, template: str) -> Message | None:
    """The message for an appointment's contact (a linked customer's current phone and e-mail
    when the booking gave none); None when there is nobody to reach."""
    phone, email = appointment.contact_phone, appointment.contact_email
    if appointment.customer_id is not None and not (phone or email):
        customer = db.get(Customer, appointment.customer_id)
        if customer is not None:
            phone, email = customer.phone, customer.email
    if not (phone or email):
        return None
    branch = db.get(Branch, appointment.branch_id)
    service = db.get(ServiceType, appointment.service_type_id)
    assert branch is not None  # a foreign key
    assert service is not None  # a foreign key
    locale = appointment.locale
    local = appointment.starts_at.astimezone(ZoneInfo(branch.timezone))
    return Message(
        template=template,
        locale=locale,
        to_phone=phone,
        to_email=email,
        values={
            "reference": appointment.reference,
            "branch": localized(branch.name_zh_hant, branch.name_zh_hans, branch.name_en, locale),
            "service": localized(
                service.name_zh_hant, service.name_zh_hans, service.name_en, locale
            ),
            "date": local.strftime("%Y-%m-%d"),
            "time": local.strftime("%H:%M"),
        },
    )


def _remind(db: Session, now: datetime) -> int:
    from branchdesk.appointments.service import queue_reminders

    return queue_reminders(db, now=now)


def _sweep(db: Session, now: datetime) -> object:
    from branchdesk.appointments.service import sweep_no_shows

    return sweep_no_shows(db, now=now)


register_job(Job(name="appointments.remind", every=timedelta(minutes=5), run=_remind))
register_job(Job(name="appointments.sweep", every=timedelta(hours=1), run=_sweep))
