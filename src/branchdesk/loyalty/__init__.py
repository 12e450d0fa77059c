"""Loyalty: earning rules (data), an append-only points ledger (earn, redeem, expire, adjust),
FIFO expiry, tiers on a rolling window with benefits, a rewards catalogue and redemptions.

Invariants: earning is idempotent per (source event, rule); a balance equals the sum of the
customer's entries and never goes negative; redemption and expiry consume the oldest lots first;
a manual adjustment takes effect only when a second user approves it. The one place that decides
a customer's tier (and so the queue's vip service tier) is ``service.evaluate_tiers``.

Called by: the nightly analytics pipeline (earning and tiers), the worker (earning, expiry), the
customer 360, the teller's counter page and the customer portal (/my/loyalty).
"""
