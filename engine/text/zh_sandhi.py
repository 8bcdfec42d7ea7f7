"""Mandarin tone sandhi on pypinyin finals (tone digits 1-5, 5 = neutral), reproducing the
rules upstream applies (PaddleSpeech's ToneSandhi): 不 and 一 changes, neutral tones of
particles, suffixes, reduplications and listed words, and third-tone sandhi within a word.
Also the segment merges done before it, so sandhi sees 不/一/reduplications/third-tone
runs as one word."""
from __future__ import annotations

from functools import lru_cache
from importlib import resources

_PUNCT = "：，；。？！“”‘’':,;.?!"
Seg = list[list[str]]  # [[word, pos], ...]


@lru_cache(maxsize=None)
def _lists(name: str) -> dict[str, set[str]]:
    text = resources.files("engine.text").joinpath("data", name).read_text(encoding="utf-8")
    out: dict[str, set[str]] = {}
    current = ""
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            current = line.strip("[]")
            out[current] = set()
        else:
            out[current].update(line.split())
    return out


def neutral_words() -> set[str]:
    return _lists("zh_neutral_tone.txt")["neutral"]


def not_neutral_words() -> set[str]:
    return _lists("zh_neutral_tone.txt")["not_neutral"]


def _finals(word: str) -> list[str]:
    from pypinyin import Style, lazy_pinyin

    return lazy_pinyin(word, neutral_tone_with_five=True, style=Style.FINALS_TONE3)


def _retone(final: str, tone: str) -> str:
    return final[:-1] + tone


def _all_third(finals: list[str]) -> bool:
    return all(f[-1] == "3" for f in finals)


def _split_word(word: str) -> list[str]:
    """Two parts of a word: its shortest search-mode sub-word and the rest (in order)."""
    import jieba

    parts = sorted(jieba.cut_for_search(word), key=len)
    first = parts[0]
    if word.find(first) == 0:
        return [first, word[len(first):]]
    return [word[: -len(first)], first]


# ---- merges before sandhi -------------------------------------------------------------

def _merge_bu(seg: Seg) -> Seg:
    out: Seg = []
    last = ""
    for word, pos in seg:
        if last == "不":
            word = last + word
        if word != "不":
            out.append([word, pos])
        last = word
    if last == "不":
        out.append([last, "d"])
    return out


def _merge_yi(seg: Seg) -> Seg:
    out: Seg = []
    for i, (word, pos) in enumerate(seg):
        # 听 一 听 -> 听一听
        if (0 < i < len(seg) - 1 and word == "一" and seg[i - 1][0] == seg[i + 1][0]
                and seg[i - 1][1] == "v" and seg[i + 1][1] == "v"):
            out[i - 1][0] = out[i - 1][0] + "一" + out[i - 1][0]
        elif i >= 2 and seg[i - 1][0] == "一" and seg[i - 2][0] == word and pos == "v" \
                and seg[i - 2][1] == "v":
            continue
        else:
            out.append([word, pos])
    merged: Seg = []
    for word, pos in out:  # a lone 一 joins the next word
        if merged and merged[-1][0] == "一":
            merged[-1][0] += word
        else:
            merged.append([word, pos])
    return merged


def _merge_reduplication(seg: Seg) -> Seg:
    out: Seg = []
    for word, pos in seg:
        if out and word == out[-1][0]:
            out[-1][0] += word
        else:
            out.append([word, pos])
    return out


def _is_reduplication(word: str) -> bool:
    return len(word) == 2 and word[0] == word[1]


def _merge_third_tones(seg: Seg, whole_words: bool) -> Seg:
    """Join neighbours that are both all third tone (``whole_words``) or that meet on two
    third tones, when the result stays within three characters."""
    finals = [_finals(w) for w, _ in seg]
    out: Seg = []
    merged_last = [False] * len(seg)
    for i, (word, pos) in enumerate(seg):
        if i > 0 and not merged_last[i - 1] and (
                (_all_third(finals[i - 1]) and _all_third(finals[i])) if whole_words
                else (finals[i - 1][-1][-1] == "3" and finals[i][0][-1] == "3")):
            if not _is_reduplication(seg[i - 1][0]) and len(seg[i - 1][0]) + len(word) <= 3:
                out[-1][0] += word
                merged_last[i] = True
                continue
        out.append([word, pos])
    return out


def _merge_er(seg: Seg) -> Seg:
    out: Seg = []
    for i, (word, pos) in enumerate(seg):
        if i > 0 and word == "儿" and seg[i - 1][0] != "#":
            out[-1][0] += word
        else:
            out.append([word, pos])
    return out


