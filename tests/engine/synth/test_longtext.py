"""Long texts as resumable jobs: a reading stopped half way (on request, or killed with
SIGKILL in a real child process) goes on from the first missing piece when run again,
writes only the missing pieces, and ends with the same joined file, byte for byte, as a
reading that never stopped."""
from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from engine.events import Artifact, Log, Progress, Result, StepError, StopToken
from engine.synth.longtext import chapters, paragraphs, run_read, units_of
from engine.synth.request import ReadRequest
from tests.engine.synth.voicekit import EN_REF
from tests.helpers.tmpfs import tmpfs_factory  # noqa: F401 -- fixture

REPO = Path(__file__).resolve().parents[3]
STORY = """Chapter 1

It was a cold morning. The wind blew hard.

She walked to the station. The train was late.

Chapter 2

At noon the sun came out. Everyone smiled.
"""


def test_paragraphs_and_chapters():
    assert paragraphs("a.\n\nb.\n \nc.") == ["a.", "b.", "c."]
    assert paragraphs("one line.\nanother line.") == ["one line.", "another line."]
    chs = chapters(STORY)
    assert len(chs) == 2 and chs[0].startswith("Chapter 1") and "train" in chs[0]
    assert chapters("序言。\n第一章 开始\n正文。\n第二章 结束\n完。")[1].startswith("第一章")
    units = units_of(STORY, "paragraph", "cut4", "en")
    assert [len(u.pieces) for u in units] == [1, 2, 2, 1, 2]  # "Chapter 1." is a unit too
    with pytest.raises(StepError, match="no text to read"):
        units_of("…\n\n!!", "paragraph", "cut4", "en")


def _req(root, story: Path, name: str) -> ReadRequest:
    return ReadRequest(str(root), text_file=str(story), output_name=name, language="en",
                       ref_wav=EN_REF[0], cut_method="cut4", seed=21, device="cpu",
                       allow_download=False)


def _run(req, stop=None):
    events = list(run_read(req, stop))
    assert isinstance(events[-1], Result), events[-1]
    return events


def _pieces(folder: Path) -> dict[str, tuple[int, int, bytes]]:
    return {p.name: (p.stat().st_ino, p.stat().st_mtime_ns, p.read_bytes())
            for p in sorted((folder / "pieces").iterdir())}


@pytest.fixture
def story(tmp_path) -> Path:
    path = tmp_path / "story.txt"
    path.write_text(STORY, encoding="utf-8")
    return path


def test_stopped_on_request_then_resumed_equals_an_uninterrupted_reading(voice, story):
    whole = _run(_req(voice, story, "whole"))[-1]
    assert whole.data["spoke"] == whole.data["total"] == 8
    base = voice / "output" / "long"
    assert sorted(p.name for p in (base / "whole").glob("*.wav")) == \
        ["whole-001.wav", "whole-002.wav", "whole-003.wav", "whole-004.wav", "whole-005.wav",
         "whole.wav"]

    stop = StopToken()
    events = []
    for ev in run_read(_req(voice, story, "story"), stop):
        events.append(ev)
        if isinstance(ev, Progress) and ev.done == 3:
            stop.request()  # three pieces read: stop after this one
    res = events[-1]
    assert isinstance(res, Result) and res.data["stopped"] and res.data["done"] == 3
    folder = base / "story"
    before = _pieces(folder)
    assert len(before) == 6  # three wavs, three records
    assert not (folder / "story.wav").exists()
    # The first unit was complete, so its file is already there to listen to.
    assert "output/long/story/story-001.wav" in [e.path for e in events if isinstance(e, Artifact)]

    again = _run(_req(voice, story, "story"))
    res = again[-1]
    assert res.data["spoke"] == 5 and res.data["path"] == "output/long/story/story.wav"
    assert any("Going on from piece 4 of 8" in e.line for e in again if isinstance(e, Log))
    after = _pieces(folder)
    assert {k: after[k] for k in before} == before  # the first three untouched
    assert [e.done for e in again if isinstance(e, Progress)] == [4, 5, 6, 7, 8]
    assert (folder / "story.wav").read_bytes() == (base / "whole" / "whole.wav").read_bytes()
    for u in range(1, 6):
        assert (folder / f"story-{u:03d}.wav").read_bytes() == \
            (base / "whole" / f"whole-{u:03d}.wav").read_bytes()
    sidecar = json.loads((folder / "story.json").read_text(encoding="utf-8"))
    assert [p["seed"] for p in sidecar["pieces"]] == list(range(21, 29))

    # Done: a third run speaks nothing and loads no model.
    third = _run(_req(voice, story, "story"))[-1]
    assert third.data["spoke"] == 0


