"""G2PW polyphone disambiguation, checked with a tiny stand-in model (no hub access).

The stand-in has G2PW's input and output names and shapes; its scores depend only on the
queried character (a constant row per char id), so the winning reading is known. Each row
also gives a huge score to a class the char is not allowed, so only masking by the char's
own classes picks the right one. The data files use the G2PWModel_1.1 formats with a few
traditional-character entries, as the real tables have."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from engine.appconfig import models_dir
from engine.text import clean_text
from engine.text import chinese, g2pw
from engine.text.g2pw.data import NOT_POLYPHONIC, load_data

POLYPHONIC = [  # char, label; the first label of each char is the one the model prefers
    ("行", "ㄏㄤ2"), ("行", "ㄒㄧㄥ2"),
    ("長", "ㄓㄤ3"), ("長", "ㄔㄤ2"),
    ("了", "ㄌㄧㄠ3"), ("了", "ㄌㄜ5"),
    ("重", "ㄔㄨㄥ2"), ("重", "ㄓㄨㄥ4"),
    ("率", "ㄌㄩ4"), ("率", "ㄕㄨㄞ4"),
    ("一", "ㄧ4"), ("一", "ㄧ1"),  # in upstream's exception list: never sent to the model
]
MONOPHONIC = [("你", "ㄋㄧ4"), ("們", "ㄇㄣ2")]  # 你 ni4 on purpose: pypinyin says ni3
BOPOMOFO = {"ㄏㄤ": "hang", "ㄒㄧㄥ": "xing", "ㄓㄤ": "zhang", "ㄔㄤ": "chang",
            "ㄌㄧㄠ": "liao", "ㄌㄜ": "le", "ㄔㄨㄥ": "chong", "ㄓㄨㄥ": "zhong",
            "ㄌㄩ": "lü", "ㄕㄨㄞ": "shuai", "ㄧ": "yi", "ㄋㄧ": "ni", "ㄇㄣ": "men"}
SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
VOCAB_CHARS = "行長了重率一你們他我領人走很的路新出發今天"


def _labels():
    return sorted({p for _, p in POLYPHONIC})


def _chars():
    return sorted({c for c, _ in POLYPHONIC})


def write_tokenizer(folder: Path) -> Path:
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers

    vocab = {t: i for i, t in enumerate(SPECIALS + list(VOCAB_CHARS))}
    tok = Tokenizer(models.WordPiece(vocab, unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True, handle_chinese_chars=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    folder.mkdir(parents=True, exist_ok=True)
    tok.save(str(folder / "tokenizer.json"))
    return folder / "tokenizer.json"


def write_model(path: Path, char_phoneme: bool = False) -> None:
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    labels, chars = _labels(), _chars()
    if char_phoneme:  # classes are "char label" pairs
        labels = sorted(f"{c} {p}" for c, p in POLYPHONIC)
    table = np.zeros((len(chars), len(labels)), np.float32)
    for c in chars:
        own = [f"{c} {p}" if char_phoneme else p for ch, p in POLYPHONIC if ch == c]
        table[chars.index(c), labels.index(own[0])] = 5.0
        table[chars.index(c), labels.index(own[1])] = 1.0
        other = next(i for i, p in enumerate(labels) if p not in own)
        table[chars.index(c), other] = 100.0  # not this char's: masking must skip it
    i64, f32 = TensorProto.INT64, TensorProto.FLOAT
    inputs = [helper.make_tensor_value_info("input_ids", i64, ["batch", "seq"]),
              helper.make_tensor_value_info("token_type_ids", i64, ["batch", "seq"]),
              helper.make_tensor_value_info("attention_mask", i64, ["batch", "seq"]),
              helper.make_tensor_value_info("phoneme_mask", f32, ["batch", len(labels)]),
              helper.make_tensor_value_info("char_ids", i64, ["batch"]),
              helper.make_tensor_value_info("position_ids", i64, ["batch"])]
    output = helper.make_tensor_value_info("probs", f32, ["batch", len(labels)])
    node = helper.make_node("Gather", ["table", "char_ids"], ["probs"], axis=0)
    graph = helper.make_graph([node], "tiny_g2pw", inputs, [output],
                              initializer=[numpy_helper.from_array(table, "table")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))


def write_folder(folder: Path, *, model: bool = True, char_phoneme: bool = False) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    if model:
        write_model(folder / "g2pW.onnx", char_phoneme)
    (folder / "config.py").write_text(
        "manual_seed = 1313\nmodel_source = 'bert-base-chinese'\nwindow_size = 32\n"
        f"use_mask = True\nuse_char_phoneme = {char_phoneme}\nroot = './cpp_dataset/'\n"
        "polyphonic_chars_path = root + 'POLYPHONIC_CHARS.txt'\n", encoding="utf-8")
    (folder / "POLYPHONIC_CHARS.txt").write_text(
        "\n".join(f"{c}\t{p}" for c, p in POLYPHONIC) + "\n", encoding="utf-8")
    (folder / "MONOPHONIC_CHARS.txt").write_text(
        "\n".join(f"{c}\t{p}" for c, p in MONOPHONIC) + "\n", encoding="utf-8")
    (folder / "bopomofo_to_pinyin_wo_tune_dict.json").write_text(
        json.dumps(BOPOMOFO, ensure_ascii=False), encoding="utf-8")
    (folder / "char_bopomofo_dict.json").write_text(
        json.dumps({"行": ["ㄒㄧㄥ2", "ㄏㄤ2"]}, ensure_ascii=False), encoding="utf-8")
    return folder


@pytest.fixture
def installed(gsv_home) -> Path:
    """A G2PWModel folder in the models dir; the tokenizer sits in the BERT folder, as in a
    normal install (upstream reads it from chinese-roberta-wwm-ext-large)."""
    write_tokenizer(models_dir() / "chinese-roberta-wwm-ext-large")
    return write_folder(models_dir() / "G2PWModel")


def _phones_of(cleaned, char_index: int) -> list[str]:
    start = sum(cleaned.word2ph[:char_index])
    return cleaned.phones[start:start + cleaned.word2ph[char_index]]


# -- data, inputs, prediction -----------------------------------------------------------

def test_data_files_give_upstreams_classes_and_char_ids(installed):
    data = load_data(installed)
    assert data.labels == _labels() and data.chars == _chars()
    assert data.use_mask and not data.use_char_phoneme
    assert "一" in data.chars and "一" not in data.polyphonic and "一" in NOT_POLYPHONIC
    assert data.char2labels["行"] == [data.labels.index("ㄏㄤ2"), data.labels.index("ㄒㄧㄥ2")]
    assert data.monophonic == {"你": "ㄋㄧ4", "們": "ㄇㄣ2"}


def test_inputs_have_g2pws_names_shapes_and_dtypes(installed):
    conv = g2pw.converter()
    assert conv is not None and conv._session is None  # nothing loaded before the first use
    text = "他率領一行人"
    (rows, feed), = conv.feeds(text, [1, 4])
    assert rows == [0, 1]
    tok = json.loads((models_dir() / "chinese-roberta-wwm-ext-large" / "tokenizer.json")
                     .read_text(encoding="utf-8"))["model"]["vocab"]
    ids = [tok["[CLS]"]] + [tok[c] for c in text] + [tok["[SEP]"]]
    assert feed["input_ids"].dtype == np.int64 and feed["input_ids"].tolist() == [ids, ids]
    assert feed["token_type_ids"].tolist() == [[0] * 8] * 2
    assert feed["attention_mask"].tolist() == [[1] * 8] * 2
    assert feed["char_ids"].tolist() == [_chars().index("率"), _chars().index("行")]
    assert feed["position_ids"].tolist() == [2, 5]  # [CLS] comes first
    labels = _labels()
    assert feed["phoneme_mask"].dtype == np.float32
    assert feed["phoneme_mask"].shape == (2, len(labels))
    allowed = [np.flatnonzero(row).tolist() for row in feed["phoneme_mask"]]
    assert allowed == [sorted(labels.index(p) for p in ("ㄌㄩ4", "ㄕㄨㄞ4")),
                       sorted(labels.index(p) for p in ("ㄏㄤ2", "ㄒㄧㄥ2"))]


def test_prediction_is_the_best_allowed_class_and_bopomofo_becomes_pinyin(installed):
    conv = g2pw.converter()
    assert conv.predict("他率領一行人", [1, 4]) == ["ㄌㄩ4", "ㄏㄤ2"]
    assert conv._session is not None and g2pw.converter() is conv  # one session, reused
    assert conv.bopomofo_to_pinyin("ㄌㄩ4") == "lv4"  # ü as pypinyin's TONE3 spells it
    assert conv.bopomofo_to_pinyin("ㄌㄜ5") == "le5"
    assert conv.bopomofo_to_pinyin("ㄅㄚ1") is None  # not in the table: pypinyin decides


def test_sentence_readings_per_character(installed):
    conv = g2pw.converter()
    # 长 is looked up as 長 (G2PW's tables are traditional); 你 from the monophonic table;
    # 一 is in upstream's exception list and 他/走/很/路 are G2PW-unknown: pypinyin.
    got = conv.sentence("你率领一行人走了很长的路")
    assert got == ["ni4", "lv4", "ling3", "yi1", "hang2", "ren2", "zou3", "liao3", "hen3",
                   "zhang3", "de5", "lu4"]


def test_traditional_forms_are_taiwans_one_char_for_one():
    from engine.text.g2pw.predictor import to_traditional

    assert to_traditional("长为应了软件") == "長為應了軟件"  # s2tw keeps words (no 軟體)


def test_runs_of_han_go_to_g2pw_and_punctuation_passes_through(installed):
    assert g2pw.sentence_pinyin(g2pw.converter(), "一行,长.") == ["yi1", "hang2", ",", "zhang3", "."]


def test_long_sentences_get_a_window_of_510_tokens_around_the_char():
    from engine.text.g2pw.predictor import G2PWConverter

    assert G2PWConverter._window(20, 7) == (0, 20)
    assert G2PWConverter._window(1000, 3) == (0, 510)
    assert G2PWConverter._window(1000, 600) == (345, 855)
    assert G2PWConverter._window(1000, 990) == (490, 1000)


# -- the frontend ----------------------------------------------------------------------

def test_clean_text_runs_g2pw_and_says_so(installed):
    assert chinese.zh_backend() == "g2pw"
    text = "他率领一行人，重新出发。"
    got = clean_text(text, "zh", "v2")
    assert chinese.PINYIN_BACKEND == "g2pw"
    assert got.norm_text == "他率领一行人,重新出发."
    assert _phones_of(got, 1) == ["l", "v4"]  # 率 (pypinyin: shuai4)
    assert _phones_of(got, 4) == ["h", "ang2"]  # 行 (pypinyin: xing2)
    assert _phones_of(got, 7) == ["ch", "ong2"]  # 重 (pypinyin: chong2 too)
    assert len(got.word2ph) == len(got.norm_text) and sum(got.word2ph) == len(got.phones)
    # Characters G2PW does not decide read exactly as on the pypinyin path.
    plain = chinese._sentence("他率领一行人,")[0]
    ours = chinese._sentence("他率领一行人,", conv=g2pw.converter())[0]
    for k in (0, 2, 3, 5, 6):
        assert ours[2 * k:2 * k + 2] == plain[2 * k:2 * k + 2]


def test_monophonic_table_and_traditional_lookup_reach_the_phones(installed):
    got = clean_text("你很长。", "zh", "v2")
    assert _phones_of(got, 0) == ["n", "i4"]  # the table's (made-up) ni4, not pypinyin's
    assert _phones_of(got, 2) == ["zh", "ang3"]  # 长 -> 長 -> ㄓㄤ3


def test_word_dictionary_corrects_words_then_single_chars(installed):
    (installed / "polyphonic.rep").write_text(
        "一行: ['yi4', 'xing2']\n率: ['shuai4']\n", encoding="utf-8")
    (installed / "polyphonic-fix.rep").write_text("一行: ['yi1', 'xing2']\n", encoding="utf-8")
    g2pw._converter.cache_clear()
    conv = g2pw.converter()
    assert conv.data.words["一行"] == ["yi1", "xing2"]  # the fix file wins
    assert g2pw.correct_pronunciation("一行", ["yi1", "hang2"], conv.data.words) == ["yi1", "xing2"]
    assert g2pw.correct_pronunciation("率领", ["lv4", "ling3"], conv.data.words) == ["shuai4", "ling3"]
    ini, fin = g2pw.word_initials_finals(conv, "率领", ["lv4", "ling3"])
    assert (ini, fin) == (["sh", "l"], ["uai4", "ing3"])
    g2pw._converter.cache_clear()


def test_tokenizer_in_the_g2pw_folder_is_used_first(gsv_home):
    folder = write_folder(models_dir() / "G2PWModel")
    write_tokenizer(folder)
    backend, why = g2pw.status()
    assert backend == "g2pw" and str(folder / "tokenizer.json") in why
    assert g2pw.converter().sentence("一行") == ["yi1", "hang2"]


def test_char_phoneme_classes_are_read_back_as_the_label(gsv_home):
    write_tokenizer(models_dir() / "chinese-roberta-wwm-ext-large")
    write_folder(models_dir() / "G2PWModel", char_phoneme=True)
    conv = g2pw.converter()
    assert conv.data.use_char_phoneme and conv.data.labels[0].count(" ") == 1
    assert conv.predict("他率領一行人", [1, 4]) == ["ㄌㄩ4", "ㄏㄤ2"]


# -- without the model ------------------------------------------------------------------

def test_without_the_folder_pypinyin_runs_and_says_so(gsv_home):
    assert chinese.zh_backend() == "pypinyin"
    assert "no G2PWModel folder" in g2pw.status()[1]
    got = clean_text("他率领一行人。", "zh", "v2")
    assert chinese.PINYIN_BACKEND == "pypinyin"
    assert _phones_of(got, 1) == ["sh", "uai4"] and _phones_of(got, 4) == ["x", "ing2"]


def test_incomplete_folder_or_no_tokenizer_stays_on_pypinyin(gsv_home, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf"))  # no BERT copy from a real cache
    folder = write_folder(models_dir() / "G2PWModel", model=False)
    backend, why = g2pw.status()
    assert backend == "pypinyin" and "g2pW.onnx" in why
    write_model(folder / "g2pW.onnx")
    backend, why = g2pw.status()
    assert backend == "pypinyin" and "tokenizer" in why
    assert g2pw.converter() is None


def test_v1_never_uses_g2pw(installed):
    got = clean_text("他率领一行人。", "zh", "v1")
    assert chinese.PINYIN_BACKEND == "pypinyin"
    assert _phones_of(got, 4) == ["x", "ing2"]
