"""Counter transactions on the teller console, and their receipts.

Owns the link between a served ticket, the posting it produced, the counter and the teller
(``counter_postings``) and the customer a teller identified at the counter
(``counter_identifications``). Money rules are not here: every transaction calls the ledger's
services (``ledger.service``), with the counter's cash till and an idempotency key generated per
rendered form, so a double submit replays the first posting instead of posting twice.

Invariants:
- a counter transaction needs a ticket being served at that counter, by a staff member allowed
  to post at its branch, for an account the served customer holds (transfers may go anywhere);
- one posting, at most one link row (``posting_id`` is unique);
- a refused transaction writes nothing but the ledger's audit row of the refusal.

Called by the teller console (``queue.views`` passes the panel to ``queue/console.html``) and
by this package's own pages (``teller.views``: the forms, the receipt page).
"""
