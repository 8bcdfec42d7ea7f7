"""ASCII slugs for file and model names: upstream breaks on non-ASCII experiment names."""
from __future__ import annotations

import hashlib
import re
import unicodedata

_SAFE = re.compile(r"[^a-z0-9]+")


def slugify(name: str, max_len: int = 40) -> str:
    """``"My Voice"`` → ``my-voice``; scripts without a Latin form get a pinyin/short-hash slug.

    Chinese names are romanised with pypinyin when it is installed, so ``"我的声音"`` becomes
    ``wo-de-sheng-yin``; anything else that leaves no ASCII gets ``voice-<hash>``.
    """
    text = unicodedata.normalize("NFKD", name)
    if any("\u4e00" <= ch <= "\u9fff" for ch in text):
        try:
            from pypinyin import lazy_pinyin

            text = " ".join(lazy_pinyin(text))
        except ImportError:
            pass
    ascii_text = text.encode("ascii", "ignore").decode("ascii").lower()
    slug = _SAFE.sub("-", ascii_text).strip("-")[:max_len].strip("-")
    if not slug:
        slug = "voice-" + hashlib.sha1(name.encode("utf-8")).hexdigest()[:8]
    return slug


def is_valid_slug(slug: str) -> bool:
    return bool(re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,63}", slug))
