"""Pure rules of training: which services a teller may serve, whether a certification is valid."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date


def is_valid_on(issued_on: date, expires_on: date, on: date) -> bool:
    """A certification is valid from its issue day up to, not including, its expiry day."""
    return issued_on <= on < expires_on


def certified_services(
    counter_services: Iterable[str],
    required: Mapping[str, str],
    held: Iterable[str],
) -> frozenset[str]:
    """The services a counter serves while this teller staffs it.

    ``counter_services``: the counter's skills (service codes); ``required``: service code ->
    the certification code it requires (services absent from it need none); ``held``: the
    teller's certification codes valid today. A service stays when it needs no certification
    or the teller holds the one it needs.
    """
    valid = frozenset(held)
    return frozenset(
        code for code in counter_services if code not in required or required[code] in valid
    )
