"""``gsv synthesize`` / ``gsv export`` headless: exit codes, summaries, files."""
from __future__ import annotations

import soundfile as sf

from engine.project import load_project
from gsv_tui.cli import main
from tests.engine.synth.voicekit import EN_REF, SHORT


def test_gsv_synthesize_from_a_file_with_a_reroll(voice, tmp_path, capsys):
    story = tmp_path / "story.txt"
    story.write_text("One little sentence. And another one here.", encoding="utf-8")
    args = ["synthesize", "-C", str(voice), "--file", str(story), "--lang", "en",
            "--cut", "cut4", "--seed", "5", "--reroll", "1:42", "--out", "story",
            "--device", "cpu", "--offline"]
    assert main(args) == 0
    err = capsys.readouterr().err
    assert "Spoke 2 piece(s)" in err and "output/story.wav" in err
    audio, sr = sf.read(voice / "output" / "story.wav")
    assert sr == 32000 and len(audio) > sr
    assert load_project(voice).step("synthesize").status == "done"


def test_gsv_synthesize_refusals_and_listing(voice, capsys):
    assert main(["synthesize", "-C", str(voice), "--list-refs"]) == 0
    out = capsys.readouterr().out
    assert EN_REF[0] in out and SHORT[0] not in out
    assert main(["synthesize", "-C", str(voice), "--text", "Hello there.", "--lang", "en",
                 "--ref", SHORT[0], "--offline"]) == 1
    err = capsys.readouterr().err
    assert "must be 3 to 10 s" in err and "what to do:" in err


def test_gsv_export(voice, capsys):
    assert main(["export", "-C", str(voice), "--ref", EN_REF[0], "--no-zip"]) == 0
    assert "Exported the voice to output/voice-export" in capsys.readouterr().err
    assert (voice / "output" / "voice-export" / "voice.toml").is_file()
    assert not (voice / "output" / "voice-export.zip").exists()


def test_gsv_synthesize_checkpoints_grid(voice, capsys):
    assert main(["synthesize", "-C", str(voice), "--checkpoints", "--grid", "--lang", "en",
                 "--text", "Pick me by ear.", "--device", "cpu", "--offline"]) == 0
    assert "with 4 checkpoint pair(s)" in capsys.readouterr().err
    assert len(list((voice / "output" / "checkpoints").glob("*.wav"))) == 4
