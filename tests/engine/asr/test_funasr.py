"""FunASR through the same step, from a local folder, with a tiny random Paraformer."""
from __future__ import annotations

import json
from pathlib import Path

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
