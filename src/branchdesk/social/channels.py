"""The social channels posts are drafted for, read once from ``channels.json`` (data, not code)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DATA = Path(__file__).with_name("channels.json")


@dataclass(frozen=True, slots=True)
class Channel:
    code: str
    hook: str
    max_length: int
    names: dict[str, str]

    def name(self, locale: str) -> str:
        return self.names.get(locale) or self.names["en"]


@cache
def channels() -> dict[str, Channel]:
    raw = json.loads(DATA.read_text(encoding="utf-8"))
    return {
        item["code"]: Channel(
            code=str(item["code"]),
            hook=str(item["hook"]),
            max_length=int(item["max_length"]),
            names={str(k): str(v) for k, v in item["names"].items()},
        )
        for item in raw["channels"]
    }
