"""The customer portal (``/my``) and the mobile-banking JSON API (``/api/v1/portal``).

Owns customers' online logins (password + one-time code through the notifier, lock-out,
resend throttle), their sessions and bearer tokens (separate from staff ones), per-customer
daily transfer limits, signed QR payment requests and notification preferences.

Invariants:
- a customer only ever sees and moves money on accounts they hold (anything else is a 404);
- one-time codes are stored as keyed hashes, expire after ``otp_minutes`` and allow
  ``otp_max_attempts`` guesses; a login is locked after ``max_failures`` failed steps;
- money moves only through the ledger's services (``ledger.service.post_transfer``), acting as
  the ``mobile-banking`` channel user (see ``service.channel``); the ledger's idempotency,
  limits, compliance check and maker-checker therefore apply unchanged;
- the sum of a customer's portal transfers of one home-branch-local day (pending ones included,
  rejected ones not) never exceeds the daily limit of that currency.

Called by its pages (``portal.views``), its API (``portal.api``), the ``branchdesk portal`` CLI
and the demo seed (``portal.seed``).
"""
