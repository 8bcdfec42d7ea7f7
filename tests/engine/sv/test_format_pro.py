"""The format step on a tiny v2Pro project: upstream's 1A files plus 7-sv_cn/<clip>.pt for
every clip with audio, and a second run that touches nothing."""
from __future__ import annotations

import lzma
from pathlib import Path

import pytest
import torch

from engine.dataset.format import FormatRequest, run_format
from engine.events import Log, Result
from engine.layout import Layout
from tests.engine.format.conftest import bert_dir, hubert_dir  # noqa: F401 -- fixtures
from tests.engine.sv.conftest import V2PRO
from tests.engine.sv.exp_helpers import pt_layout
from tests.helpers.speech import speak

# Chinese only: its G2P loads in a fraction of English's first-call time.
LINES = [("a.wav", "ZH", "你好世界。"), ("b.wav", "ZH", "我们去公园吧。"),
         ("quiet.wav", "ZH", "今天天气很不错。")]


@pytest.fixture(scope="module")
def sovits_v2pro(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("sovits") / "sovits_v2pro_small.pth"
    out.write_bytes(lzma.decompress((V2PRO / "sovits_v2pro_small.pth.xz").read_bytes()))
    return out


def _project(root: Path) -> Path:
    import numpy as np
    import soundfile as sf

    from engine.project import create_project

    p = create_project(root, "Voice", language="en")
    slices = root / "audio" / "slices"
    speak("Good morning.", slices / "a.wav")
    speak("Hello there.", slices / "b.wav")
    sf.write(str(slices / "quiet.wav"), np.zeros(16000, np.int16), 32000)  # silent: skipped
    p.layout.list_file.parent.mkdir(parents=True, exist_ok=True)
    p.layout.list_file.write_text("".join(f"audio/slices/{n}|voice|{lang}|{t}\n"
                                          for n, lang, t in LINES), encoding="utf-8")
    return root


def _request(root, bert_dir, hubert_dir, sovits, sv_ckpt, version="v2Pro"):
    return FormatRequest(project_root=str(root), version=version, bert_dir=str(bert_dir),
                         hubert_dir=str(hubert_dir), sovits_path=str(sovits),
                         sv_path=str(sv_ckpt), device="cpu", allow_download=False)


def test_pro_format_writes_7_sv_cn_and_a_rerun_does_nothing(
        tmp_path, bert_dir, hubert_dir, sovits_v2pro, sv_ckpt):  # noqa: F811
    root = _project(tmp_path / "proj")
    exp = Layout(root, "voice").exp_dir
    events = list(run_format(_request(root, bert_dir, hubert_dir, sovits_v2pro, sv_ckpt)))
    result = events[-1]
    assert isinstance(result, Result), result
    assert result.data["version"] == "v2Pro" and result.data["sv"] == 2
    folder = exp / "7-sv_cn"
    assert sorted(p.name for p in folder.iterdir()) == ["a.wav.pt", "b.wav.pt"]
    upstream = pt_layout((V2PRO / "sv_format" / "clip_a.wav.pt").read_bytes())
    for name in ("a.wav", "b.wav"):  # upstream's file, as in test_format_sv
        t = torch.load(folder / f"{name}.pt", weights_only=True)
        assert t.shape == (1, 20480) and t.dtype == torch.float32 and not t.requires_grad
        assert t.is_contiguous() and t.untyped_storage().nbytes() == 81920
        assert pt_layout((folder / f"{name}.pt").read_bytes()) == upstream
    # Training keeps the clips present everywhere (spec §5): the same two in each list.
    rows = (exp / "2-name2text.txt").read_text(encoding="utf-8").splitlines()
    assert {r.split("\t")[0] for r in rows} >= {"a.wav", "b.wav"}
    assert sorted(p.name for p in (exp / "5-wav32k").iterdir()) == ["a.wav", "b.wav"]

    snapshot = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in exp.rglob("*")
                if p.is_file()}
    again = list(run_format(_request(root, bert_dir, hubert_dir, sovits_v2pro, sv_ckpt)))
    assert isinstance(again[-1], Result) and again[-1].data["processed"] == 0
    assert again[-1].data["sv"] == 2
    assert not any(isinstance(e, Log) and "Speaker embeddings" in e.line for e in again)
    changed = [p.name for p, (data, mtime) in snapshot.items()
               if (p.read_bytes(), p.stat().st_mtime_ns) != (data, mtime)]
    # Only what the step rewrites on every run (same bytes, new mtime).
    assert set(changed) <= {"2-name2text.txt", "6-name2semantic.tsv", "gsv-format.jsonl"}
    assert not [p for p, (data, _) in snapshot.items() if p.read_bytes() != data]


def test_a_v2_project_gets_no_speaker_files(tmp_path, bert_dir, hubert_dir,  # noqa: F811
                                            sv_ckpt):
    root = _project(tmp_path / "proj")
    small_v2 = tmp_path / "sovits_v2_small.pth"
    from tests.helpers.fixtures import UPSTREAM_V2

    small_v2.write_bytes(lzma.decompress((UPSTREAM_V2 / "sovits_v2_small.pth.xz").read_bytes()))
    events = list(run_format(_request(root, bert_dir, hubert_dir, small_v2, sv_ckpt, "v2")))
    assert isinstance(events[-1], Result) and "sv" not in events[-1].data
    assert not (Layout(root, "voice").exp_dir / "7-sv_cn").exists()
