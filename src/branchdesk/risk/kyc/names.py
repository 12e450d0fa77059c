"""Name normalisation and fuzzy matching for watch-list screening.

A name is parsed once into a `ParsedName` holding one or more *readings*: the Han characters
(converted to Simplified, so 陳大文 and 陈大文 are the same name), their Mandarin pinyin (every
reading of a heteronym), their Hong Kong Government Cantonese romanisation ("Chan Tai Man"), or
for a Latin-script name its syllables in the written order and, when the order is not given away
by a comma or an all-capitals surname, with the last word as surname as well.

Two names are compared reading against reading, surname against surname and given name against
given name; the best pair wins and is returned with its parts (`NameMatch`), so a reviewer can see
*why* two names matched. Rules of the score (0..1):

- Same characters after Traditional -> Simplified conversion: 1.0 per character; a different
  character with the same pinyin (a homophone, 小 / 晓) counts 0.75.
- Syllables: identical 1.0; the same syllable in another Mandarin romanisation (Wade-Giles
  "hsiao" / pinyin "xiao", "chang" / "zhang") 0.9; two different Chinese syllables (two
  different characters) 0.5 x their edit-distance similarity; other words (Western names) their
  edit-distance similarity. Parts with different syllable counts ("Dawen" that could not be
  split) compare as run-together spellings at 0.95 x edit-distance similarity.
- Han name against a Latin one scores at most 0.95: a transliteration cannot tell homophones
  apart. Two Latin names in different romanisation systems ("Chan Tai Man" / "Chen Da Wen") are
  only related through Han characters, so they are compared as spellings and do not match.
- A Western given name that leaves out a middle name keeps 0.9 of its words' similarity.
- name score = 0.4 x surname + 0.6 x given name; a surname below 0.85 multiplies the score by
  the surname score, so different surnames do not match on a shared given name.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from itertools import islice, product

from opencc import OpenCC  # type: ignore[import-untyped]  # pure-Python package without stubs
from pypinyin import Style, pinyin
from pypinyin.contrib.tone_convert import to_normal
from pypinyin.pinyin_dict import pinyin_dict

__all__ = [
    "COMPOUND_SURNAMES",
    "SURNAME_SPELLINGS",
    "NameMatch",
    "ParsedName",
    "Reading",
    "cantonese_readings",
    "match_names",
    "match_texts",
    "parse_name",
    "syllable_similarity",
]

# Two-character surnames, Simplified (a 3+ character name starting with one keeps both).
COMPOUND_SURNAMES = frozenset(
    {
        "欧阳", "司马", "诸葛", "上官", "司徒", "公孙", "东方", "慕容", "尉迟", "长孙",
        "皇甫", "夏侯", "令狐", "端木", "宇文", "轩辕", "澹台", "西门", "南宫", "万俟",
        "闻人", "呼延", "钟离", "申屠", "独孤", "太史", "百里", "东郭", "公冶", "赫连",
    }
)  # fmt: skip

# Established non-pinyin spellings of common surnames (Taiwan Wade-Giles, Hong Kong, Hokkien and
# Teochew in Singapore and Malaysia), accepted for the surname of a pinyin reading.
SURNAME_SPELLINGS = {
    "李": "lee", "林": "lim lam", "陈": "tan chan chin", "王": "wong ong", "黄": "wong ng ooi",
    "吴": "ng goh woo", "张": "cheung teo chong", "郑": "cheng tay", "许": "hsu hui koh",
    "蔡": "tsai choi chua", "叶": "yeh yip yap", "郭": "kuo kwok kuek", "刘": "lau liu",
    "杨": "yeung yong", "周": "chow chou chew", "徐": "hsu tsui chee", "谢": "hsieh tse chia",
    "曾": "tsang tseng", "梁": "leung neo", "罗": "law lo lor", "邱": "khoo yau chiu",
    "洪": "hung ang", "苏": "so soh", "卢": "lo loh", "胡": "wu woo", "江": "kong kang",
    "彭": "pang phang", "潘": "poon phua", "孙": "suen soon", "朱": "chu choo", "高": "ko kao koh",
    "钟": "chung chong", "余": "yu yee", "马": "ma beh", "邓": "tang teng", "冯": "fung pang",
    "赵": "chiu chao teoh", "何": "ho hoh", "魏": "ngai wei", "龚": "kung kong",
}  # fmt: skip

SURNAME_WEIGHT = 0.4
SURNAME_GATE = 0.85
HOMOPHONE_SCORE = 0.75
VARIANT_SCORE = 0.9
DISTINCT_SYLLABLE_FACTOR = 0.5
TRANSLITERATION_CAP = 0.95
RESYLLABIFIED_FACTOR = 0.95
DROPPED_WORD_FACTOR = 0.9

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff]")
_SEPARATORS = re.compile(r"[\s\-‐‑–—_./·•・]+")
_t2s = OpenCC("t2s")
_s2t = OpenCC("s2t")


@dataclass(frozen=True)
class Reading:
    """One way to read a name: surname and given syllables, each a set of alternatives."""

    system: str  # "characters", "pinyin", "cantonese", "as written", "surname last"
    surname: tuple[tuple[str, ...], ...]
    given: tuple[tuple[str, ...], ...]
    han_surname: str = ""  # Simplified characters, for the "characters" reading only
    han_given: str = ""
    surname_text: str = ""  # first alternatives run together, set by `_reading`
    given_text: str = ""
    given_words: tuple[str, ...] = ()  # Latin readings: the given name's words as written

    @property
    def is_han(self) -> bool:
        return self.system == "characters"

    @property
    def from_han(self) -> bool:
        return self.system in ("pinyin", "cantonese")

    def text(self) -> str:
        if self.is_han:
            return f"{self.han_surname} {self.han_given}".strip()
        return f"{self.surname_text.upper()} {self.given_text}".strip()


@dataclass(frozen=True)
class ParsedName:
    """A name parsed once for screening: its readings and its blocking keys."""

    original: str
    han: str  # the Han characters in Simplified, "" for a Latin-script name
    readings: tuple[Reading, ...]
    keys: frozenset[str]


@dataclass(frozen=True)
class NameMatch:
    """The best reading pair of two names and the parts of its score."""

    score: float
    surname_score: float
    given_score: float
    method: str
    left: str
    right: str

    def explain(self) -> str:
        return (
            f"{self.method}: {self.left!r} ~ {self.right!r}, surname {self.surname_score:.2f}, "
            f"given name {self.given_score:.2f}, name score {self.score:.2f}"
        )


# --- syllables --------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _syllables() -> frozenset[str]:
    """Every toneless pinyin syllable pypinyin knows, plus Cantonese romanisations."""
    return _pinyin_syllables() | _cantonese_table().syllables


@lru_cache(maxsize=1)
def _pinyin_syllables() -> frozenset[str]:
    marked: set[str] = set()
    for readings in pinyin_dict.values():
        marked.update(readings.split(","))
    found: set[str] = set()
    for reading in marked:  # about 1,500 tone-marked syllables
        plain = _canonical_syllable(_ascii(to_normal(reading)))
        if plain.isalpha():
            found.add(plain)
    return frozenset(found)


# Interjection syllables (啊 a, 嗯 n/ng, 呣 m ...) would chop Western names into nonsense.
_NOT_SPLIT_OUT = frozenset({"a", "e", "o", "n", "m", "ng", "r", "hm", "hng"})


@lru_cache(maxsize=1)
def _split_vocabulary() -> frozenset[str]:
    """Syllables a run-together word may be split into: pinyin, without the interjections."""
    return _pinyin_syllables() - _NOT_SPLIT_OUT


def _ascii(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()


_CANONICAL = {"lv": "lu", "nv": "nu", "lyu": "lu", "nyu": "nu", "lve": "lue", "nve": "nue"}


def _canonical_syllable(syllable: str) -> str:
    return _CANONICAL.get(syllable, syllable)


def _segment(word: str) -> tuple[str, ...]:
    """Split a run of letters into the fewest pinyin syllables ("dawen"), or keep it whole."""
    vocabulary = _split_vocabulary()
    if word in vocabulary or len(word) > 30:
        return (word,)
    n = len(word)
    best: list[tuple[str, ...] | None] = [None] * (n + 1)
    best[0] = ()
    for end in range(1, n + 1):
        for start in range(max(0, end - 6), end):
            head = best[start]
            piece = word[start:end]
            if head is not None and piece in vocabulary:
                candidate = (*head, piece)
                current = best[end]
                if current is None or len(candidate) < len(current):
                    best[end] = candidate
    found = best[n]
    return found if found else (word,)


_INITIALS = (
    ("tsz", "C"), ("tz", "C"), ("ts", "C"), ("zh", "C"), ("ch", "C"), ("sh", "S"), ("hs", "S"),
    ("sz", "S"), ("ss", "S"), ("j", "C"), ("q", "C"), ("z", "C"), ("c", "C"), ("x", "S"),
    ("s", "S"), ("b", "P"), ("p", "P"), ("d", "T"), ("t", "T"), ("g", "K"), ("k", "K"),
    ("r", "R"),
)  # fmt: skip
_FINALS = {
    "ih": "i", "ien": "ian", "ieh": "ie", "ueh": "ue", "iung": "iong", "ung": "ong",
    "uei": "ui", "erh": "er", "uo": "o", "e": "o", "eh": "o",
}  # fmt: skip


@lru_cache(maxsize=65536)
def coarse_key(syllable: str) -> str:
    """A key shared by Mandarin romanisations of one syllable (Wade-Giles, pinyin, aspiration)."""
    for prefix, klass in _INITIALS:
        if syllable.startswith(prefix):
            initial, final = klass, syllable[len(prefix) :]
            if prefix in ("tsz", "tz", "ts", "sz", "ss") and final in ("u", "ih", "i", ""):
                final = "i"
            break
    else:
        if syllable[:1] in ("m", "n", "l", "h", "f", "w", "y"):
            initial, final = syllable[0], syllable[1:]
        else:
            initial, final = "", syllable
    return initial + _FINALS.get(final, final)


def _edit_similarity(a: str, b: str) -> float:
    if a == b:
        return 1.0
    if not a or not b:
        return 0.0
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return 1.0 - previous[-1] / max(len(a), len(b))


@lru_cache(maxsize=262144)
def syllable_similarity(a: str, b: str) -> float:
    """1.0 identical, 0.9 the same Mandarin syllable in another romanisation, else spelling.

    Two different Chinese syllables are two different characters (wen / wei), so they keep only
    half their spelling similarity; longer words (Western names) keep all of it (nunez / nunes).
    """
    if a == b:
        return 1.0
    if coarse_key(a) == coarse_key(b):
        return VARIANT_SCORE
    vocabulary = _syllables()
    similarity = _edit_similarity(a, b)
    if a in vocabulary and b in vocabulary:
        return DISTINCT_SYLLABLE_FACTOR * similarity
    return similarity


@lru_cache(maxsize=262144)
def _joined_similarity(a: str, b: str) -> float:
    return _edit_similarity(a, b)


def _best(alternatives_a: tuple[str, ...], alternatives_b: tuple[str, ...]) -> float:
    return max(syllable_similarity(a, b) for a in alternatives_a for b in alternatives_b)


def _part_similarity(
    a: tuple[tuple[str, ...], ...],
    b: tuple[tuple[str, ...], ...],
    text_a: str,
    text_b: str,
    need: float = 0.0,
) -> tuple[float, bool]:
    """Similarity of two syllable sequences; True when it came from re-syllabified spelling.

    Run-together spellings whose lengths alone keep them below `need` score 0 unexamined.
    """
    if not a or not b:
        return (1.0 if not a and not b else 0.0), False
    if len(a) == len(b):
        total = 0.0
        for x, y in zip(a, b, strict=True):
            if len(x) == 1 and len(y) == 1:
                total += syllable_similarity(x[0], y[0])
            else:
                total += _best(x, y)
        return total / len(a), False
    shorter, longer = sorted((len(text_a), len(text_b)))
    if shorter < longer / 2 or RESYLLABIFIED_FACTOR * shorter / longer < need:
        return 0.0, True  # edit similarity is at most shorter / longer
    return RESYLLABIFIED_FACTOR * _joined_similarity(text_a, text_b), True


def _dropped_words(a: tuple[str, ...], b: tuple[str, ...]) -> float:
    """Western names that leave out a middle name ("John Smith" / "John Michael Smith").

    Only when no word is a single Chinese syllable: 王晓 and 王晓明 are different names.
    """
    if not a or not b or len(a) == len(b):
        return 0.0
    vocabulary = _syllables()
    if any(word in vocabulary for word in (*a, *b)):
        return 0.0
    short, long = (a, b) if len(a) < len(b) else (b, a)
    found = sum(max(_joined_similarity(x, y) for y in long) for x in short)
    return DROPPED_WORD_FACTOR * found / len(short)


def _char_similarity(a: str, b: str, pinyin_a: tuple[str, ...], pinyin_b: tuple[str, ...]) -> float:
    if a == b:
        return 1.0
    return HOMOPHONE_SCORE * _best(pinyin_a, pinyin_b)


# --- parsing ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _CantoneseTable:
    by_char: dict[str, tuple[str, ...]]
    syllables: frozenset[str]


@lru_cache(maxsize=1)
def _cantonese_table() -> _CantoneseTable:
    from cantoroman import Cantonese  # type: ignore[import-untyped]  # no stubs; MIT data

    table = Cantonese()
    by_char = {
        char: tuple(dict.fromkeys(_ascii(r) for r in readings if r.isalpha()))
        for char, readings in table.charToRoman.items()
    }
    syllables = frozenset(s for readings in by_char.values() for s in readings)
    return _CantoneseTable({c: r for c, r in by_char.items() if r}, syllables)


@lru_cache(maxsize=65536)
def _pinyin_of(char: str) -> tuple[str, ...]:
    readings = pinyin(char, style=Style.NORMAL, heteronym=True, errors="ignore")
    found = tuple(
        dict.fromkeys(_canonical_syllable(_ascii(r)) for r in (readings[0] if readings else []))
    )
    return found or (char,)


@lru_cache(maxsize=65536)
def _cantonese_of(char: str) -> tuple[str, ...]:
    table = _cantonese_table().by_char
    return tuple(dict.fromkeys((*table.get(char, ()), *table.get(_s2t.convert(char), ()))))


def cantonese_readings(han: str) -> tuple[tuple[str, ...], ...]:
    """Hong Kong Government romanisations of each Han character; () if one has none."""
    readings = tuple(_cantonese_of(ch) for ch in _HAN.findall(han))
    return readings if readings and all(readings) else ()


def _alts(syllables: list[str]) -> tuple[tuple[str, ...], ...]:
    return tuple((s,) for s in syllables)


def _first_text(syllables: tuple[tuple[str, ...], ...]) -> str:
    return "".join(alternatives[0] for alternatives in syllables)


def _reading(
    system: str,
    surname: tuple[tuple[str, ...], ...],
    given: tuple[tuple[str, ...], ...],
    given_words: tuple[str, ...] = (),
) -> Reading:
    return Reading(
        system,
        surname,
        given,
        surname_text=_first_text(surname),
        given_text=_first_text(given),
        given_words=given_words,
    )


def _parse_han(original: str, text: str) -> ParsedName:
    chars = "".join(_HAN.findall(text))
    simplified = _t2s.convert(chars)
    if "·" in text or "•" in text:  # transliterated foreign name (约翰·史密斯): no Chinese surname
        surname_len = 0
    else:
        surname_len = 2 if len(simplified) >= 3 and simplified[:2] in COMPOUND_SURNAMES else 1
    surname, given = simplified[:surname_len], simplified[surname_len:]
    readings: list[Reading] = [Reading("characters", (), (), surname, given)]
    mandarin = _reading(
        "pinyin", tuple(_pinyin_of(c) for c in surname), tuple(_pinyin_of(c) for c in given)
    )
    pinyin_reading = mandarin
    if len(surname) == 1 and surname in SURNAME_SPELLINGS:
        spellings = (*mandarin.surname[0], *SURNAME_SPELLINGS[surname].split())
        pinyin_reading = _reading("pinyin", (tuple(dict.fromkeys(spellings)),), mandarin.given)
    readings.append(pinyin_reading)
    original_chars = chars
    cantonese = [
        tuple(dict.fromkeys((*_cantonese_of(o), *_cantonese_of(s))))
        for o, s in zip(original_chars, simplified, strict=True)
    ]
    if cantonese and all(cantonese):
        readings.append(
            _reading("cantonese", tuple(cantonese[:surname_len]), tuple(cantonese[surname_len:]))
        )
    # Two Han names meet only on Mandarin keys (their characters decide); the dialect spellings
    # and Cantonese keys are there to meet Latin names.
    keys = {"m" + key for key in _keys([mandarin])} | {"d" + key for key in _keys(readings)}
    return ParsedName(original, simplified, tuple(readings), frozenset(keys))


def _parse_latin(original: str, text: str) -> ParsedName:
    comma = "," in text
    surname_words: list[str] = []
    if comma:
        head, _, tail = text.partition(",")
        surname_words = _words(head)
        given_words = _words(tail)
        orders = [("as written", surname_words, given_words)]
    else:
        raw = [w for w in re.split(r"\s+", text.strip()) if w]
        capitals = [w for w in raw if w.isupper() and sum(ch.isalpha() for ch in w) > 1]
        words = _words(text)
        if capitals and len(capitals) < len(raw):
            surname_words = _words(" ".join(capitals))
            given_words = _words(" ".join(w for w in raw if w not in capitals))
            orders = [("as written", surname_words, given_words)]
        elif len(words) <= 1:
            orders = [("as written", words, [])]
        else:
            orders = [
                ("as written", words[:1], words[1:]),
                ("surname last", words[-1:], words[:-1]),
            ]
    readings = [
        _reading(
            system,
            _alts(_syllabify(sur)),
            _alts(_syllabify(giv)),
            tuple(p for word in giv for p in _SEPARATORS.split(word) if p),
        )
        for system, sur, giv in orders
    ]
    keys = _keys(readings)
    both = {"m" + key for key in keys} | {"d" + key for key in keys}
    return ParsedName(original, "", tuple(readings), frozenset(both))


def _words(text: str) -> list[str]:
    """Lower-case ASCII words; hyphens, dots and apostrophes kept inside a word as '-'."""
    plain = _ascii(text)
    plain = re.sub(r"[’'`ʼ]", "", plain)
    plain = re.sub(r"\d+", "", plain)  # pinyin tone numbers: chen2 da4 wen2
    plain = re.sub(r"[^a-z\s\-‐‑.]", " ", plain)
    words = [w.strip("-.") for w in re.split(r"\s+", plain)]
    return [w for w in words if w.strip("-.")]


def _syllabify(words: list[str]) -> list[str]:
    out: list[str] = []
    for word in words:
        for piece in _SEPARATORS.split(word):
            if piece:
                out.extend(_canonical_syllable(s) for s in _segment(piece))
    return out


@lru_cache(maxsize=65536)
def parse_name(name: str) -> ParsedName:
    """Parse a name in Han characters (Traditional or Simplified) or Latin script."""
    text = unicodedata.normalize("NFKC", name).strip()
    if _HAN.search(text):
        return _parse_han(name, text)
    return _parse_latin(name, text)


# --- blocking ---------------------------------------------------------------------------

_MAX_KEYS_PER_READING = 8  # surname reading combinations (heteronyms)


def _keys(readings: list[Reading]) -> set[str]:
    """Blocking keys per reading: coarse surname + coarse first, and + coarse last, given syllable.

    Two names share a key when some reading of each has the same surname up to romanisation and
    the same first (or last) given syllable; a match above the usual thresholds needs both.
    """
    keys: set[str] = set()
    for reading in readings:
        if reading.is_han or not reading.surname:
            continue
        ends = (reading.given[0], reading.given[-1]) if reading.given else (("",),)
        for surname_syllables in islice(product(*reading.surname), _MAX_KEYS_PER_READING):
            surname_key = "".join(coarse_key(s) for s in surname_syllables)
            for end, alternatives in enumerate(ends):
                for syllable in alternatives:
                    keys.add(f"{surname_key}|{end}{coarse_key(syllable) if syllable else ''}")
    return keys


# --- matching ---------------------------------------------------------------------------


def _combine(surname: float, given: float, has_given: bool) -> float:
    score = SURNAME_WEIGHT * surname + (1 - SURNAME_WEIGHT) * given if has_given else surname
    if surname < SURNAME_GATE:
        score *= surname
    return score


def _han_part(
    x: str, y: str, px: tuple[tuple[str, ...], ...], py: tuple[tuple[str, ...], ...]
) -> float:
    if not x and not y:
        return 1.0
    if len(x) == len(y):
        return sum(
            _char_similarity(cx, cy, sx, sy) for cx, cy, sx, sy in zip(x, y, px, py, strict=True)
        ) / len(x)
    sound, _ = _part_similarity(px, py, _first_text(px), _first_text(py))
    return HOMOPHONE_SCORE * sound


def _compare_han(left: ParsedName, right: ParsedName) -> NameMatch:
    a, b = left.readings[0], right.readings[0]
    pa, pb = left.readings[1], right.readings[1]
    # Mandarin sounds only: dialect surname spellings (陈 Tan, 谭 Tam) make no homophones
    mandarin_a = tuple(_pinyin_of(c) for c in a.han_surname)
    mandarin_b = tuple(_pinyin_of(c) for c in b.han_surname)
    surname = _han_part(a.han_surname, b.han_surname, mandarin_a, mandarin_b)
    given = _han_part(a.han_given, b.han_given, pa.given, pb.given)
    score = _combine(surname, given, bool(a.han_given or b.han_given))
    method = "same characters" if score == 1.0 else "characters and their sound"
    return NameMatch(
        round(score, 4), round(surname, 4), round(given, 4), method, a.text(), b.text()
    )


def _compare_syllables(left: ParsedName, right: ParsedName, floor: float) -> NameMatch:
    best: tuple[float, float, float, str, Reading, Reading] | None = None
    surname_need = floor * 0.8  # below this a surname cannot reach the floor (gate and weight)
    for a in left.readings:
        if a.is_han:
            continue
        for b in right.readings:
            if b.is_han or (a.from_han and b.from_han):
                continue
            cap = TRANSLITERATION_CAP if a.from_han or b.from_han else 1.0
            surname, surname_joined = _part_similarity(
                a.surname, b.surname, a.surname_text, b.surname_text, surname_need
            )
            has_given = bool(a.given or b.given)
            bound = min(cap, _combine(surname, 1.0, has_given))
            if bound < floor or (best is not None and bound <= best[0]):
                continue  # even a perfect given name could not reach the floor or the best
            given, given_joined = _part_similarity(a.given, b.given, a.given_text, b.given_text)
            note = ", run-together syllables" if surname_joined or given_joined else ""
            if a.given_words and b.given_words:
                dropped = _dropped_words(a.given_words, b.given_words)
                if dropped > given:
                    given, note = dropped, ", a given or middle name left out"
            score = min(cap, _combine(surname, given, has_given))
            if best is None or score > best[0]:
                best = (score, surname, given, note, a, b)
    if best is None:
        method = "below the floor" if floor > 0 else "nothing comparable"
        return NameMatch(0.0, 0.0, 0.0, method, left.original, right.original)
    score, surname, given, note, a, b = best
    left_text = f"{_shown(a.surname, b.surname).upper()} {_shown(a.given, b.given)}".strip()
    right_text = f"{_shown(b.surname, a.surname).upper()} {_shown(b.given, a.given)}".strip()
    if a.from_han or b.from_han:
        method = f"{a.system if a.from_han else b.system} of the characters{note}"
    else:
        method = f"{'spelling' if score < 1.0 else 'same spelling'}{note}"
    return NameMatch(
        round(score, 4), round(surname, 4), round(given, 4), method, left_text, right_text
    )


def _shown(part: tuple[tuple[str, ...], ...], other: tuple[tuple[str, ...], ...]) -> str:
    """A part's syllables for people, each heteronym shown in the reading that matched."""
    if len(part) != len(other):
        return " ".join(alternatives[0] for alternatives in part)
    return " ".join(
        max(mine, key=lambda s: max(syllable_similarity(s, t) for t in theirs))
        for mine, theirs in zip(part, other, strict=True)
    )


def match_names(left: ParsedName, right: ParsedName, floor: float = 0.0) -> NameMatch:
    """The best-scoring reading pair of two parsed names (see the module docstring).

    With a `floor`, reading pairs that cannot reach it are skipped: scores at or above the floor
    are exact, a pair below it may come back as 0 ("below the floor").
    """
    if left.han and right.han:
        return _compare_han(left, right)
    return _compare_syllables(left, right, floor)


@lru_cache(maxsize=65536)
def match_texts(left: str, right: str, floor: float = 0.0) -> NameMatch:
    """`match_names` of two name strings, parsed and compared once per distinct pair."""
    return match_names(parse_name(left), parse_name(right), floor)
