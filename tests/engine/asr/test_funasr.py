"""FunASR through the same step, from a local folder, with a tiny random Paraformer."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.asr.request import AsrRequest
from engine.asr.step import run_asr
from engine.dataset.listfile import read_list
from engine.events import Result
from engine.project import load_project


def test_tiny_paraformer_runs_through_funasr_offline(project, tiny_paraformer):
    layout = load_project(project).layout
    req = AsrRequest(project_root=str(project), backend="funasr", model="paraformer-zh",
                     model_dir=str(tiny_paraformer), language="zh", allow_download=False)
    events = list(run_asr(req))
    res = [e for e in events if isinstance(e, Result)][0]
    assert res.data["backend"] == "funasr" and res.data["new"] == 4
    assert res.data["failed"] == 0
    recs = [json.loads(x) for x in layout.asr_records.read_text().splitlines()]
    assert len(recs) == 4
    assert all(r["backend"] == "funasr" and r["language"] == "zh" for r in recs)
    entries = read_list(layout.list_file)
    assert entries and all(e.lang == "ZH" and e.text for e in entries)
    assert all(Path(e.wav).exists() for e in entries)
    # cached on a re-run: FunASR is not even loaded
    again = [e for e in run_asr(req) if isinstance(e, Result)][0]
    assert again.data["cached"] == 4 and again.data["new"] == 0


def test_funasr_is_told_not_to_call_a_package_index(tiny_paraformer):
    """AutoModel's update check goes to pypi.org unless disable_update is passed."""
    from engine.asr.funasr_backend import FunAsrBackend

    backend = FunAsrBackend(tiny_paraformer, model_id="paraformer-zh", language="zh")
    assert backend.model.kwargs.get("disable_update") is True


def test_paraformer_with_vad_and_punctuation_resolved_from_the_models_dir(project):
    """No model_dir: the step resolves paraformer-zh and its fsmn-vad / ct-punc companions
    from <models_dir>/funasr-*, as after a download or a manual copy."""
    import shutil

    from engine.appconfig import models_dir
    from tests.engine.asr.tiny_models import (build_tiny_ct_punc, build_tiny_fsmn_vad,
                                              build_tiny_paraformer)

    root = models_dir()
    build_tiny_paraformer(root / "funasr-paraformer-zh")
    build_tiny_fsmn_vad(root / "funasr-fsmn-vad")
    build_tiny_ct_punc(root / "funasr-ct-punc")
    req = AsrRequest(project_root=str(project), language="zh", allow_download=False)
    res = [e for e in run_asr(req) if isinstance(e, Result)][0]
    assert res.data["backend"] == "funasr" and res.data["model"] == "paraformer-zh"
    layout = load_project(project).layout
    texts = [e.text for e in read_list(layout.list_file)]
    assert texts and any(c in "".join(texts) for c in "，。？、")  # the punctuation model ran
    shutil.rmtree(root)  # a missing companion is named, not a crash
    build_tiny_paraformer(root / "funasr-paraformer-zh")

    from engine.events import StepError

    layout.asr_records.unlink()  # forget the cache
    with pytest.raises(StepError) as exc:
        list(run_asr(req))
    assert "fsmn-vad" in exc.value.reason or "funasr-fsmn-vad" in exc.value.hint


def test_sensevoice_tags_become_a_language_and_clean_text(project, tmp_path):
    from tests.engine.asr.tiny_models import build_tiny_sensevoice

    model = build_tiny_sensevoice(tmp_path / "sv")
    # backend auto + a folder: config.yaml + model.pt say FunASR
    req = AsrRequest(project_root=str(project), model="sensevoice", model_dir=str(model),
                     language="auto", allow_download=False)
    events = list(run_asr(req))
    res = [e for e in events if isinstance(e, Result)]
    layout = load_project(project).layout
    recs = [json.loads(x) for x in layout.asr_records.read_text().splitlines()]
    assert len(recs) == 4 and all(r["error"] is None for r in recs)
    assert all(r["language"] in ("zh", "en", "ja", "ko", "yue") for r in recs)
    assert all("<|" not in r["text"] for r in recs)  # rich tags stripped
    assert res and all(e.text for e in read_list(layout.list_file))


@pytest.mark.slow
def test_auto_mode_sends_clips_heard_as_chinese_to_funasr(project, tiny_whisper):
    """backend auto + language auto: Whisper (the CPU recommendation, found in the models
    dir) transcribes; a clip it heard as Chinese is transcribed again by Paraformer, as
    upstream's fasterwhisper_asr.py does. espeak-ng's Mandarin is not recognised as Chinese
    by any model we can run offline, so the detection is staged in records.jsonl, exactly
    as a run that heard Chinese leaves it; the re-run serves it from the cache and refines."""
    import shutil

    from engine.appconfig import models_dir
    from engine.asr.models import recommend
    from tests.engine.asr.tiny_models import (build_tiny_ct_punc, build_tiny_fsmn_vad,
                                              build_tiny_paraformer)

    root = models_dir()
    assert recommend("auto", "cpu").model == "small"
    shutil.copytree(tiny_whisper, root / "faster-whisper-small")
    layout = load_project(project).layout
    req = AsrRequest(project_root=str(project), backend="auto", language="auto", beam_size=1,
                     allow_download=False)
    first = [e for e in run_asr(req) if isinstance(e, Result)][0]
    assert first.data["backend"] == "faster-whisper" and first.data["refined_by_funasr"] == 0

    lines = layout.asr_records.read_text().splitlines()
    rec = json.loads(lines[0])
    rec["language"] = "zh"
    lines[0] = json.dumps(rec, ensure_ascii=False)
    others = [json.loads(x) for x in lines[1:]]
    for o in others:  # the random model may itself have "heard" Chinese: make it not
        if o["language"] in ("zh", "yue"):
            o["language"] = "en"
    layout.asr_records.write_text("\n".join([lines[0]] + [json.dumps(o) for o in others]) + "\n")

    # without FunASR models: Whisper's text is kept, with a warning naming what to fetch
    events = list(run_asr(req))
    res = [e for e in events if isinstance(e, Result)][0]
    assert res.data["cached"] == 4 and res.data["refined_by_funasr"] == 0
    assert any("Kept Whisper's text" in getattr(e, "line", "") for e in events)

    build_tiny_paraformer(root / "funasr-paraformer-zh")
    build_tiny_fsmn_vad(root / "funasr-fsmn-vad")
    build_tiny_ct_punc(root / "funasr-ct-punc")
    res = [e for e in run_asr(req) if isinstance(e, Result)][0]
    assert res.data["cached"] == 4 and res.data["new"] == 0
    assert res.data["refined_by_funasr"] == 1
    recs = [json.loads(x) for x in layout.asr_records.read_text().splitlines()]
    assert recs[0]["backend"] == "funasr" and recs[0]["model"] == "paraformer-zh"
    assert all(r["backend"] == "faster-whisper" for r in recs[1:])
    zh = [e for e in read_list(layout.list_file) if e.lang == "ZH"]
    assert len(zh) <= 1 and all(Path(e.wav).name == Path(recs[0]["clip"]).name for e in zh)
    # refined records are final: the next run refines nothing
    again = [e for e in run_asr(req) if isinstance(e, Result)][0]
    assert again.data["refined_by_funasr"] == 0
