"""Chinese text normalisation with upstream's exact output: sentence split, traditional ->
simplified, full -> half width, then dates, times, ranges, temperatures, units, arithmetic,
fractions, percentages, phone numbers and numbers read out in characters, in upstream's
order (the order matters: ``10年`` is a year read digit by digit, ``3-5`` a subtraction).

Rules are PaddleSpeech's ``zh_normalization`` as GPT-SoVITS ships it; this is our own code
written from its behaviour, checked against upstream's output in the tests.
"""
from __future__ import annotations

import re

from engine.text.zh_numbers import cardinal, digits, number

_QUANTIFIERS = (
    "(处|台|架|枚|趟|幅|平|方|堵|间|床|株|批|项|例|列|篇|栋|注|亩|封|艘|把|目|套|段|人|所|朵|匹|张|座|回|场|"
    "尾|条|个|首|阙|阵|网|炮|顶|丘|棵|只|支|袭|辆|挑|担|颗|壳|窠|曲|墙|群|腔|砣|座|客|贯|扎|捆|刀|令|打|手|罗|"
    "坡|山|岭|江|溪|钟|队|单|双|对|出|口|头|脚|板|跳|枝|件|贴|针|线|管|名|位|身|堂|课|本|页|家|户|层|丝|毫|厘|"
    "分|钱|两|斤|担|铢|石|钧|锱|忽|(千|毫|微)克|毫|厘|(公)分|分|寸|尺|丈|里|寻|常|铺|程|(千|分|厘|毫|微)米|米|"
    "撮|勺|合|升|斗|石|盘|碗|碟|叠|桶|笼|盆|盒|杯|钟|斛|锅|簋|篮|盘|桶|罐|瓶|壶|卮|盏|箩|箱|煲|啖|袋|钵|年|月|"
    "日|季|刻|时|周|天|秒|分|小时|旬|纪|岁|世|更|夜|春|夏|秋|冬|代|伏|辈|丸|泡|粒|颗|幢|堆|条|根|支|道|面|片|"
    "张|颗|块|元|(亿|千万|百万|万|千|百)|(亿|千万|百万|万|千|百|美|)元|(亿|千万|百万|万|千|百|十|)吨|"
    "(亿|千万|百万|万|千|百|)块|角|毛|分)"
)
_UNITS_AFTER = "(%|°C|℃|度|摄氏度|cm2|cm²|cm3|cm³|cm|db|ds|kg|km|m2|m²|m³|m3|ml|m|mm|s)"
_NUM = r"((-?)((\d+)(\.\d+)?)|(\.(\d+)))"
_SUPERSCRIPT = "[⁰¹²³⁴⁵⁶⁷⁸⁹ˣʸⁿ]"
_OPERAND = rf"((-?)((\d+)(\.\d+)?{_SUPERSCRIPT}*)|(\.\d+{_SUPERSCRIPT}*)|([A-Za-z]{_SUPERSCRIPT}*))"

_SPLIT = re.compile(r"([：、，；。？！,;?!][”’]?)")
_DATE = re.compile(r"(\d{4}|\d{2})年((0?[1-9]|1[0-2])月)?(((0?[1-9])|((1|2)[0-9])|30|31)([日号]))?")
_DATE2 = re.compile(r"(\d{4})([- /.])(0[1-9]|1[012])\2(0[1-9]|[12][0-9]|3[01])")
_CLOCK = r"([0-1]?[0-9]|2[0-3]):([0-5][0-9])(:([0-5][0-9]))?"
_TIME_RANGE = re.compile(_CLOCK + r"(~|-)" + _CLOCK)
_TIME = re.compile(_CLOCK)
_TO_RANGE = re.compile(_NUM + _UNITS_AFTER + "[~]" + _NUM + _UNITS_AFTER)
_TEMPERATURE = re.compile(r"(-?)(\d+(\.\d+)?)(°C|℃|度|摄氏度)")
_MEASURES = {"cm2": "平方厘米", "cm²": "平方厘米", "cm3": "立方厘米", "cm³": "立方厘米", "cm": "厘米",
             "db": "分贝", "ds": "毫秒", "kg": "千克", "km": "千米", "m2": "平方米", "m²": "平方米",
             "m³": "立方米", "m3": "立方米", "ml": "毫升", "m": "米", "mm": "毫米", "s": "秒"}
