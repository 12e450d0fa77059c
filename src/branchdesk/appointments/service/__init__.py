"""The appointments services: slots, bookings (book, reschedule, cancel, check in) and jobs.

Slot places change only through guarded ``UPDATE ... SET booked_count = booked_count +/- 1``;
rows are locked in id order; services flush, never commit; notifications leave after commit.
"""

from branchdesk.appointments.service.bookings import (
    CheckIn,
    appointment_read,
    book_appointment,
    cancel_appointment,
    check_in_appointment,
    get_appointment,
    list_appointments,
    reschedule_appointment,
)
from branchdesk.appointments.service.common import (
    DEFAULT_EARLY_MINUTES,
    DEFAULT_LATE_MINUTES,
    DEFAULT_REMINDER_HOURS,
    InvalidAppointmentState,
    SlotFull,
    SlotInPast,
    TooEarly,
    TooLate,
    appointment_settings,
    settings_read,
    update_settings,
)
from branchdesk.appointments.service.jobs import SweepResult, queue_reminders, sweep_no_shows
from branchdesk.appointments.service.slots import generate_slots, list_slots

__all__ = [
    "DEFAULT_EARLY_MINUTES",
    "DEFAULT_LATE_MINUTES",
    "DEFAULT_REMINDER_HOURS",
    "CheckIn",
    "InvalidAppointmentState",
    "SlotFull",
    "SlotInPast",
    "SweepResult",
    "TooEarly",
    "TooLate",
    "appointment_read",
    "appointment_settings",
    "book_appointment",
    "cancel_appointment",
    "check_in_appointment",
    "generate_slots",
    "get_appointment",
    "list_appointments",
    "list_slots",
    "queue_reminders",
    "reschedule_appointment",
    "settings_read",
    "sweep_no_shows",
    "update_settings",
]
