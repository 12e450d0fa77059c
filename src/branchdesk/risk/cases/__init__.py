"""AML alerts, cases and reports in the operational database.

Owns ``aml_alerts`` (findings of the typology rules, from postings the pre-posting hook held and
from batch sweeps over the ledger), ``aml_cases`` with their timeline (``aml_case_events``), the
sweep watermarks and the KYC profiles of customers (expiry status, reminders sent).

Invariants: an alert is stored once per fingerprint (typology + account + transaction set, or the
held posting); report-only findings (``large_cash``, ``cross_border``) feed the large-value
report and never open a case; every other alert belongs to exactly one case of its customer;
every case step is audited and on the case's timeline; a held posting is released or rejected
only through ``ledger.service.approvals``. Called by ``branchdesk aml sweep|report``,
``branchdesk kyc expiry-check``, and the ``/risk`` pages and ``/api/v1/risk`` routes.
"""
