"""Customer relationship management: the customer 360 view (profile, KYC, holdings, activity,
segments, loyalty, recommendations with reasons, care tasks).

Reads what the nightly analytics pipeline (:mod:`branchdesk.analytics.pipeline`) wrote back and
the operational tables; writes nothing. Access: ``customer.view`` and the customer's home branch
(:func:`branchdesk.customers.service.get_customer`). Called by the 360 page and API and by the
teller console's short panel.
"""