def pre_merge(seg: list[tuple[str, str]]) -> Seg:
    s = _merge_bu([[w, p] for w, p in seg])
    for step in (_merge_yi, _merge_reduplication,
                 lambda x: _merge_third_tones(x, True), lambda x: _merge_third_tones(x, False)):
        try:
            s = step(s)
        except Exception:  # upstream skips a merge that fails, the same way
            pass
    return _merge_er(s)


# ---- sandhi -------------------------------------------------------------------------

def _bu(word: str, finals: list[str]) -> list[str]:
    if len(word) == 3 and word[1] == "不":  # 看不懂
        finals[1] = _retone(finals[1], "5")
        return finals
    for i, ch in enumerate(word):
        if ch == "不" and i + 1 < len(word) and finals[i + 1][-1] == "4":
            finals[i] = _retone(finals[i], "2")  # 不怕
    return finals


def _yi(word: str, finals: list[str]) -> list[str]:
    if "一" in word and all(c.isnumeric() for c in word if c != "一"):
        return finals  # inside a number: 一零零
    if len(word) == 3 and word[1] == "一" and word[0] == word[-1]:
        finals[1] = _retone(finals[1], "5")  # 看一看
    elif word.startswith("第一"):
        finals[1] = _retone(finals[1], "1")
    else:
        for i, ch in enumerate(word):
            if ch == "一" and i + 1 < len(word):
                if finals[i + 1][-1] == "4":
                    finals[i] = _retone(finals[i], "2")
                elif word[i + 1] not in _PUNCT:
                    finals[i] = _retone(finals[i], "4")
    return finals


def _neutral(word: str, pos: str, finals: list[str]) -> list[str]:
    listed, not_listed = neutral_words(), not_neutral_words()
    for j in range(1, len(word)):
        if word[j] == word[j - 1] and pos[0] in "nva" and word not in not_listed:
            finals[j] = _retone(finals[j], "5")  # 奶奶, 试试
    ge = word.find("个")
    last = word[-1] if word else ""
    if last and last in "吧呢哈啊呐噻嘛吖嗨呐哦哒额滴哩哟喽啰耶喔诶":
        finals[-1] = _retone(finals[-1], "5")
    elif last and last in "的地得":
        finals[-1] = _retone(finals[-1], "5")
    elif len(word) == 1 and word in "了着过" and pos in {"ul", "uz", "ug"}:
        finals[-1] = _retone(finals[-1], "5")
    elif len(word) > 1 and last in "们子" and pos in {"r", "n"} and word not in not_listed:
        finals[-1] = _retone(finals[-1], "5")
    elif len(word) > 1 and last in "上下里" and pos in {"s", "l", "f"}:
        finals[-1] = _retone(finals[-1], "5")
    elif len(word) > 1 and last in "来去" and word[-2] in "上下进出回过起开":
        finals[-1] = _retone(finals[-1], "5")
    elif (ge >= 1 and (word[ge - 1].isnumeric() or word[ge - 1] in "几有两半多各整每做是")) \
            or word == "个":
        finals[ge] = _retone(finals[ge], "5")
    elif word in listed or word[-2:] in listed:
        finals[-1] = _retone(finals[-1], "5")

    parts = _split_word(word)
    halves = [finals[: len(parts[0])], finals[len(parts[0]):]]
    for i, part in enumerate(parts):
        if part in listed or part[-2:] in listed:
            halves[i][-1] = _retone(halves[i][-1], "5")
    return halves[0] + halves[1]


def _third(word: str, finals: list[str]) -> list[str]:
    if len(word) == 2 and _all_third(finals):
        finals[0] = _retone(finals[0], "2")
    elif len(word) == 3:
        parts = _split_word(word)
        if _all_third(finals):
            if len(parts[0]) == 2:  # 蒙古/包
                finals[0] = _retone(finals[0], "2")
                finals[1] = _retone(finals[1], "2")
            elif len(parts[0]) == 1:  # 纸/老虎
                finals[1] = _retone(finals[1], "2")
        else:
            halves = [finals[: len(parts[0])], finals[len(parts[0]):]]
            for i, sub in enumerate(halves):
                if _all_third(sub) and len(sub) == 2:  # 所有/人
                    sub[0] = _retone(sub[0], "2")
                elif i == 1 and not _all_third(sub) and sub[0][-1] == "3" \
                        and halves[0][-1][-1] == "3":  # 好/喜欢
                    halves[0][-1] = _retone(halves[0][-1], "2")
            finals = halves[0] + halves[1]
    elif len(word) == 4:  # idioms: two words of two
        out = []
        for sub in (finals[:2], finals[2:]):
            if _all_third(sub):
                sub[0] = _retone(sub[0], "2")
            out += sub
        finals = out
    return finals


def modified_tone(word: str, pos: str, finals: list[str]) -> list[str]:
    finals = _bu(word, finals)
    finals = _yi(word, finals)
    finals = _neutral(word, pos, finals)
    return _third(word, finals)
