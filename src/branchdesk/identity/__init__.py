"""Identity: staff users, roles and branch scope, authentication, and the hash-chained audit log.

Invariants: passwords are argon2 hashes; a user sees only the branches they belong to (an
administrator sees the whole bank); every sensitive action appends one audit row whose hash
chains to the previous row. Called by every other domain through ``Principal`` and
``audit.append_audit``.
"""
