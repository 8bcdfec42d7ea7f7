"""Settings declared once: what is stored through the engine is what every `gsv <step>` and
every pane uses, flags given on the command line win and are stored, and bad values (wrong
type, NaN, a broken project.toml line) get a sentence naming the knob."""
from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from engine.events import StepError
from engine.project import create_project, load_project, set_step_settings
from engine.requests import build_request, effective_settings
from engine.settings import validate
from gsv_tui.cli import main
from tests.helpers.speech import silence, speech_array

# (command line after `gsv`, registry id, a stored knob and a non-default value for it)
CASES = [
    (["import", "/nonexistent.wav"], "import", "normalize", True),
    (["denoise"], "denoise", "strength", 0.5),
    (["slice"], "slice", "max_clip_s", 3.0),
    (["asr"], "asr", "beam_size", 2),
    (["format"], "format", "device", "cpu"),
    (["train"], "train", "gpt_epochs", 4),
    (["synthesize", "--text", "Hello."], "synthesize", "top_k", 7),
    (["synthesize", "--checkpoints"], "listen", "seed", 99),
    (["export"], "export", "make_zip", False),
]


def _request(capsys, argv: list[str]) -> dict:
    assert main(argv + ["--print-request"]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("argv,step,knob,value", CASES, ids=[c[1] for c in CASES])
def test_stored_settings_reach_every_command_and_flags_win(tmp_path, capsys, argv, step, knob, value):
    root = create_project(tmp_path / "p", "Voice", language="en", slug="voice").root
    set_step_settings(root, step, {knob: value})
    got = _request(capsys, argv + ["-C", str(root)])
    assert got[knob] == value, f"gsv {argv[0]} ignored the stored {step}.{knob}"
    assert got["project_root"] == str(root)
    # A flag given on the command line wins over the stored value.
    other = {True: False, False: True}.get(value) if isinstance(value, bool) else None
    if isinstance(value, bool):
        flag = [f"--{knob.replace('_', '-')}" if other else f"--no-{knob.replace('_', '-')}"]
    else:
        other = {0.5: 0.7, 3.0: 4.0, 2: 3, "cpu": "cuda", 4: 5, 7: 9, 99: 98}[value]
        flag = [f"--{knob.replace('_', '-')}", str(other)]
    assert _request(capsys, argv + ["-C", str(root)] + flag)[knob] == other


def test_project_defaults_sit_under_stored_settings(tmp_path):
    p = create_project(tmp_path / "p", "Voix", language="ja", slug="voix")
    assert build_request(p, "asr").language == "ja"  # the voice's language, not "auto"
    assert build_request(p, "synthesize", inputs={"text": "x"}).ref_language == "ja"
    set_step_settings(p.root, "asr", {"language": "auto"})
    p = load_project(p.root)
    assert build_request(p, "asr").language == "auto"
    assert effective_settings(p, "asr")["language"] == "auto"


def _recording(tmp_path: Path) -> Path:
    parts = [speech_array("The quick brown fox jumps over the lazy dog near the river.", tmp_path),
             speech_array("She sells sea shells by the sea shore every summer morning.", tmp_path)]
    audio = np.concatenate([silence(0.4), parts[0] * 0.6, silence(1.0), parts[1] * 0.6,
                            silence(0.4)]).astype(np.float32)
    path = tmp_path / "rec" / "take.wav"
    path.parent.mkdir()
    sf.write(str(path), audio, 32000)
    return path


def test_a_cli_run_stores_what_it_used(tmp_path, capsys):
    root = create_project(tmp_path / "p", "Voice", language="en", slug="voice").root
    assert main(["import", str(_recording(tmp_path)), "-C", str(root), "-q"]) == 0
    assert main(["slice", "-C", str(root), "-q", "--min-length-ms", "1000",
                 "--max-clip-s", "2.5"]) == 0
    project = load_project(root)
    assert project.settings["slice"] == {"min_length_ms": 1000, "max_clip_s": 2.5}
    assert project.step("slice").status == "done"
    clips = json.loads((root / "audio/slices/manifest.json").read_text())["clips"]
    assert clips and all(c["seconds"] <= 2.5 for c in clips)
    # The next run without flags (from here or the wizard) starts from the same values.
    capsys.readouterr()
    again = _request(capsys, ["slice", "-C", str(root)])
    assert again["min_length_ms"] == 1000 and again["max_clip_s"] == 2.5


@pytest.mark.parametrize("value,why", [("loud", "not a number"), (float("nan"), "not NaN"),
                                       (True, "not a number"), (math.inf, "not NaN")])
def test_validate_names_the_knob_for_wrong_types_and_nan(value, why):
    from engine.audio.slice_step import SliceRequest

    with pytest.raises(StepError) as err:
        validate(SliceRequest(project_root="/x", threshold_db=value))
    assert err.value.reason.startswith("Silence threshold (dB) =")
    assert why.split()[-1] in err.value.reason or why in err.value.reason


def test_int_knob_refuses_a_fraction_and_float_knob_takes_a_whole_number(tmp_path):
    from engine.audio.slice_step import SliceRequest

    with pytest.raises(StepError, match="whole number"):
        validate(SliceRequest(project_root="/x", hop_ms=10.5))
    p = create_project(tmp_path / "p", "Voice", slug="voice")
    set_step_settings(p.root, "slice", {"max_clip_s": 3})  # TOML writes 3, the knob is a float
    assert build_request(load_project(p.root), "slice").max_clip_s == 3.0


def test_a_wrong_typed_stored_setting_is_a_sentence_naming_its_line(tmp_path):
    root = create_project(tmp_path / "p", "Voice", slug="voice").root
    toml = root / "project.toml"
    toml.write_text(toml.read_text() + '\n[settings.slice]\nthreshold_db = "loud"\n')
    out = subprocess.run([sys.executable, "-m", "gsv_tui.cli", "slice", "-C", str(root)],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 2
    assert "settings.slice.threshold_db" in out.stderr and "not a number" in out.stderr
    assert "Traceback" not in out.stderr + out.stdout
    # A flag for that knob repairs it (and is stored).
    assert main(["slice", "-C", str(root), "--threshold-db", "-40", "--print-request"]) == 0


def test_export_and_listen_keep_their_own_status(tmp_path, capsys):
    root = create_project(tmp_path / "p", "Voice", language="en", slug="voice").root
    assert main(["export", "-C", str(root), "-q"]) == 1  # no weights yet: a sentence
    err = capsys.readouterr().err
    assert "gsv export:" in err and "Traceback" not in err
    project = load_project(root)
    assert project.step("export").status == "failed"
    assert project.step("synthesize").status == "pending"
