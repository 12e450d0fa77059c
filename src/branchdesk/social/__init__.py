"""Social media publishing (社交媒體服務) and the interaction log.

Owns: product-information posts drafted per channel (channel codes are data:
``channels.json``), their maker-checker approval, publishing through a ``Publisher`` adapter
after commit (the default records what would be sent in ``<data_dir>/social_posts.jsonl``),
scheduled publishing (the ``social.publish_due`` job) and the log of replies and messages that
arrive through the signed social webhooks.

Invariants: a post is edited only as a draft (or after a rejection); the person who drafted or
last edited a post never approves or rejects it; a post is published once, and only after
approval (and not before its scheduled time); a refused change writes nothing but one audit row;
a webhook delivery is logged at most once per channel.

Called by: the staff pages (/social) and JSON API (/api/v1/social) here, the worker's job, and
``complaints.intake.ingest_social`` (every accepted social message is logged through
``service.record_interaction``; one naming a post is linked to it).
"""
