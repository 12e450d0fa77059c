"""Languages: Traditional Chinese, Simplified Chinese and English from Babel catalogs.

Catalogs live in ``branchdesk/locale/<locale>/LC_MESSAGES/*.po`` with English msgids:
``messages.po`` for the platform and one file per domain package that wants its own (for
example ``portal.po``). A page of a domain (a template under ``templates/<domain>/``) looks a
message up in its domain's file first, so the same English word may mean different things in
different domains ("current": an account type at the counter, a repayment bucket in loans);
everything else falls back to all files merged, ``messages.po`` first and never overridden.
They are read with Babel at start-up (no compile step, nothing to forget on deploy).
"""

from __future__ import annotations

from contextvars import ContextVar
from functools import lru_cache
from pathlib import Path

from babel.messages.pofile import read_po

from branchdesk.core.config import SUPPORTED_LOCALES

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
_DIRS = {"zh-Hant": "zh_Hant", "zh-Hans": "zh_Hans", "en": "en"}
LANGUAGE_NAMES = {"zh-Hant": "繁體中文", "zh-Hans": "简体中文", "en": "English"}

_current: ContextVar[str] = ContextVar("branchdesk_locale", default="en")
_domain: ContextVar[str | None] = ContextVar("branchdesk_i18n_domain", default=None)


class Translations:
    def __init__(self, locale: str, messages: dict[str, str]) -> None:
        self.locale = locale
        self.messages = messages

    def gettext(self, message: str) -> str:
        return self.messages.get(message) or message

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self.gettext(singular if n == 1 else plural)


@lru_cache(maxsize=8)
def translations(locale: str) -> Translations:
    if locale not in _DIRS:
        locale = "en"
    folder = LOCALE_DIR / _DIRS[locale] / "LC_MESSAGES"
    paths = sorted(folder.glob("*.po"), key=lambda p: (p.name != "messages.po", p.name))
    messages: dict[str, str] = {}
    for path in paths:
        for key, value in _read(path).items():
            messages.setdefault(key, value)  # the first file that has it wins
    return Translations(locale, messages)


@lru_cache(maxsize=64)
def domain_messages(locale: str, domain: str) -> dict[str, str]:
    """One domain's own catalog (``<domain>.po``); empty when the domain has none."""
    if locale not in _DIRS or not domain.isidentifier():
        return {}
    path = LOCALE_DIR / _DIRS[locale] / "LC_MESSAGES" / f"{domain}.po"
    return _read(path) if path.exists() else {}


def _read(path: Path) -> dict[str, str]:
    with path.open("rb") as handle:
        catalog = read_po(handle)
    found: dict[str, str] = {}
    for message in catalog:
        translated = message.string
        usable = isinstance(translated, str) and translated and not message.fuzzy
        if isinstance(message.id, str) and usable:
            found[message.id] = str(translated)
    return found


def normalize_locale(value: str | None) -> str | None:
    """Map a user's or browser's tag to one of ours; None when it is not Chinese or English."""
    if not value:
        return None
    tag = value.strip().replace("_", "-").lower()
    if tag in ("zh-hant", "zh-tw", "zh-hk", "zh-mo") or tag.startswith("zh-hant"):
        return "zh-Hant"
    if tag in ("zh-hans", "zh-cn", "zh-sg", "zh-my", "zh") or tag.startswith("zh-hans"):
        return "zh-Hans"
    if tag.startswith("zh-"):
        return "zh-Hans"
    if tag == "en" or tag.startswith("en-"):
        return "en"
    return None


def negotiate(accept_language: str | None, default: str = "en") -> str:
    """Pick a locale from an Accept-Language header by quality; English for other languages."""
    if not accept_language:
        return default if default in SUPPORTED_LOCALES else "en"
    choices: list[tuple[float, int, str]] = []
    for index, part in enumerate(accept_language.split(",")):
        pieces = part.strip().split(";")
        quality = 1.0
        for piece in pieces[1:]:
            name, _, raw = piece.strip().partition("=")
            if name == "q":
                try:
                    quality = float(raw)
                except ValueError:
                    quality = 0.0
        choices.append((-quality, index, pieces[0]))
    for negative_quality, _index, tag in sorted(choices):
        if negative_quality >= 0:
            continue
        locale = normalize_locale(tag)
        if locale:
            return locale
    return "en"


def set_locale(locale: str) -> None:
    _current.set(locale if locale in SUPPORTED_LOCALES else "en")


def get_locale() -> str:
    return _current.get()


def set_domain(domain: str | None) -> None:
    """The domain whose catalog is asked first (set while rendering its pages)."""
    _domain.set(domain)


def gettext(message: str) -> str:
    locale = get_locale()
    domain = _domain.get()
    if domain:
        own = domain_messages(locale, domain).get(message)
        if own:
            return own
    return translations(locale).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return gettext(singular if n == 1 else plural)


_ = gettext


def localized(zh_hant: str, zh_hans: str, en: str, locale: str | None = None) -> str:
    """Choose among a record's three names (branches, services) for the current locale."""
    chosen = locale or get_locale()
    if chosen == "zh-Hant":
        return zh_hant or zh_hans or en
    if chosen == "zh-Hans":
        return zh_hans or zh_hant or en
    return en or zh_hant or zh_hans
