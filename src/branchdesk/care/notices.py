"""Message templates of care (registered with the notifier at import; listed in the registry)."""

from __future__ import annotations

from branchdesk.core.notify import register_template

GREETINGS: dict[str, dict[str, str]] = {
    "birthday": {
        "zh-Hant": "{name}，祝您生日快樂，身體健康，萬事如意！",
        "zh-Hans": "{name}，祝您生日快乐，身体健康，万事如意！",
        "en": "Happy birthday, {name}! Wishing you health and joy in the year ahead.",
    },
    "spring_festival": {
        "zh-Hant": "{name}，恭賀新禧，祝您新春快樂，闔家安康！",
        "zh-Hans": "{name}，恭贺新禧，祝您新春快乐，阖家安康！",
        "en": "Happy Lunar New Year, {name}! Health and prosperity to you and your family.",
    },
    "dragon_boat": {
        "zh-Hant": "{name}，端午安康！",
        "zh-Hans": "{name}，端午安康！",
        "en": "Wishing you a happy Dragon Boat Festival, {name}.",
    },
    "mid_autumn": {
        "zh-Hant": "{name}，中秋快樂，花好月圓，闔家團圓！",
        "zh-Hans": "{name}，中秋快乐，花好月圆，阖家团圆！",
        "en": "Happy Mid-Autumn Festival, {name}! May the full moon bring you joy.",
    },
    "new_year": {
        "zh-Hant": "{name}，新年快樂！感謝您一年來的支持。",
        "zh-Hans": "{name}，新年快乐！感谢您一年来的支持。",
        "en": "Happy New Year, {name}! Thank you for banking with us.",
    },
    "christmas": {
        "zh-Hant": "{name}，聖誕快樂！",
        "zh-Hans": "{name}，圣诞快乐！",
        "en": "Merry Christmas, {name}!",
    },
}

# a campaign's own text, written by staff in the three languages and approved
CAMPAIGN = {"zh-Hant": "{text}", "zh-Hans": "{text}", "en": "{text}"}


def greeting_template(occasion: str) -> str:
    return f"care.greeting.{occasion}"


for _occasion, _texts in GREETINGS.items():
    register_template(greeting_template(_occasion), _texts)
register_template("care.campaign", CAMPAIGN)
