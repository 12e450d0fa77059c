"""Watch-list screening at onboarding and as a batch re-screen when a list is updated.

A `Watchlist` parses every entry name once and indexes it by blocking keys (coarse surname +
initial of the given name, for every reading: characters' pinyin and Cantonese, written order
and surname-last), so a customer is scored only against entries that share a key, never against
the whole list. The combined score is the name score adjusted by birth date and country:

- birth date: same date +0.05; list gives the year only and it agrees +0.02; same year, other
  day -0.10; day and month swapped 0; a different year -0.25 (common names stop matching);
- country: same +0.02, different -0.05; unknown on either side changes nothing.

A hit needs a combined score >= threshold *and* a name score >= `NAME_FLOOR`, so agreeing dates
can strengthen a name match but never make one.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

from branchdesk.risk.kyc.customer import Customer
from branchdesk.risk.kyc.names import NameMatch, ParsedName, match_names, parse_name

__all__ = [
    "DEFAULT_THRESHOLD",
    "NAME_FLOOR",
    "Hit",
    "Watchlist",
    "WatchlistEntry",
    "changed_entries",
    "rescreen_on_update",
    "screen",
    "screen_all",
]

DEFAULT_THRESHOLD = 0.85
NAME_FLOOR = 0.75


@dataclass(frozen=True)
class WatchlistEntry:
    """One listed person or organisation; `names` holds the primary name first, then aliases."""

    entry_id: str
    names: tuple[str, ...]
    list_source: str
    listed_on: date
    birth_date: date | None = None
    birth_year: int | None = None  # when the list gives only the year
    country: str = ""


@dataclass(frozen=True)
class Hit:
    """A customer that resembles a list entry closely enough to be reviewed."""

    customer_id: str
    entry_id: str
    list_source: str
    score: float
    name_score: float
    customer_name: str
    listed_name: str
    name_method: str
    # same, same year, same year only, day/month swapped, different, unknown
    birth_date_agreement: str
    country_agreement: str  # same, different, unknown
    reasons: tuple[str, ...]


@dataclass
class Watchlist:
    """Entries plus their parsed names; each (entry, name) pair is numbered and indexed by key."""

    entries: tuple[WatchlistEntry, ...]
    _index: dict[str, tuple[int, ...]] = field(default_factory=dict, repr=False)
    _position: list[int] = field(default_factory=list, repr=False)
    _parsed: list[ParsedName] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        index: dict[str, list[int]] = defaultdict(list)
        for position, entry in enumerate(self.entries):
            for name in dict.fromkeys(n for n in entry.names if n.strip()):
                number = len(self._parsed)
                parsed = parse_name(name)
                self._position.append(position)
                self._parsed.append(parsed)
                for key in parsed.keys:
                    index[key].append(number)
        self._index = {key: tuple(numbers) for key, numbers in index.items()}

    def __len__(self) -> int:
        return len(self.entries)

    def candidates(self, names: Iterable[ParsedName]) -> dict[int, list[ParsedName]]:
        """Entry positions sharing a blocking key with any of the names, with the listed names."""
        numbers: set[int] = set()
        index = self._index
        for name in names:
            for key in name.keys:
                block = index.get(key)
                if block:
                    numbers.update(block)
        found: dict[int, list[ParsedName]] = {}
        for number in sorted(numbers):
            found.setdefault(self._position[number], []).append(self._parsed[number])
        return found


def _birth_agreement(customer: Customer, entry: WatchlistEntry) -> tuple[str, float]:
    born = customer.birth_date
    if born is None or (entry.birth_date is None and entry.birth_year is None):
        return "unknown", 0.0
    if entry.birth_date is None:
        return ("same year only", 0.02) if born.year == entry.birth_year else ("different", -0.25)
    listed = entry.birth_date
    if born == listed:
        return "same", 0.05
    if born.year == listed.year and (born.month, born.day) == (listed.day, listed.month):
        return "day/month swapped", 0.0
    if born.year == listed.year:
        return "same year", -0.10
    return "different", -0.25


def _country_agreement(customer: Customer, entry: WatchlistEntry) -> tuple[str, float]:
    if not customer.country or not entry.country:
        return "unknown", 0.0
    if customer.country == entry.country:
        return "same", 0.02
    return "different", -0.05


def _hit(
    customer: Customer,
    entry: WatchlistEntry,
    match: NameMatch,
    customer_name: str,
    listed_name: str,
) -> tuple[float, Hit]:
    birth, birth_delta = _birth_agreement(customer, entry)
    country, country_delta = _country_agreement(customer, entry)
    score = round(min(1.0, max(0.0, match.score + birth_delta + country_delta)), 4)
    reasons = [f"name {match.score:.2f} ({match.explain()})"]
    if birth != "unknown":
        reasons.append(f"birth date {birth} ({birth_delta:+.2f})")
    if country != "unknown":
        reasons.append(f"country {country} ({country_delta:+.2f})")
    return score, Hit(
        customer_id=customer.customer_id,
        entry_id=entry.entry_id,
        list_source=entry.list_source,
        score=score,
        name_score=match.score,
        customer_name=customer_name,
        listed_name=listed_name,
        name_method=match.method,
        birth_date_agreement=birth,
        country_agreement=country,
        reasons=tuple(reasons),
    )


def _screen_parsed(
    customer: Customer,
    parsed: Sequence[ParsedName],
    watchlist: Watchlist,
    threshold: float,
) -> list[Hit]:
    hits: list[Hit] = []
    for position, listed_names in watchlist.candidates(parsed).items():
        best: tuple[float, str, str, NameMatch] | None = None
        for mine in parsed:
            for listed in listed_names:
                match = match_names(mine, listed, NAME_FLOOR)
                if best is None or match.score > best[0]:
                    best = (match.score, mine.original, listed.original, match)
        if best is None or best[0] < NAME_FLOOR:
            continue
        _, customer_name, listed_name, match = best
        entry = watchlist.entries[position]
        score, hit = _hit(customer, entry, match, customer_name, listed_name)
        if score >= threshold:
            hits.append(hit)
    hits.sort(key=lambda h: (-h.score, h.entry_id))
    return hits


def screen(
    customer: Customer, watchlist: Watchlist, threshold: float = DEFAULT_THRESHOLD
) -> list[Hit]:
    """Screen one customer (all their names) against a watch list; best hit first."""
    parsed = [parse_name(name) for name in customer.names if name.strip()]
    return _screen_parsed(customer, parsed, watchlist, threshold)


def screen_all(
    customers: Iterable[Customer], watchlist: Watchlist, threshold: float = DEFAULT_THRESHOLD
) -> list[Hit]:
    """Screen many customers (a batch re-screen); hits in customer order, best first."""
    hits: list[Hit] = []
    for customer in customers:
        hits.extend(screen(customer, watchlist, threshold))
    return hits


def changed_entries(
    old: Sequence[WatchlistEntry], new: Sequence[WatchlistEntry]
) -> tuple[WatchlistEntry, ...]:
    """Entries of the new list that are new or whose content changed since the old list."""
    before = {entry.entry_id: entry for entry in old}
    return tuple(entry for entry in new if before.get(entry.entry_id) != entry)


def rescreen_on_update(
    customers: Iterable[Customer],
    old: Sequence[WatchlistEntry],
    new: Sequence[WatchlistEntry],
    threshold: float = DEFAULT_THRESHOLD,
) -> list[Hit]:
    """Screen every customer against only the entries a list update added or changed."""
    return screen_all(customers, Watchlist(changed_entries(old, new)), threshold)
