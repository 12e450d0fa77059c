"""Customer care: greetings, follow-up visits, campaigns to segments, the education library,
the relationship manager and the stored risk-tolerance assessment.

Owns ``care_greetings``, ``care_campaigns``/``care_campaign_recipients``, ``education_items``/
``education_reads``, ``risk_assessments``, ``customers.relationship_manager_id`` and the
``analytics.models.CareTask`` worklist (tasks of the nightly run and event-driven follow-ups).

Invariants:
- a greeting is decided once per customer and occasion (``care_greetings`` unique key); a
  campaign goes out once (status ``approved`` -> ``sent`` under the row, one recipient row per
  customer); a follow-up task is made once per event (``care_tasks.dedupe_key``);
- nothing is sent without the customer's choice: greetings follow the portal's "greetings"
  notification setting, campaigns need marketing consent *and* the "offers" setting; every
  message goes through ``core.notify.queue_notification``, so it leaves only after commit, in
  the customer's language;
- a campaign is approved by someone other than its author (maker-checker, audited);
- the risk tolerance in force on a day is the latest assessment assessed on or before it and
  not expired (``rules.expires_on``); the analytics features read it (``tolerances_on``).

Called by its pages and API, the worker jobs ``care.greetings``, ``care.followups`` and
``care.campaigns`` (``care.jobs``), the analytics extract and the customer 360.
"""
