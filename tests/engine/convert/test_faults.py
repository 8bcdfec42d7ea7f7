"""The voice changer on a full disk (a tmpfs the test mounts on output/converted): a
sentence naming the folder, never half a result or a result without its note, earlier
results byte-identical, and the same run finishes once there is room."""
from __future__ import annotations

from engine.project import load_project
from gsv_tui.cli import main
from tests.helpers.speech import speak
from tests.helpers.tmpfs import tmpfs_factory  # noqa: F401 -- fixture

TEXT = "A full disk must never cost a result."
PAGE = 4096


def _run(voice, src) -> int:
    return main(["convert", str(src), "-C", str(voice), "--text", TEXT, "--lang", "en",
                 "--device", "cpu", "--offline"])


def test_a_full_disk_is_a_sentence_and_keeps_earlier_results(voice, tmp_path, capsys,
                                                             tmpfs_factory):
    src = speak(TEXT, tmp_path / "src.wav")
    folder = voice / "output" / "converted"
    fs = tmpfs_factory(folder, 4 << 20)
    assert _run(voice, src) == 0
    earlier = {p.name: p.read_bytes() for p in folder.iterdir()}
    assert sorted(earlier) == ["src.json", "src.wav"]
    capsys.readouterr()

    # Room for less than the next result: nothing of it may stay.
    fs.resize(fs.used() + 16 * PAGE)
    assert _run(voice, src) == 1
    err = capsys.readouterr().err
    assert f"disk full at {folder}: free" in err and "what to do:" in err
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == earlier
    assert load_project(voice).step("convert").status == "failed"

    # Room for the result but not its note (the .json naming the source): the result is
    # taken back too, so no result is left whose source nobody knows.
    wav_pages = -(-len(earlier["src.wav"]) // PAGE)
    fs.resize(fs.used() + wav_pages * PAGE)
    assert _run(voice, src) == 1
    assert "disk full at" in capsys.readouterr().err
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == earlier

    fs.resize(fs.used() + (4 << 20))  # freed: the same run now finishes, beside the first
    assert _run(voice, src) == 0
    assert sorted(p.name for p in folder.iterdir()) == ["src-2.json", "src-2.wav", "src.json",
                                                        "src.wav"]
    assert (folder / "src.wav").read_bytes() == earlier["src.wav"]
