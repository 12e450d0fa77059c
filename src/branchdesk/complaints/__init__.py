"""Complaints (投訴處理) from every channel as one case flow, with SLA policies as data.

Owns: complaint cases and their append-only timeline, SLA pauses, extensions (maker-checker),
breach warnings and escalations, signed inbound webhooks (e-mail, social channels), the public
complaint form, and improvement actions (溯源整改).

Invariants: a case's reference (CMP-YYYY-NNNNNN) is unique and gap-free per year; the
timeline is only appended to; a state change follows ``rules.TRANSITIONS`` or is refused (409)
with nothing written; each SLA target warns and escalates at most once; a webhook delivery id is
processed at most once per channel.

Called by: the staff pages and JSON API here, ``branchdesk complaints sla-check``, and other
domains through ``service.open_case`` (surveys open a case for a detractor, channel "survey").
"""