_ASMD = re.compile(_OPERAND + r"([\+\-\×÷=])" + _OPERAND)
_ASMD_WORDS = {"+": "加", "-": "减", "×": "乘", "÷": "除", "=": "等于"}
_POWER = re.compile(_SUPERSCRIPT + "+")
_POWER_CHARS = dict(zip("⁰¹²³⁴⁵⁶⁷⁸⁹ˣʸⁿ", "0123456789xyn"))
_FRACTION = re.compile(r"(-?)(\d+)/(\d+)")
_PERCENT = re.compile(r"(-?)(\d+(\.\d+)?)%")
_MOBILE = re.compile(r"(?<!\d)((\+?86 ?)?1([38]\d|5[0-35-9]|7[678]|9[89])\d{8})(?!\d)")
_TELEPHONE = re.compile(r"(?<!\d)((0(10|2[1-3]|[3-9]\d{2})-?)?[1-9]\d{6,7})(?!\d)")
_HOTLINE = re.compile(r"(400)(-)?\d{3}(-)?\d{4}")
_RANGE = re.compile(r"(?<![\d\+\-\×÷=])((-?)((\d+)(\.\d+)?))[-~]((-?)((\d+)(\.\d+)?))(?![\d\+\-\×÷=])")
_NEGATIVE = re.compile(r"(-)(\d+)")
_VERSION = re.compile(r"\d+(?:\.\d+){2,}")  # 2.0.1, 192.168.1.1: three or more parts
_DECIMAL = re.compile(r"(-?)((\d+)(\.\d+))|(\.(\d+))")
_COUNTED = re.compile(r"(\d+)([多余几\+])?" + _QUANTIFIERS)
_CODE = re.compile(r"\d{3}\d*")  # 3+ bare digits: a code or id, read digit by digit
_NUMBER = re.compile(r"(-?)((\d+)(\.\d+)?)|(\.(\d+))")

_CIRCLED = dict(zip("①②③④⑤⑥⑦⑧⑨⑩", "一二三四五六七八九十"))
_GREEK = {"α": "阿尔法", "β": "贝塔", "γ": "伽玛", "Γ": "伽玛", "δ": "德尔塔", "Δ": "德尔塔",
          "ε": "艾普西龙", "ζ": "捷塔", "η": "依塔", "θ": "西塔", "Θ": "西塔", "ι": "艾欧塔",
          "κ": "喀帕", "λ": "拉姆达", "Λ": "拉姆达", "μ": "缪", "ν": "拗", "ξ": "克西", "Ξ": "克西",
          "ο": "欧米克伦", "π": "派", "Π": "派", "ρ": "肉", "ς": "西格玛", "Σ": "西格玛",
          "σ": "西格玛", "τ": "套", "υ": "宇普西龙", "φ": "服艾", "Φ": "服艾", "χ": "器",
          "ψ": "普赛", "Ψ": "普赛", "ω": "欧米伽", "Ω": "欧米伽"}
_OPERATORS = {"+": "加", "-": "减", "×": "乘", "÷": "除", "=": "等"}
# Full-width ASCII (letters, digits, punctuation) and the ideographic space -> half width.
_HALF_WIDTH = {**{c: chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F)
                  if chr(c - 0xFEE0).isalnum()}, 0x3000: " "}


def _signed(sign: str, text: str, word: str = "负") -> str:
    return (word if sign else "") + text


def _clock(h: str, m: str, s: str | None, minute_for_half: str) -> str:
    def pad(v: str) -> str:  # "05" -> 零五
        return ("零" if v.startswith("0") else "") + number(v.lstrip("0"))

    out = number(h) + "点"
    if m.lstrip("0"):
        # Upstream tests the *first* clock's minutes for 半 in a range too; kept as is.
        out += "半" if int(minute_for_half) == 30 else pad(m) + "分"
    if s and s.lstrip("0"):
        out += pad(s) + "秒"
    return out


def _time(m: re.Match) -> str:
    g = m.groups()
    out = _clock(g[0], g[1], g[3], g[1])
    if len(g) > 5:
        out += "至" + _clock(g[5], g[6], g[8], g[1])
    return out


