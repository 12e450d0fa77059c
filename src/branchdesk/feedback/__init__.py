"""Post-service surveys: the token link a customer answers once, and the quality roll-ups.

Owns ``survey_responses`` (one per completed ticket, enforced by a unique ticket id) and
``survey_invitations`` (one SMS/e-mail invitation per remote ticket). A response copies the
ticket's teller, counter, service, branch, region and business day at answer time, so roll-ups
read one table. A detractor (NPS 0-6 or CSAT 1-2) opens a follow-up case in the same
transaction (the complaints case flow when it is installed, else a ``feedback.detractor`` event).

Called by the customer's phone page and the kiosk ticket (survey link / QR), the public survey
page ``/s/{token}``, the quality dashboard ``/quality/surveys``, the JSON API and
``branchdesk feedback invite``.
"""
