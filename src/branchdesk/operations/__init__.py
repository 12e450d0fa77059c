"""Operational risk at the branch: the offline ticketing fallback (pre-allocated paper ticket
blocks absorbed by the queue when the server is back)."""
