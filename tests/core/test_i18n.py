from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir

from branchdesk.core import i18n
from branchdesk.identity.roles import Role

ROOT = Path(i18n.__file__).resolve().parent.parent


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("zh-TW,zh;q=0.9,en;q=0.8", "zh-Hant"),
        ("zh-HK", "zh-Hant"),
        ("zh-Hant-TW", "zh-Hant"),
        ("zh-CN,zh;q=0.9", "zh-Hans"),
        ("zh-Hans", "zh-Hans"),
        ("en-GB,en;q=0.9", "en"),
        ("fr-FR,fr;q=0.9", "en"),
        ("fr-FR,zh-TW;q=0.5", "zh-Hant"),
        ("en;q=0.4,zh-CN;q=0.8", "zh-Hans"),
        ("zh-TW;q=0", "en"),
        (None, "en"),
    ],
)
def test_accept_language_negotiation(header: str | None, expected: str) -> None:
    assert i18n.negotiate(header) == expected


def _template_messages() -> set[str]:
    method_map = [("**.html", "jinja2")]
    options = {"**.html": {"extensions": "jinja2.ext.i18n"}}
    found = set()
    for _filename, _lineno, message, _comments, _context in extract_from_dir(
        str(ROOT / "templates"), method_map, options
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


@pytest.mark.parametrize("locale", ["zh-Hant", "zh-Hans"])
def test_every_template_message_and_role_is_translated(locale: str) -> None:
    catalog = i18n.translations(locale).messages
    wanted = _template_messages() | {r.value for r in Role} | {"open", "paused", "closed"}
    assert len(wanted) > 100
    missing = sorted(m for m in wanted if m not in catalog)
    assert missing == []


def test_localized_names_follow_the_locale() -> None:
    assert i18n.localized("台北分行", "台北支行", "Taipei", "zh-Hant") == "台北分行"
    assert i18n.localized("台北分行", "台北支行", "Taipei", "zh-Hans") == "台北支行"
    assert i18n.localized("台北分行", "台北支行", "Taipei", "en") == "Taipei"
    assert i18n.translations("zh-Hant").gettext("Log in") == "登入"
    assert i18n.translations("zh-Hans").gettext("Log in") == "登录"
    assert i18n.translations("en").gettext("Log in") == "Log in"


def test_a_domain_page_uses_its_own_catalog_first() -> None:
    """The same English word can mean different things in two domains."""
    i18n.set_locale("zh-Hant")
    try:
        i18n.set_domain("loans")
        assert i18n.gettext("current") == "正常"  # a loan with nothing overdue
        i18n.set_domain("teller")
        assert i18n.gettext("current") == "活期存款"  # an account type at the counter
        assert i18n.gettext("Log in") == "登入"  # not in the domain's file: the platform's
        i18n.set_domain(None)
        assert i18n.gettext("Service") == i18n.domain_messages("zh-Hant", "messages")["Service"]
    finally:
        i18n.set_domain(None)
        i18n.set_locale("en")
