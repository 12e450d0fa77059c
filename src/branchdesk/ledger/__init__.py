"""Accounts and the double-entry ledger.

Owns customer accounts (current, savings, time deposit; joint holders; overdraft limits;
readable numbers with MOD 97-10 check digits), the bank's own ledger accounts (cash till per
counter, clearing suspense, settlement, fee income, interest expense), postings and their entries,
maker-checker approval limits. Called by its JSON API (``ledger.api``) and, later, the teller
console and the customer portal.

Invariants (tested with hypothesis in tests/ledger):
- every posting's entries sum to zero per currency; amounts are integer minor units;
- entries are append-only: never updated or deleted; a correction is a reversing posting;
- every account's balance equals the sum of its entries, and its entries are numbered 1, 2, 3...;
- a customer account never goes below minus its overdraft limit (default 0);
- balances change only by SQL expressions under row locks taken in account-id order, in the
  same transaction as the entries;
- one idempotency key, one posting: the same key and request replay the original result, the
  same key with another request is refused (409);
- a posting above its branch's limit, and every reversal, waits for a second person with a
  supervisor role; a compliance hold waits for a compliance officer; nobody decides their own.
"""
