"""Script detection, Traditional -> Simplified normalisation and tokenisation.

Chinese is segmented with jieba's bundled dictionary (nothing is downloaded); its prefix-dict
cache goes to a private temporary directory and its log lines are silenced. Features are built
from Simplified text, so Traditional (Taiwan, Hong Kong) and Simplified examples share them.
"""

from __future__ import annotations

import hashlib
import logging
import re
import tempfile
import threading
import unicodedata
from functools import lru_cache
from pathlib import Path
from typing import Literal

import jieba
import opencc  # type: ignore[import-untyped]  # the package ships no type hints

Language = Literal["zh-Hant", "zh-Hans", "en"]

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN = re.compile(r"[A-Za-z]")
_SPACES = re.compile(r"\s+")
_EN_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_ZH_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+|[a-z0-9]+(?:'[a-z]+)?")

# Banking words jieba's general dictionary splits badly (Simplified, as features are).
_DOMAIN_WORDS = (
    "柜员",
    "柜台",
    "柜位",
    "手续费",
    "年费",
    "管理费",
    "网银",
    "网上银行",
    "手机银行",
    "网路银行",
    "提款机",
    "提款卡",
    "信用卡",
    "扣款",
    "转账",
    "转帐",
    "汇款",
    "理财",
    "基金",
    "保险",
    "排队",
    "号码牌",
    "叫号",
    "等候",
    "冷气",
    "停车位",
    "洗手间",
    "验证码",
    "个资",
    "个人资料",
    "隐私",
    "推销",
    "销售",
    "风险",
    "保本",
    "冇",
    "咗",
    "唔",
    "嘅",
    "啲",
    "乜嘢",
    "搞掂",
    "好耐",
    "网点",
    "大堂经理",
    "客户经理",
    "理专",
    "银行卡",
    "密码",
    "冻结",
    "锁卡",
    "挂失",
    "吞卡",
    "闪退",
    "登入",
    "登录",
    "转错",
    "重复扣款",
    "泄露",
    "外泄",
    "骚扰",
    "电话",
    "无障碍",
)

_lock = threading.Lock()
logging.getLogger("jieba").setLevel(logging.WARNING)
jieba.setLogLevel(logging.WARNING)


@lru_cache(maxsize=1)
def _tokenizer() -> jieba.Tokenizer:
    with _lock:
        tokenizer = jieba.Tokenizer()  # the bundled dict.txt inside the jieba package
        cache_dir = Path(tempfile.gettempdir()) / "branchdesk-jieba"
        cache_dir.mkdir(parents=True, exist_ok=True)
        tokenizer.tmp_dir = str(cache_dir)
        tokenizer.initialize()
        for word in _DOMAIN_WORDS:
            tokenizer.add_word(word, freq=20000)
        return tokenizer


@lru_cache(maxsize=1)
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


@lru_cache(maxsize=1)
def _s2t() -> opencc.OpenCC:
    return opencc.OpenCC("s2t")


def detect_language(text: str) -> Language:
    """``zh-Hant``, ``zh-Hans`` or ``en``: Chinese when Han characters are a real share of it.

    The script is the side with more characters that OpenCC would change: Traditional ones
    change under t2s, Simplified ones under s2t. Text using only shared characters counts as
    Traditional (the project's first locale).
    """
    han = _CJK.findall(text)
    latin = len(_LATIN.findall(text))
    if not han or len(han) * 3 < latin:
        return "en"
    chars = "".join(han)
    simplified = _t2s().convert(chars)
    traditional = _s2t().convert(chars)
    trad_only = sum(1 for a, b in zip(chars, simplified, strict=False) if a != b)
    simp_only = sum(1 for a, b in zip(chars, traditional, strict=False) if a != b)
    return "zh-Hans" if simp_only > trad_only else "zh-Hant"


def normalise(text: str) -> str:
    """NFKC, lower case, Traditional -> Simplified, runs of spaces collapsed."""
    folded = unicodedata.normalize("NFKC", text).lower()
    if _CJK.search(folded):
        folded = _t2s().convert(folded)
    return _SPACES.sub(" ", folded).strip()


def text_hash(text: str) -> str:
    """The key a correction is stored and looked up under: sha256 of the normalised text."""
    return hashlib.sha256(normalise(text).encode("utf-8")).hexdigest()


def tokens(normalised: str) -> list[str]:
    """Words of a normalised text: jieba for Han runs, a simple word pattern for the rest."""
    if not _CJK.search(normalised):
        return _EN_TOKEN.findall(normalised)
    result: list[str] = []
    tokenizer = _tokenizer()
    for run in _ZH_RUN.findall(normalised):
        if _CJK.match(run):
            result.extend(word for word in tokenizer.lcut(run, HMM=True) if word.strip())
        else:
            result.append(run)
    return result