@pytest.mark.slow  # a child process importing torch + three readings: ~30 s on the shared box
def test_killed_mid_piece_then_resumed_writes_only_the_missing_pieces(voice, story, tmp_path):
    """A real child process is killed with SIGKILL after piece 3's wav is written and
    before its record: the next run redoes piece 3 onwards and nothing before it."""
    req = _req(voice, story, "story")
    spec = tmp_path / "request.json"
    spec.write_text(json.dumps(dataclasses.asdict(req)), encoding="utf-8")
    handshake = tmp_path / "at-piece"
    child = subprocess.Popen([sys.executable, "-m", "tests.engine.synth.longtext_child",
                              str(spec), "3", str(handshake)], cwd=REPO,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 180
    while not handshake.exists():
        assert child.poll() is None, child.stdout.read().decode()
        assert time.monotonic() < deadline, "the child never reached piece 3"
        time.sleep(0.05)
    os.kill(child.pid, signal.SIGKILL)
    child.wait(timeout=30)
    child.stdout.close()
    folder = voice / "output" / "long" / "story"
    before = _pieces(folder)
    # Pieces 0-2 complete, piece 3's wav without its record: not done.
    assert sorted(before) == ["00000.json", "00000.wav", "00001.json", "00001.wav",
                              "00002.json", "00002.wav", "00003.wav"]
    assert not any(p.name.startswith(".") or p.suffix == ".tmp"
                   for p in (folder / "pieces").iterdir())

    events = _run(req)
    assert events[-1].data["spoke"] == 5
    after = _pieces(folder)
    assert {k: after[k] for k in before if k != "00003.wav"} == \
        {k: v for k, v in before.items() if k != "00003.wav"}
    assert len(after) == 16

    whole = _run(_req(voice, story, "whole"))[-1]
    assert (folder / "story.wav").read_bytes() == \
        (voice / whole.data["path"]).read_bytes()


def test_other_settings_under_a_taken_name_read_into_a_new_folder(voice, story):
    _run(_req(voice, story, "story"))
    first = (voice / "output" / "long" / "story" / "story.wav").read_bytes()
    other = dataclasses.replace(_req(voice, story, "story"), seed=99)
    events = _run(other)
    assert events[-1].data["folder"] == "output/long/story-2"
    assert any("another seed" in e.line for e in events if isinstance(e, Log))
    assert (voice / "output" / "long" / "story" / "story.wav").read_bytes() == first


def test_gsv_synthesize_long_print_request(voice, story, capsys):
    from gsv_tui.cli import main

    assert main(["synthesize", "-C", str(voice), "--file", str(story), "--long",
                 "--unit", "chapter", "--lang", "en", "--print-request"]) == 0
    req = json.loads(capsys.readouterr().out)
    assert req["text_file"] == str(story.resolve()) and req["unit"] == "chapter"
    assert req["text"] == ""


def _pages(path: Path) -> int:
    return -(-path.stat().st_size // 4096) * 4096


@pytest.mark.slow  # two readings on the tiny voice: ~30 s on the shared box
def test_a_full_disk_stops_the_reading_with_a_sentence_and_a_bigger_one_goes_on(
        voice, story, tmpfs_factory):
    """The reading's folder on a small tmpfs that holds the first three pieces (and the
    files written with them) but not the fourth: Failed with 'disk full at …', the three
    pieces whole and as an uninterrupted reading makes them, no temp file; grown, the
    next run reads from piece 4 and ends with the same joined file."""
    from engine.runner import drive

    whole = voice / "output" / "long" / "whole"
    _run(_req(voice, story, "whole"))
    first = [whole / "job.json", whole / "text.txt", whole / "whole-001.wav",
             whole / "whole-002.wav"]
    first += [whole / "pieces" / f"0000{g}.{ext}" for g in range(3) for ext in ("wav", "json")]
    room = sum(_pages(p) for p in first) + _pages(whole / "pieces" / "00003.wav") // 2
    fs = tmpfs_factory(voice / "output" / "long" / "story", room)

    events = list(drive("read", run_read, _req(voice, story, "story")))
    failed = events[-1]
    assert type(failed).__name__ == "Failed" and failed.reason.startswith("disk full at "), failed
    folder = voice / "output" / "long" / "story"
    names = sorted(p.name for p in (folder / "pieces").iterdir())
    assert names == ["00000.json", "00000.wav", "00001.json", "00001.wav", "00002.json",
                     "00002.wav"]  # no temp file, no half piece
    for g in range(3):
        assert (folder / "pieces" / f"0000{g}.wav").read_bytes() == \
            (whole / "pieces" / f"0000{g}.wav").read_bytes()

    fs.resize(16 << 20)
    again = _run(_req(voice, story, "story"))
    assert again[-1].data["spoke"] == 5
    assert (folder / "story.wav").read_bytes() == (whole / "whole.wav").read_bytes()
