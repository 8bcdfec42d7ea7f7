"""`gsv asr` runs the step headless (progress on stderr) and takes the project's language."""
from __future__ import annotations

import json

from engine.dataset.listfile import read_list
from engine.project import load_project
from gsv_tui.cli import main


def test_gsv_asr_inline_writes_the_list(project, tiny_whisper, capsys):
    code = main(["asr", "-C", str(project), "--model-dir", str(tiny_whisper), "--backend",
                 "faster-whisper", "--beam-size", "1", "--offline"])
    err = capsys.readouterr().err
    assert code == 0, err
    assert "clips listed" in err and "[asr]" in err
    layout = load_project(project).layout
    recs = [json.loads(x) for x in layout.asr_records.read_text().splitlines()]
    assert len(recs) == 4
    assert all(r["language"] == "en" for r in recs)  # the project's language, not detected
    assert all(e.lang == "EN" for e in read_list(layout.list_file))


def test_gsv_asr_offline_without_model_says_what_to_do(project, capsys):
    code = main(["asr", "-C", str(project), "--model", "small", "--offline"])
    err = capsys.readouterr().err
    assert code == 1
    assert "model.bin" in err and "faster-whisper-small" in err


def test_gsv_asr_list_models(project, capsys):
    assert main(["asr", "-C", str(project), "--list-models"]) == 0
    out = capsys.readouterr().out
    assert "Systran/faster-whisper-large-v3" in out and "recommended for en" in out
