"""Shared code: configuration, database, errors, money, time, ids, events, i18n, web setup.

Imports no domain.
"""
