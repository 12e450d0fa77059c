"""KYC: know-your-customer checks as pure functions over plain dataclasses.

Owns the customer record KYC reads (`customer`), name matching across scripts (`names`:
Traditional/Simplified characters, pinyin with or without tones and spaces, either name order,
Wade-Giles, Hong Kong Cantonese romanisation, common surname spellings such as Lee/Tan/Wong,
Latin spellings with diacritics), watch-list screening with blocking keys for batch re-screens
(`watchlist`), customer risk rating by explainable rules (`rating`), missing-information checks,
ID expiry and reminder dates (`completeness`), what an account with expired KYC may still do
(`restrictions`), the strict CSV readers and atomic writers (`io`) and synthetic data for
measuring screening (`synth`).

Invariants: nothing here touches a database or the clock: callers pass `today` as a `date`;
every score and decision comes with reasons in words; a malformed input file is refused whole,
naming file, line and column. Called by `branchdesk kyc screen|rate|generate` and, later, by the
customers service (onboarding screening, re-screen on list update, reminders) and the ledger
(`restrictions.decide` before a posting).
"""
