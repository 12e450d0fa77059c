"""Appointments: bookable slots per branch, service and time window, and the bookings in them.

Owns ``appointment_slots``, ``appointments`` and ``appointment_settings`` (per-branch check-in
windows and reminder lead). Called by the JSON API and the staff pages (phone bookings), the
customer portal later, and the ``branchdesk appointments`` commands (slot generation, reminders,
the no-show sweep).

Invariants:
- ``0 <= booked_count <= capacity`` on every slot, and ``booked_count`` equals the number of
  appointments in the slot in state booked, checked_in, no_show or completed. It changes only
  through a guarded ``UPDATE ... SET booked_count = booked_count + 1 WHERE booked_count <
  capacity`` (or ``- 1 WHERE booked_count > 0``), so two bookings never both take the last place.
- A refused operation (full slot, check-in too early, wrong state) changes nothing.
- Rescheduling is one transaction: the new place is taken before the old one is released.
- Check-in issues the queue ticket through ``queue.service.issue_ticket``: appointment priority
  inside ``[starts_at - early, starts_at + late]``, a walk-in ticket with normal priority (and
  the appointment marked late) after that, the same branch-local day; refused before the window.
- A reminder is queued at most once per appointment (``reminder_queued_at`` is set with a guarded
  UPDATE) and sent after commit through ``core.notify``.
- Every change appends an event (``appointment.*``); staff actions also an audit row.
- Instants are aware UTC; branch-local time only for slot generation, business days and pages.
"""
