"""Name matching across scripts, orders and romanisations: exact scores and explanations."""

from __future__ import annotations

import pytest

from branchdesk.risk.kyc.names import coarse_key, match_texts, parse_name


def score(left: str, right: str) -> float:
    return match_texts(left, right).score


@pytest.mark.parametrize(
    ("left", "right", "expected", "method"),
    [
        ("陳大文", "陈大文", 1.0, "same characters"),
        ("陳大文", "陳大文", 1.0, "same characters"),
        ("陳大文", "Chen Dawen", 0.95, "pinyin of the characters"),
        ("陈大文", "CHEN, Da-Wen", 0.95, "pinyin of the characters"),
        ("陈大文", "chén dà wén", 0.95, "pinyin of the characters"),
        ("陳大文", "Dawen CHEN", 0.95, "pinyin of the characters"),
        ("陳大文", "Chan Tai Man", 0.95, "cantonese of the characters"),
        ("陈大文", "CHAN Tai-man", 0.95, "cantonese of the characters"),
        ("Chen Dawen", "CHEN, Da-Wen", 1.0, "same spelling"),
        ("Chen Dawen", "Chen2 Da4 Wen2", 1.0, "same spelling"),
        ("Chen Dawen", "Dawen Chen", 1.0, "same spelling"),
        ("José Núñez", "JOSE NUNEZ", 1.0, "same spelling"),
        ("吕小红", "Lyu Xiaohong", 0.95, "pinyin of the characters"),
        ("吕小红", "LU Xiaohong", 0.95, "pinyin of the characters"),
        ("歐陽志強", "Ouyang Zhiqiang", 0.95, "pinyin of the characters"),
        ("李登輝", "Lee Teng-hui", 0.95, "pinyin of the characters"),  # Taiwan: Lee, Wade-Giles
        ("陈伟", "TAN Wei", 0.95, "pinyin of the characters"),  # Singapore Hokkien surname
        ("王家衛", "Wong Kar Wai", 0.95, "cantonese of the characters"),
    ],
)
def test_same_person_in_other_scripts_orders_and_spellings(
    left: str, right: str, expected: float, method: str
) -> None:
    match = match_texts(left, right)
    assert match.score == expected
    assert match.method == method
    assert match_texts(right, left).score == expected


def test_homophone_given_name_is_a_near_match() -> None:
    match = match_texts("王小明", "王晓明")
    assert match.surname_score == 1.0
    assert match.given_score == 0.875  # 小 / 晓 are both xiao: 0.75 for that character
    assert match.score == 0.925
    assert match.method == "characters and their sound"
    assert "surname 1.00, given name 0.88" in match.explain()
    # both characters read "Wang Xiaoming", so the pinyin matches either as well
    assert score("王晓明", "Wang Xiaoming") == 0.95


def test_wade_giles_and_pinyin_are_romanisation_variants() -> None:
    assert coarse_key("hsiao") == coarse_key("xiao")
    assert coarse_key("chang") == coarse_key("zhang")
    match = match_texts("Chang Hsiao-ming", "張曉明")
    assert (match.surname_score, match.given_score, match.score) == (0.9, 0.95, 0.93)
    assert score("Chang Hsiao-ming", "Zhang Xiaoming") == 0.93


@pytest.mark.parametrize(
    ("left", "right", "expected"),
    [
        ("陳大文", "林大文", 0.0598),  # same given name, different surname
        ("林大文", "Chen Dawen", 0.0813),
        ("Chen Dawen", "Lin Dawen", 0.475),  # best reading: DAWEN chen ~ DAWEN lin
        # two Latin names in different romanisation systems are not linked without characters
        ("Chan Tai Man", "Chen Dawen", 0.1506),
        ("陳大文", "陈大伟", 0.775),  # one character differs in sound
        ("John Smith", "Mary Smith", 0.4),
    ],
)
def test_different_people_stay_below_the_default_threshold(
    left: str, right: str, expected: float
) -> None:
    assert score(left, right) == expected
    assert score(left, right) < 0.85


def test_western_name_without_its_middle_name_matches_but_chinese_given_names_do_not() -> None:
    match = match_texts("John Michael Smith", "John Smith")
    assert (match.score, match.given_score) == (0.94, 0.9)
    assert match.method == "spelling, a given or middle name left out"
    assert score("Ahmed Ali Khan", "KHAN, Ahmed") == 0.94
    assert score("Wang Xiao Ming", "Wang Xiao") == 0.685  # 王晓明 is not 王晓
    assert score("王晓明", "王晓") == 0.6138


def test_explanation_names_both_readings() -> None:
    match = match_texts("陳大文", "Chan Tai Man")
    assert match.explain() == (
        "cantonese of the characters: 'CHAN tai man' ~ 'CHAN tai man', surname 1.00, "
        "given name 1.00, name score 0.95"
    )


def test_parsing_keeps_simplified_characters_and_compound_surnames() -> None:
    parsed = parse_name("歐陽志強")
    assert parsed.han == "欧阳志强"
    characters = parsed.readings[0]
    assert (characters.han_surname, characters.han_given) == ("欧阳", "志强")
    assert {reading.system for reading in parsed.readings} == {
        "characters",
        "pinyin",
        "cantonese",
    }


def test_comma_and_capitals_fix_the_surname() -> None:
    for text in ("CHEN, Da-Wen", "Dawen CHEN", "CHEN Dawen"):
        readings = parse_name(text).readings
        assert len(readings) == 1
        assert readings[0].surname_text == "chen"
        assert readings[0].given_text == "dawen"
    assert len(parse_name("Chen Dawen").readings) == 2  # surname first or last


def test_only_run_together_pinyin_is_split_into_syllables() -> None:
    assert parse_name("Chen Dawen").readings[0].given == (("da",), ("wen",))
    assert parse_name("Ouyang Zhiqiang").readings[0].surname == (("ou",), ("yang",))
    assert parse_name("John Smith").readings[0].given == (("smith",),)
    assert parse_name("José Núñez").readings[0].surname == (("jose",),)
    assert score("John Smith", "Jon Smith") == 0.85


def test_blocking_keys_are_shared_by_matching_names() -> None:
    han = parse_name("陳大文").keys
    assert han & parse_name("Chen Dawen").keys
    assert han & parse_name("Chan Tai Man").keys
    assert han & parse_name("Dawen CHEN").keys
    assert not han & parse_name("Lin Dawen").keys
