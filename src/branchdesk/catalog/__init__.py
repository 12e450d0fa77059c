"""Branches and the service catalog (service standardisation).

Owns branches (names in three scripts, address, time zone, opening hours, holidays), counters
(with the services each may serve and their open/paused/closed state), bank-wide service types
with versioned service standards, and which services each branch offers. Invariant: a counter
only serves services its branch offers; every standard change is a new version row naming who
changed it and when. Read by the queue, appointments, feedback (SLA calendars) and workforce.
"""
