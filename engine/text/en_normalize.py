"""English text normalisation, reproducing upstream's ``en_normalization`` output: numbers,
money, times, units, fractions and ordinals spelled out with inflect, then everything but
letters and ``' . , ? ! -`` deleted and capitals split into letters.

Upstream quirks kept on purpose (phone parity with the pretrained models' training data):
``; : "`` are deleted rather than turned into commas, 24-hour times get a.m./p.m.,
a unit ``s`` after digits reads "seconds" (``1990s``), and a capital letter not preceded
by whitespace starts a new word (``NASA`` -> ``N A S A``, ``PyTorch`` -> ``Py Torch``).
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from engine.text.punctuation import PUNCTUATION

_UNITS = {  # suffix -> (singular, plural)
    "m": ("meter", "meters"), "km": ("kilometer", "kilometers"),
    "km/h": ("kilometer per hour", "kilometers per hour"), "ft": ("feet", "feet"),
    "L": ("liter", "liters"), "tbsp": ("tablespoon", "tablespoons"),
    "tsp": ("teaspoon", "teaspoons"), "h": ("hour", "hours"), "min": ("minute", "minutes"),
    "s": ("second", "seconds"), "°C": ("degree celsius", "degrees celsius"),
    "°F": ("degree fahrenheit", "degrees fahrenheit"),
}
_UNIT_RE = re.compile(r"\b([0-9]+(\.[0-9]+)?(m|km|km/h|ft|L|tbsp|tsp|h|min|s|°C|°F))\b")
_LIST_ORDINAL_RE = re.compile(r"\b([0-9]+)\. ")
_NEGATIVE_RE = re.compile(r"(?<!\d)\s?-(?=\d)")
_GROUPED_RE = re.compile(r"([0-9][0-9,]+[0-9])")
_TIME_RE = re.compile(r"\b([01]?[0-9]|2[0-3]):([0-5][0-9])\b")
_MONEY = (
    (re.compile(r"£([0-9.,]*[0-9]+)"), ("pound", "pounds", "penny", "pence")),
    (re.compile(r"([0-9.,]*[0-9]+)£"), ("pound", "pounds", "penny", "pence")),
    (re.compile(r"\$([0-9.,]*[0-9]+)"), ("dollar", "dollars", "cent", "cents")),
    (re.compile(r"([(0-9.,]*[0-9]+)\$"), ("dollar", "dollars", "cent", "cents")),
)
_DECIMAL_RE = re.compile(r"([0-9]+\.\s*[0-9]+)")
_FRACTION_RE = re.compile(r"([0-9]+/[0-9]+)")
_ORDINAL_RE = re.compile(r"[0-9]+(st|nd|rd|th)")
_NUMBER_RE = re.compile(r"[0-9]+")
_REPEATED_PUNCT_RE = re.compile(
    "([" + "".join(map(re.escape, PUNCTUATION)) + r"\s])([" + "".join(map(re.escape, PUNCTUATION)) + "])+")
# Upstream maps only these three; its other entries never match (see module docstring).
_FULLWIDTH = {"。": ".", "！": "!", "？": "?"}


@lru_cache(maxsize=1)
def _inflect():
    import inflect

    return inflect.engine()


def _words(n: int | str, **kw) -> str:
    return _inflect().number_to_words(n, **kw)


def _time(m: re.Match) -> str:
    hours, minutes = int(m.group(1)), int(m.group(2))
    period = "a.m." if hours < 12 else "p.m."
    if hours > 12:
        hours -= 12
    if minutes == 0:
        return f"{_words(hours)} o'clock {period}"
    return f"{_words(hours)} {_words(minutes)} {period}"


def _unit(m: re.Match) -> str:
    suffix, whole = m.group(3), m.group(1)
    amount = int(whole.replace(suffix, "").replace(".", ""))
    singular = m.group(2) is None and amount == 1
    return whole.replace(suffix, " " + _UNITS[suffix][0 if singular else 1])


def _money(names: tuple[str, str, str, str]):
    one, many, cent, cents = names

    def expand(m: re.Match) -> str:
        amount = m.group(1)
        parts = amount.split(".")
        if len(parts) > 2:
            return f"{amount} {many}"
        major = int(parts[0]) if parts[0] else 0
        minor = int(parts[1].ljust(2, "0")) if len(parts) > 1 and parts[1] else 0
        major_s = f"{major} {one if major == 1 else many}"
        minor_s = f"{minor} {cent if minor == 1 else cents}"
        if major and minor:
            return f"{major_s} and {minor_s}"
        if major:
            return major_s
        if minor:
            return minor_s
        return f"zero {many}"

    return expand


def _decimal(m: re.Match) -> str:
    whole, frac = m.group(1).split(".")
    return whole + " point " + " ".join(frac)


def _fraction(m: re.Match) -> str:
    num, den = map(int, m.group(0).split("/"))
    num_s = _words(num)
    if den == 1:
        return num_s
    if den == 2:
        return f"{num_s} {'half' if num == 1 else 'halves'}"
    den_s = _inflect().ordinal(_words(den))
    return f"{num_s} {den_s}{'s' if num > 1 else ''}"


def _number(m: re.Match) -> str:
    n = int(m.group(0))
    if 1000 < n < 3000:  # read like a year
        if n == 2000:
            return "two thousand"
        if 2000 < n < 2010:
            return "two thousand " + _words(n % 100)
        if n % 100 == 0:
            return _words(n // 100) + " hundred"
        return _words(n, andword="", zero="oh", group=2).replace(", ", " ")
    return _words(n, andword="")


def expand(text: str) -> str:
    text = _LIST_ORDINAL_RE.sub(lambda m: _inflect().ordinal(m.group(1)) + ", ", text)
    text = _NEGATIVE_RE.sub("negative ", text)
    text = _GROUPED_RE.sub(lambda m: m.group(1).replace(",", ""), text)
    text = _TIME_RE.sub(_time, text)
    text = _UNIT_RE.sub(_unit, text)
    for regex, names in _MONEY:
        text = regex.sub(_money(names), text)
    text = _DECIMAL_RE.sub(_decimal, text)
    text = _FRACTION_RE.sub(_fraction, text)
    text = _ORDINAL_RE.sub(lambda m: _words(m.group(0)), text)
    text = _NUMBER_RE.sub(_number, text)
    text = "".join(c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn")
    text = text.replace("%", " percent")
    text = re.sub(r"[^ A-Za-z'.,?!\-]", "", text)
    text = re.sub(r"(?i)i\.e\.", "that is", text)
    text = re.sub(r"(?i)e\.g\.", "for example", text)
    return re.sub(r"(?<!^)(?<!\s)([A-Z])", r" \1", text)


def text_normalize(text: str) -> str:
    for full, half in _FULLWIDTH.items():
        text = text.replace(full, half)
    return _REPEATED_PUNCT_RE.sub(r"\1", expand(text))
