"""1Ab's speaker pass (engine.dataset.format.sv) against what upstream's 2-get-sv.py wrote
for the same 5-wav32k clip, and its skip rules: a re-run does nothing, changed audio or
another model redoes exactly the clips concerned."""
from __future__ import annotations

import os

import numpy as np
import torch

from engine.dataset.format import sv
from engine.events import Log, Progress
from tests.engine.sv.conftest import V2PRO, close, load_npz
from tests.engine.sv.exp_helpers import make_exp, pt_layout, tone


def _run(exp, records, ckpt, **kw):
    gen = sv.run_sv(exp, records, model_path=ckpt, sv_path=str(ckpt), device="cpu",
                    half=False, step="format", **kw)
    events = []
    try:
        while True:
            events.append(next(gen))
    except StopIteration as stop:
        return stop.value, events


def _loaded(events) -> bool:
    return any(isinstance(e, Log) and "Speaker embeddings" in e.line for e in events)


def test_the_file_is_what_upstreams_2_get_sv_writes(tmp_path, sv_ckpt):
    f = load_npz("sv_format_2_get_sv.npz")
    exp, records = make_exp(tmp_path / "logs" / "voice", {"clip_a.wav": f["wav32k_int16"][0]})
    out, events = _run(exp, records, sv_ckpt)
    assert (out.done, out.kept, out.finished) == (1, 0, True)
    assert [e.message for e in events if isinstance(e, Progress)] == ["speaker clip_a.wav"]

    ours_path = exp.root / "7-sv_cn" / "clip_a.wav.pt"
    theirs_path = V2PRO / "sv_format" / "clip_a.wav.pt"
    ours = torch.load(ours_path, weights_only=True)
    theirs = torch.load(theirs_path, weights_only=True)
    for t in (ours, theirs):  # upstream's observed facts (README: format_facts_2_get_sv)
        assert type(t) is torch.Tensor and t.shape == (1, 20480)
        assert t.dtype == torch.float32 and t.device.type == "cpu"
        assert t.is_contiguous() and not t.requires_grad
        assert t.untyped_storage().nbytes() == 81920
    close(ours.numpy(), theirs.numpy())
    assert pt_layout(ours_path.read_bytes()) == pt_layout(theirs_path.read_bytes())
    assert abs(ours_path.stat().st_size - theirs_path.stat().st_size) < 200  # folder name only
    assert not list((exp.root / "7-sv_cn").glob(".*"))  # no temp file left


def test_a_rerun_does_nothing_and_changes_redo_only_their_clips(tmp_path, sv_ckpt):
    clips = {"a.wav": tone(0.4, 140, 1), "b.wav": tone(0.4, 210, 2), "c.wav": tone(0.4, 180, 3)}
    exp, records = make_exp(tmp_path / "exp", clips)
    assert _run(exp, records, sv_ckpt)[0].done == 3
    folder = exp.root / "7-sv_cn"
    before = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in folder.iterdir()}
    journal = exp.root / "gsv-sv.jsonl"
    journal_before = (journal.read_bytes(), journal.stat().st_mtime_ns)

    out, events = _run(exp, records, sv_ckpt)
    assert (out.done, out.kept) == (0, 3)
    assert not _loaded(events)  # the 215 MB model is not even read
    assert {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in folder.iterdir()} == before
    assert (journal.read_bytes(), journal.stat().st_mtime_ns) == journal_before

    # b's audio changed (its key), c's embedding file was deleted: those two only.
    records[1].audio_key = "a2:b.wav"
    (folder / "c.wav.pt").unlink()
    out, events = _run(exp, records, sv_ckpt)
    assert (out.done, out.kept) == (2, 1)
    assert [e.message for e in events if isinstance(e, Progress)] == ["speaker b.wav",
                                                                     "speaker c.wav"]
    assert (folder / "a.wav.pt").stat().st_mtime_ns == before["a.wav.pt"][1]


def test_another_model_file_redoes_every_clip(tmp_path, sv_ckpt):
    exp, records = make_exp(tmp_path / "exp", {"a.wav": tone(0.3, 150, 4)})
    assert _run(exp, records, sv_ckpt)[0].done == 1
    other = tmp_path / "other.ckpt"
    os.link(sv_ckpt, other)  # the same weights under another name count as another model
    gen = sv.run_sv(exp, records, model_path=other, sv_path=str(other), device="cpu",
                    half=False, step="format")
    assert sum(isinstance(e, Progress) for e in gen) == 1


def test_clips_without_audio_get_no_embedding_and_a_bad_wav_is_named(tmp_path, sv_ckpt):
    exp, records = make_exp(tmp_path / "exp", {"ok.wav": tone(0.3, 150, 5),
                                               "short.wav": tone(0.01, 150, 6)})
    records.append(type(records[0])("loud.wav", audio_key="x", audio_skip="peak 3.0 > 2.2"))
    out, events = _run(exp, records, sv_ckpt)
    assert (out.done, out.finished) == (1, True)
    warn = [e.line for e in events if isinstance(e, Log) and e.level == "warning"]
    assert len(warn) == 1 and warn[0].startswith("short.wav: no speaker embedding (")
    assert "shorter than one 25 ms frame" in warn[0]
    assert sorted(p.name for p in (exp.root / "7-sv_cn").iterdir()) == ["ok.wav.pt"]


def test_stop_between_clips_resumes(tmp_path, sv_ckpt):
    from engine.events import StopToken

    clips = {f"{i}.wav": tone(0.3, 120 + 20 * i, i) for i in range(3)}
    exp, records = make_exp(tmp_path / "exp", clips)
    stop = StopToken()
    gen = sv.run_sv(exp, records, model_path=sv_ckpt, sv_path=str(sv_ckpt), device="cpu",
                    half=False, step="format", stop=stop)
    for ev in gen:
        if isinstance(ev, Progress):
            stop.request()
    out, _ = _run(exp, records, sv_ckpt)
    assert (out.done, out.kept) == (2, 1)
    embs = [torch.load(exp.root / "7-sv_cn" / f"{n}.pt", weights_only=True) for n in clips]
    assert all(e.shape == (1, 20480) and torch.isfinite(e).all() for e in embs)
    assert not np.allclose(embs[0].numpy(), embs[1].numpy())
