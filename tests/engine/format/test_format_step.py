"""The whole 1A step, offline, on espeak-ng speech with tiny random BERT/HuBERT and the small
upstream SoVITS export: every output's format, shape and dtype; idempotence; validation."""
from __future__ import annotations

import ast

import numpy as np
import pytest
import soundfile as sf
import torch

from engine.dataset.format import FormatRequest, run_format
from engine.events import Progress, Result, StepError
from engine.layout import Layout
from engine.text import clean_text
from tests.engine.format.conftest import LINES, write_list


def _request(project, bert_dir, hubert_dir, sovits_file, **kw) -> FormatRequest:
    return FormatRequest(project_root=str(project), bert_dir=str(bert_dir),
                         hubert_dir=str(hubert_dir), sovits_path=str(sovits_file),
                         device="cpu", allow_download=False, **kw)


def _run(req):
    events = list(run_format(req))
    return events, next(e for e in events if isinstance(e, Result))


def test_writes_upstream_experiment_folder(project, bert_dir, hubert_dir, sovits_file):
    events, result = _run(_request(project, bert_dir, hubert_dir, sovits_file))
    exp = Layout(project, "voice").exp_dir
    assert sum(isinstance(e, Progress) for e in events) == len(LINES)  # one per clip
    assert result.data["semantic"] == len(LINES) and result.data["skipped"] == 0

    rows = (exp / "2-name2text.txt").read_text(encoding="utf-8").splitlines()
    assert [r.split("\t")[0] for r in rows] == [n for n, _, _ in LINES]
    phones_of = {}
    for row, (name, lang, text) in zip(rows, LINES):
        fields = row.split("\t")
        assert len(fields) == 4
        want = clean_text(text, {"ZH": "zh", "zh": "zh", "EN": "en", "JA": "ja"}[lang], "v2")
        assert fields[1] == " ".join(want.phones) and fields[3] == want.norm_text
        assert fields[2] == (repr(want.word2ph) if want.word2ph else "None")
        phones_of[name] = want.phones
    assert rows[0].split("\t")[2] == "[2, 2, 1, 2, 2, 1]"  # Python list repr, as upstream

    # BERT only for Chinese lines: (hidden, n_phones) fp32 on CPU.
    assert sorted(p.name for p in (exp / "3-bert").iterdir()) == ["a.wav.pt", "d.wav.pt"]
    for name in ("a.wav", "d.wav"):
        bert = torch.load(exp / "3-bert" / f"{name}.pt")
        assert bert.dtype == torch.float32 and bert.shape == (16, len(phones_of[name]))
    # Each character's row repeated word2ph times: 你 -> columns 0,1; 好 -> 2,3; "," -> 4.
    bert = torch.load(exp / "3-bert" / "a.wav.pt")
    assert torch.equal(bert[:, 0], bert[:, 1]) and torch.equal(bert[:, 2], bert[:, 3])
    assert not torch.equal(bert[:, 1], bert[:, 2]) and not torch.equal(bert[:, 3], bert[:, 4])

    sem = (exp / "6-name2semantic.tsv").read_text(encoding="utf-8").splitlines()
    assert sem[0] == "item_name\tsemantic_audio"
    codes = {line.split("\t")[0]: line.split("\t")[1] for line in sem[1:]}
    from engine.models.sovits.checkpoint import load_sovits

    sovits = load_sovits(sovits_file)
    for name, _, _ in LINES:
        wav, sr = sf.read(exp / "5-wav32k" / name, dtype="int16")
        info = sf.info(exp / "5-wav32k" / name)
        assert (sr, info.channels, info.subtype) == (32000, 1, "PCM_16")
        src, src_sr = sf.read(project / "audio" / "slices" / name)
        assert src_sr == 32000 and abs(len(wav) - len(src)) <= 1
        # Upstream's mix: half peak-normalised to 0.95, half original -> peak near 0.475+0.5*p.
        p = np.abs(src).max()
        assert abs(np.abs(wav).max() / 32768 - (0.475 + 0.5 * p)) < 0.01

        ssl = torch.load(exp / "4-cnhubert" / f"{name}.pt")
        assert ssl.dtype == torch.float32 and ssl.shape[:2] == (1, 768)
        assert abs(ssl.shape[2] - len(src) / 640) <= 2  # 50 frames/s
        ids = [int(x) for x in codes[name].split()]
        assert len(ids) == ssl.shape[2] // 2 and all(0 <= i < 1024 for i in ids)
        assert ids == sovits.extract_latent(ssl)[0, 0].tolist()


