"""Watch-list screening: name score plus birth date and country, blocking, list updates."""

from __future__ import annotations

from datetime import date

from branchdesk.risk.kyc.customer import Customer, CustomerType
from branchdesk.risk.kyc.synth import generate_customers, generate_watchlist
from branchdesk.risk.kyc.watchlist import (
    Watchlist,
    WatchlistEntry,
    changed_entries,
    rescreen_on_update,
    screen,
    screen_all,
)


def person(name: str, **overrides: object) -> Customer:
    fields: dict[str, object] = {
        "customer_id": "C1",
        "customer_type": CustomerType.INDIVIDUAL,
        "name": name,
    }
    fields.update(overrides)
    return Customer(**fields)  # type: ignore[arg-type]


def entry(entry_id: str, *names: str, **overrides: object) -> WatchlistEntry:
    fields: dict[str, object] = {
        "entry_id": entry_id,
        "names": names,
        "list_source": "UN",
        "listed_on": date(2025, 1, 1),
    }
    fields.update(overrides)
    return WatchlistEntry(**fields)  # type: ignore[arg-type]


LIST = Watchlist(
    (
        entry("W1", "CHEN, Da-Wen", "陳大文", birth_date=date(1970, 3, 4), country="HK"),
        entry("W2", "Wang Wei", birth_date=date(1980, 1, 1), country="CN"),
        entry("W3", "Wang Wei", birth_year=1992),
        entry("W4", "Lin Dawen"),
    )
)


def test_chinese_customer_hits_the_listed_romanised_name_with_every_reason() -> None:
    hits = screen(person("陈大文", birth_date=date(1970, 3, 4), country="HK"), LIST)
    assert [h.entry_id for h in hits] == ["W1"]
    hit = hits[0]
    assert (hit.score, hit.name_score) == (1.0, 1.0)  # 陈大文 = 陳大文 after simplification
    assert hit.listed_name == "陳大文"
    assert (hit.birth_date_agreement, hit.country_agreement) == ("same", "same")
    assert hit.reasons[1:] == ("birth date same (+0.05)", "country same (+0.02)")


def test_cantonese_alias_of_the_customer_hits_too() -> None:
    hits = screen(person("Chan Tai Man"), LIST)
    assert [(h.entry_id, h.score, h.listed_name) for h in hits] == [("W1", 0.95, "陳大文")]


def test_birth_date_keeps_a_common_name_from_matching_the_wrong_person() -> None:
    born_1980 = person("王伟", birth_date=date(1980, 1, 1), country="CN")
    hits = screen(born_1980, LIST)
    assert [(h.entry_id, h.score, h.birth_date_agreement) for h in hits] == [("W2", 1.0, "same")]
    other = person("王伟", birth_date=date(1975, 6, 6), country="CN")
    assert screen(other, LIST) == []  # both Wang Weis: different birth years (-0.25)
    same_year_other_day = person("王伟", birth_date=date(1980, 7, 1), country="CN")
    assert [h.score for h in screen(same_year_other_day, LIST)] == [0.87]  # 0.95 - 0.10 + 0.02
    unknown = person("王伟")
    assert [(h.entry_id, h.score) for h in screen(unknown, LIST)] == [("W2", 0.95), ("W3", 0.95)]


def test_day_and_month_swapped_and_year_only() -> None:
    swapped = person("Wang Wei", birth_date=date(1980, 1, 1))
    assert screen(swapped, LIST)[0].birth_date_agreement == "same"
    listed = Watchlist((entry("W9", "Wang Wei", birth_date=date(1980, 3, 4)),))
    hits = screen(person("Wang Wei", birth_date=date(1980, 4, 3)), listed)
    assert [(h.score, h.birth_date_agreement) for h in hits] == [(1.0, "day/month swapped")]
    year_only = screen(person("Wang Wei", birth_date=date(1992, 5, 5)), LIST)
    assert [(h.entry_id, h.birth_date_agreement, h.score) for h in year_only] == [
        ("W3", "same year only", 1.0)
    ]


def test_different_surname_and_different_country_do_not_hit() -> None:
    assert screen(person("陈大文"), Watchlist((entry("W4", "Lin Dawen"),))) == []
    moved = person("Chen Dawen", country="SG")
    hits = screen(moved, LIST)
    assert [(h.entry_id, h.score, h.country_agreement) for h in hits] == [("W1", 0.95, "different")]
    assert screen(moved, LIST, threshold=0.96) == []


def test_a_date_strengthens_a_name_match_but_cannot_make_one() -> None:
    listed = Watchlist((entry("W1", "陈大伟", birth_date=date(1970, 3, 4), country="HK"),))
    customer = person("陈大文", birth_date=date(1970, 3, 4), country="HK")
    assert screen(customer, listed) == []  # name 0.775 + 0.05 + 0.02 = 0.845 < 0.85
    assert [h.score for h in screen(customer, listed, threshold=0.84)] == [0.845]
    weak = Watchlist((entry("W2", "陈小明", birth_date=date(1970, 3, 4), country="HK"),))
    assert screen(customer, weak, threshold=0.0) == []  # name below NAME_FLOOR (0.75)


def test_list_update_rescreens_only_new_and_changed_entries() -> None:
    old = [entry("W1", "Wang Wei"), entry("W2", "Li Na")]
    new = [entry("W1", "Wang Wei"), entry("W2", "Li Na", country="CN"), entry("W3", "Chen Dawen")]
    assert [e.entry_id for e in changed_entries(old, new)] == ["W2", "W3"]
    customers = [
        person("王伟", customer_id="A"),
        person("李娜", customer_id="B"),
        person("陳大文", customer_id="C"),
    ]
    hits = rescreen_on_update(customers, old, new)
    assert [(h.customer_id, h.entry_id) for h in hits] == [("B", "W2"), ("C", "W3")]


def test_batch_screen_finds_every_planted_entry() -> None:
    customers = generate_customers(400, seed=7)
    entries = generate_watchlist(300, seed=8, planted_from=customers, planted=15)
    hits = screen_all(customers, Watchlist(tuple(entries)))
    found = {h.entry_id for h in hits}
    assert {e.entry_id for e in entries[:15]} <= found
    for hit in hits:
        assert hit.score >= 0.85
