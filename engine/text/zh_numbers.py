"""Reading digits as Chinese numerals, the way upstream's normaliser (PaddleSpeech's
``zh_normalization``) does: cardinals with 十/百/千/万/亿, digit-by-digit for years, codes and
phone numbers (with 幺 for 1), and decimals as 点 + digits."""
from __future__ import annotations

DIGITS = "零一二三四五六七八九"
_UNITS = ((8, "亿"), (4, "万"), (3, "千"), (2, "百"), (1, "十"))


def digits(s: str, alt_one: bool = False) -> str:
    out = "".join(DIGITS[int(c)] for c in s)
    return out.replace("一", "幺") if alt_one else out


def _groups(s: str, use_zero: bool = True) -> list[str]:
    stripped = s.lstrip("0")
    if not stripped:
        return []
    if len(stripped) == 1:
        # An inner zero run before a single digit is read as 零 (e.g. 205 -> 二百零五).
        if use_zero and len(stripped) < len(s):
            return [DIGITS[0], DIGITS[int(stripped)]]
        return [DIGITS[int(stripped)]]
    power, unit = next((p, u) for p, u in _UNITS if p < len(stripped))
    return _groups(s[:-power]) + [unit] + _groups(s[-power:])


def cardinal(s: str) -> str:
    if not s:
        return ""
    s = s.lstrip("0")
    if not s:
        return DIGITS[0]
    out = _groups(s)
    if len(out) >= 2 and out[0] == "一" and out[1] == "十":
        out = out[1:]  # 一十二 is said 十二
    return "".join(out)


def number(s: str) -> str:
    """'12.50' -> 十二点五; '.5' -> 零点五."""
    whole, _, frac = s.partition(".")
    out = cardinal(whole)
    frac = frac.rstrip("0")
    if frac:
        out = (out or DIGITS[0]) + "点" + digits(frac)
    return out