def test_rerun_does_only_missing_or_changed_work(project, bert_dir, hubert_dir, sovits_file):
    req = _request(project, bert_dir, hubert_dir, sovits_file)
    _run(req)
    exp = Layout(project, "voice").exp_dir
    stamps = {p: p.stat().st_mtime_ns for p in exp.rglob("*.pt")}
    before = (exp / "6-name2semantic.tsv").read_text()
    _, again = _run(req)
    assert again.data["processed"] == 0
    assert {p: p.stat().st_mtime_ns for p in exp.rglob("*.pt")} == stamps
    assert (exp / "6-name2semantic.tsv").read_text() == before

    # A proofread text change redoes that clip's text and BERT only.
    lines = list(LINES)
    lines[3] = ("d.wav", "zh", "今天天气很不错。")
    write_list(Layout(project, "voice").list_file, project, {}, lines)
    (exp / "4-cnhubert" / "b.wav.pt").unlink()  # and a lost feature file is rebuilt
    _, third = _run(req)
    assert third.data["processed"] == 2
    assert (exp / "3-bert" / "d.wav.pt").stat().st_mtime_ns != stamps[exp / "3-bert" / "d.wav.pt"]
    assert (exp / "3-bert" / "a.wav.pt").stat().st_mtime_ns == stamps[exp / "3-bert" / "a.wav.pt"]
    assert "今天天气很不错." in (exp / "2-name2text.txt").read_text(encoding="utf-8")
    assert (exp / "6-name2semantic.tsv").read_text() == before  # same audio, same codes


def test_malformed_line_names_file_and_line(project, bert_dir, hubert_dir, sovits_file):
    lay = Layout(project, "voice")
    lay.list_file.write_text("audio/slices/a.wav|voice|ZH|你好\nbroken line without bars\n",
                             encoding="utf-8")
    with pytest.raises(StepError) as err:
        list(run_format(_request(project, bert_dir, hubert_dir, sovits_file)))
    assert "voice.list line 2" in err.value.reason and "line 2" in err.value.hint
    assert not lay.exp_dir.exists()  # nothing written before validation passed


def test_missing_pretrained_folder_is_named_before_work(project, tmp_path, hubert_dir,
                                                       sovits_file):
    missing = tmp_path / "no-such-bert"
    with pytest.raises(StepError) as err:
        list(run_format(_request(project, missing, hubert_dir, sovits_file)))
    assert str(missing) in err.value.reason and "config.json" in err.value.hint
    assert not Layout(project, "voice").exp_dir.exists()


def test_missing_clip_and_duplicate_names(project, bert_dir, hubert_dir, sovits_file):
    lay = Layout(project, "voice")
    lay.list_file.write_text("audio/slices/zz.wav|voice|EN|hello\n", encoding="utf-8")
    with pytest.raises(StepError, match="missing"):
        list(run_format(_request(project, bert_dir, hubert_dir, sovits_file)))
    (project / "other").mkdir()
    (project / "other" / "a.wav").write_bytes((project / "audio/slices/a.wav").read_bytes())
    lay.list_file.write_text("audio/slices/a.wav|v|EN|hi there\nother/a.wav|v|EN|hello\n",
                             encoding="utf-8")
    with pytest.raises(StepError, match="both use a clip named a.wav"):
        list(run_format(_request(project, bert_dir, hubert_dir, sovits_file)))


