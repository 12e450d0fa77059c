"""Deterministic synthetic customers and watch lists for measuring batch screening.

Names follow the real skew of Chinese surnames (王, 李, 张, 刘, 陈 are about a third of people),
written as Simplified or Traditional characters, as pinyin in either order or as Hong Kong
romanisation, plus Western names; the list is independent of the customers except for a few
planted entries, which are listed spellings of real customers (another script or order).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import date, timedelta

from opencc import OpenCC  # type: ignore[import-untyped]  # pure-Python package, no stubs

from branchdesk.risk.kyc.customer import Customer, CustomerType
from branchdesk.risk.kyc.watchlist import WatchlistEntry

__all__ = ["generate_customers", "generate_watchlist"]

_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏"
    "魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚"
)
_GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏建国志文辉力斌宇浩凯俊峰晓小大"
    "婷雪琳欣怡嘉子轩梓涵一诺思雨博宏德成海波东林春燕晶美云龙飞鑫佳琪晨阳天立新永清荣庆家安宁"
    "乐群慧颖瑞祥福寿喜秋冬夏梅菊竹松柏凤鸣鹤威武忠信仁义礼智勤俭和睿哲瀚泽洁淑贤惠丹青光耀"
    "振兴胜利卫民学良金银铭锦楠柳梦琦璐瑶翠莲蓉芝蕾蓓薇彤妍姗妮婉雅倩茜晴曦旭昊昌晟朗朝"
)
_WESTERN_GIVEN = (
    "John", "Mary", "David", "Sarah", "Michael", "Anna", "Peter", "Laura", "Ahmed", "Olga",
    "Carlos", "Fatima", "Hans", "Ingrid", "Pierre", "Sofia", "Tomasz", "Yusuf", "Elena", "Raj",
)  # fmt: skip
_WESTERN_SURNAMES = (
    "Smith", "Brown", "Garcia", "Müller", "Novak", "Khan", "Silva", "Nguyen", "Kowalski",
    "Petrov", "Rossi", "Dubois", "Andersson", "Okafor", "Haddad", "Tanaka", "Kim", "Patel",
)  # fmt: skip
_S2T = OpenCC("s2t")
_T2S = OpenCC("t2s")
_COUNTRIES = ("CN", "CN", "CN", "CN", "HK", "TW", "SG", "US", "GB", "MY")


_WEIGHTS = [max(1.0, 60.0 / (i + 1)) for i in range(len(_SURNAMES))]


def _han_name(rng: random.Random) -> str:
    surname = rng.choices(_SURNAMES, weights=_WEIGHTS)[0]
    given = "".join(rng.choice(_GIVEN) for _ in range(rng.choice((1, 2, 2, 2, 2, 2))))
    return surname + given


def _render(han: str, rng: random.Random) -> str:
    """One written form of a Han name: characters, Traditional, pinyin or HK romanisation."""
    from pypinyin import lazy_pinyin

    style = rng.random()
    if style < 0.35:
        return han
    if style < 0.5:
        return str(_S2T.convert(han))
    syllables = [s.replace("v", "u") for s in lazy_pinyin(han)]
    surname, given = syllables[0].capitalize(), "".join(syllables[1:]).capitalize()
    if style < 0.8:
        return f"{surname.upper()} {given}"
    if style < 0.9:
        return f"{given} {surname}"
    return f"{surname}, {'-'.join(s.capitalize() for s in syllables[1:])}"


def _any_name(rng: random.Random) -> tuple[str, str]:
    if rng.random() < 0.1:
        return "", f"{rng.choice(_WESTERN_GIVEN)} {rng.choice(_WESTERN_SURNAMES)}"
    han = _han_name(rng)
    return han, _render(han, rng)


def _variant(name: str, rng: random.Random) -> str:
    """The same name as another list would write it: other script, order or romanisation."""
    from branchdesk.risk.kyc.names import cantonese_readings

    if any("\u4e00" <= ch <= "\u9fff" for ch in name):
        if rng.random() < 0.3:
            readings = cantonese_readings(name)
            if readings:
                parts = [rng.choice(r) for r in readings]
                return f"{parts[0].upper()} {' '.join(p.capitalize() for p in parts[1:])}"
        for _ in range(10):
            other = _render(str(_T2S.convert(name)), rng)
            if other != name:
                return other
        return name
    if "," in name:
        surname, _, given = name.partition(",")
        return f"{given.strip()} {surname.strip().upper()}"
    words = name.split()
    capitals = [w for w in words if w.isupper() and len(w) > 1]
    if len(words) < 2 or len(capitals) != 1:
        return name.upper()  # the order is unknown: keep it
    surname = capitals[0]
    given = " ".join(w for w in words if w != surname)
    return f"{given} {surname}" if rng.random() < 0.5 else f"{surname}, {given}"


def _birth(rng: random.Random) -> date:
    return date(1940, 1, 1) + timedelta(days=rng.randrange(365 * 65))


def generate_customers(count: int, seed: int) -> list[Customer]:
    rng = random.Random(seed)
    customers = []
    for number in range(count):
        _, name = _any_name(rng)
        customers.append(
            Customer(
                customer_id=f"C{number:07d}",
                customer_type=CustomerType.INDIVIDUAL,
                name=name,
                birth_date=_birth(rng),
                country=rng.choice(_COUNTRIES),
            )
        )
    return customers


def generate_watchlist(
    count: int, seed: int, planted_from: Sequence[Customer] = (), planted: int = 0
) -> list[WatchlistEntry]:
    """`count` random entries; the first `planted` list customers' identities (name re-written)."""
    rng = random.Random(seed)
    entries = []
    for number in range(count):
        if number < planted and planted_from:
            source = planted_from[rng.randrange(len(planted_from))]
            names = (_variant(source.name, rng),)
            born, country = source.birth_date, source.country
        else:
            _, name = _any_name(rng)
            names = (name,)
            born, country = (_birth(rng) if rng.random() < 0.7 else None), rng.choice(_COUNTRIES)
        entries.append(
            WatchlistEntry(
                entry_id=f"W{number:06d}",
                names=names,
                list_source="synthetic",
                listed_on=date(2026, 1, 1),
                birth_date=born,
                country=country,
            )
        )
    return entries