def _date(m: re.Match) -> str:
    out = digits(m.group(1)) + "年"
    if m.group(3):
        out += cardinal(m.group(3)) + "月"
    if m.group(5):
        out += cardinal(m.group(5)) + m.group(9)
    return out


def _date2(m: re.Match) -> str:
    return f"{digits(m.group(1))}年{cardinal(m.group(3))}月{cardinal(m.group(4))}日"


def _number(m: re.Match) -> str:
    if m.group(5):
        return number(m.group(5))
    return _signed(m.group(1), number(m.group(2)))


def _range(m: re.Match) -> str:
    return f"{_NUMBER.sub(_number, m.group(1))}到{_NUMBER.sub(_number, m.group(6))}"


def _counted(m: re.Match) -> str:
    more = "多" if m.group(2) == "+" else (m.group(2) or "")
    # A bare 2 before a measure word is 两 (两个); upstream does this even after 第 (第两名).
    count = number(m.group(1))
    count = "两" if count == "二" else count
    return count + more + m.group(3)


def _phone(m: re.Match, mobile: bool) -> str:
    text = m.group(0)
    parts = text.strip("+").split() if mobile else text.split("-")
    return "，".join(digits(p, alt_one=True) for p in parts)


def _post(sentence: str) -> str:
    sentence = sentence.replace("/", "每")
    for table in (_CIRCLED, _GREEK, _OPERATORS):
        for k, v in table.items():
            sentence = sentence.replace(k, v)
    return re.sub(r"[-——《》【】<=>{}()（）#&@“”^_|\\]", "", sentence)


def normalize_sentence(s: str) -> str:
    from zhconv import convert

    s = convert(s, "zh-hans").translate(_HALF_WIDTH)
    s = _DATE.sub(_date, s)
    s = _DATE2.sub(_date2, s)
    s = _TIME_RANGE.sub(_time, s)
    s = _TIME.sub(_time, s)
    s = _TO_RANGE.sub(lambda m: m.group(0).replace("~", "至"), s)
    s = _TEMPERATURE.sub(lambda m: _signed(m.group(1), number(m.group(2)), "零下")
                         + ("摄氏度" if m.group(4) == "摄氏度" else "度"), s)
    for k, v in _MEASURES.items():
        s = s.replace(k, v)
    while _ASMD.search(s):
        s = _ASMD.sub(lambda m: m.group(1) + _ASMD_WORDS[m.group(8)] + m.group(9), s)
    s = _POWER.sub(lambda m: "的" + "".join(_POWER_CHARS[c] for c in m.group(0)) + "次方", s)
    s = _FRACTION.sub(lambda m: _signed(m.group(1), f"{number(m.group(3))}分之{number(m.group(2))}"), s)
    s = _PERCENT.sub(lambda m: _signed(m.group(1), "百分之" + number(m.group(2))), s)
    s = _MOBILE.sub(lambda m: _phone(m, True), s)
    s = _TELEPHONE.sub(lambda m: _phone(m, False), s)
    s = _HOTLINE.sub(lambda m: _phone(m, False), s)
    s = _RANGE.sub(_range, s)
    s = _NEGATIVE.sub(lambda m: _signed(m.group(1), number(m.group(2))), s)
    # Before decimals, which would read 2.0 as 二 and drop a 点 (v2.0.1 is 二点零点一).
    s = _VERSION.sub(lambda m: "点".join(digits(p) for p in m.group(0).split(".")), s)
    s = _DECIMAL.sub(_number, s)
    s = _COUNTED.sub(_counted, s)
    s = _CODE.sub(lambda m: digits(m.group(0), alt_one=True), s)
    s = _NUMBER.sub(_number, s)
    return _post(s)


def split_sentences(text: str) -> list[str]:
    text = text.replace(" ", "")
    text = re.sub(r"[——《》【】<>{}()（）#&@“”^_|\\]", "", text)
    text = _SPLIT.sub(r"\1\n", text).strip()
    return [s.strip() for s in re.split(r"\n+", text)]


def normalize(text: str) -> list[str]:
    return [normalize_sentence(s) for s in split_sentences(text)]