def test_unsupported_language_and_loud_clip_are_skipped_with_reasons(
        project, bert_dir, hubert_dir, sovits_file):
    loud = project / "audio" / "slices" / "loud.wav"
    sf.write(loud, np.full(16000, 0.99, np.float32) * np.sign(np.sin(np.arange(16000))) ,
             32000, subtype="FLOAT")
    data, _ = sf.read(loud)
    sf.write(loud, data * 3.0, 32000, subtype="FLOAT")  # float wav: peak 2.97 > 2.2
    lay = Layout(project, "voice")
    (project / "audio" / "slices" / "e.wav").write_bytes(
        (project / "audio" / "slices" / "b.wav").read_bytes())
    with open(lay.list_file, "a", encoding="utf-8") as f:
        f.write("audio/slices/loud.wav|voice|EN|Too loud.\n")
        f.write("audio/slices/e.wav|voice|KO|안녕하세요\n")
    events, result = _run(_request(project, bert_dir, hubert_dir, sovits_file))
    logs = " ".join(getattr(e, "line", "") for e in events)
    assert "loud.wav: audio skipped (peak 2.97" in logs and "'KO' is not supported" in logs
    assert result.data["semantic"] == len(LINES) and result.data["skipped"] == 1
    sem = (lay.exp_dir / "6-name2semantic.tsv").read_text()
    assert "loud.wav" not in sem
    assert not (lay.exp_dir / "5-wav32k" / "loud.wav").exists()


def test_bert_features_are_hidden_states_minus_3_per_character(bert_dir):
    """The feature is hidden_states[-3] of the masked-LM, [CLS]/[SEP] dropped, per character
    (no [UNK]s from the tokenizer), each row repeated word2ph times."""
    from transformers import AutoModelForMaskedLM, AutoTokenizer

    from engine.dataset.format.models import BertFeatures

    feats = BertFeatures(bert_dir, "cpu", half=False)("你好,世界.", [2, 2, 1, 2, 2, 1])
    tok = AutoTokenizer.from_pretrained(str(bert_dir), local_files_only=True)
    ids = tok("你好,世界.", return_tensors="pt")
    assert tok.unk_token_id not in ids["input_ids"][0].tolist()
    model = AutoModelForMaskedLM.from_pretrained(str(bert_dir), local_files_only=True).eval()
    with torch.no_grad():
        hidden = model(**ids, output_hidden_states=True).hidden_states[-3][0, 1:-1]
    want = torch.repeat_interleave(hidden, torch.tensor([2, 2, 1, 2, 2, 1]), dim=0).T
    assert feats.shape == (16, 10) and torch.allclose(feats, want)


def test_nothing_in_a_supported_language_or_no_gpu(project, bert_dir, hubert_dir, sovits_file):
    Layout(project, "voice").list_file.write_text("audio/slices/a.wav|v|KO|안녕\n",
                                                  encoding="utf-8")
    with pytest.raises(StepError, match="supported language"):
        list(run_format(_request(project, bert_dir, hubert_dir, sovits_file)))
    if not torch.cuda.is_available():
        write_list(Layout(project, "voice").list_file, project, {}, LINES)
        req = _request(project, bert_dir, hubert_dir, sovits_file)
        req.device = "cuda"
        with pytest.raises(StepError, match="no CUDA GPU"):
            list(run_format(req))


def test_offline_without_models_names_the_folder_to_fill(project, gsv_home):
    req = FormatRequest(project_root=str(project), device="cpu", allow_download=False)
    with pytest.raises(StepError) as err:
        list(run_format(req))
    assert "chinese-roberta-wwm-ext-large" in err.value.reason
    assert str(gsv_home) in err.value.hint and "tokenizer.json" in err.value.hint
    assert not Layout(project, "voice").exp_dir.exists()
