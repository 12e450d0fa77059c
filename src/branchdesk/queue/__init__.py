"""The branch queue: tickets, counters, the one queue policy and the wait-time estimate.

Owns `queue/policy.py` (who is called next) and `queue/waittime.py` (the online wait-time
model). Called by the kiosk, the teller console, the lobby display and the simulator.
"""
