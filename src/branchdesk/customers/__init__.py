"""Customers: the bank's retail customers as a principal separate from staff.

Owns identity data (names, ID document with the number encrypted, a keyed hash for look-up and
a masked display form), contact details, birth date, preferred language and marketing consent.
Invariant: the clear ID number is never stored, logged or shown after capture.
"""
