"""Fault tests: the .list belongs to the proofreading record, so transcribing again never
loses a person's work, not even with an editor open on the list (real processes, real files,
the tiny Whisper of this folder)."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

from engine.asr.request import AsrRequest
from engine.asr.step import run_asr
from engine.dataset.listfile import read_list
from engine.dataset.proofread.source import open_session
from engine.events import Result
from engine.project import load_project, record_step


def _asr(root: Path, model: Path) -> Result:
    req = AsrRequest(project_root=str(root), model_dir=str(model), allow_download=False,
                     backend="faster-whisper", beam_size=1, language="en")
    res = [e for e in run_asr(req) if isinstance(e, Result)]
    assert len(res) == 1
    return res[0]


def _by_clip(root: Path) -> dict[str, str]:
    lay = load_project(root).layout
    return {Path(e.wav).name: e.text for e in read_list(lay.list_file)}


def test_edits_survive_transcribing_again_and_new_clips_are_added(project, tiny_whisper,
                                                                 speech_clips):
    _asr(project, tiny_whisper)
    lay = load_project(project).layout
    names = sorted(_by_clip(project))
    assert len(names) == 4, "the tiny model must give every speech clip some text"
    s = open_session(project)
    s.set_text(0, "The quick brown fox, fixed by hand.")
    s.accept(1)
    s.toggle_delete(2)
    s.close()
    raw = lay.list_file.read_text(encoding="utf-8").splitlines(True)
    wav3, spk, lang, _ = raw[2].split("|", 3)  # (line 3 is clip 4: clip 3 left the list)
    raw[2] = f"{wav3}|{spk}|{lang}|Fixed in a text editor.\n"
    lay.list_file.write_text("".join(raw), encoding="utf-8")
    asr_texts = {Path(e.wav).name: e.text for e in read_list(lay.list_file)}
    shutil.copy(speech_clips[4], lay.slices_dir / speech_clips[4].name)

    res = _asr(project, tiny_whisper)  # 4 cached, 1 new
    got = _by_clip(project)
    assert got[names[0]] == "The quick brown fox, fixed by hand."
    assert got[names[1]] == asr_texts[names[1]]
    assert names[2] not in got  # deleted in the editor: stays out
    assert got[names[3]] == "Fixed in a text editor."
    assert speech_clips[4].name in got and got[speech_clips[4].name]
    assert res.data["new"] == 1 and res.data["cached"] == 4
    assert res.data["kept_edits"] == 4 and res.data["added"] == 1
    assert "4 kept your edits, 1 added" in res.summary  # what the user reads
    s = open_session(project)  # the review state survived too
    by = {Path(c.wav).name: c for c in s.clips if c.entry}
    assert by[names[1]].reviewed and by[names[2]].deleted and by[names[0]].edited
    s.close()


def test_editor_open_while_asr_finishes_keeps_both(project, tiny_whisper, speech_clips,
                                                   gsv_home):
    """A real `gsv proofread` on a pty: an edit, then ASR finishes in this process and merges
    a new clip, then another edit in the editor: on disk, all three survive."""
    from tests.tui.proofread.test_kill_reopen import spawn

    _asr(project, tiny_whisper)
    record_step(project, "format", "done", message="formatted")
    lay = load_project(project).layout
    names = sorted(_by_clip(project))
    app = spawn(project, gsv_home)
    try:
        app.keys("e", "\x05", *" FIXED", "\r")  # edit + accept the first clip
        app.wait_for(lambda: _by_clip(project)[names[0]].endswith(" FIXED"))
        shutil.copy(speech_clips[4], lay.slices_dir / speech_clips[4].name)

        res = _asr(project, tiny_whisper)  # ASR finishes while the editor is open
        got = _by_clip(project)
        assert got[names[0]].endswith(" FIXED") and speech_clips[4].name in got
        assert res.data["added"] == 1 and res.data["kept_edits"] == 1

        app.keys("e", "\x05", *" AGAIN", "\r")  # (accept moved to the next clip) merges first
        app.wait_for(lambda: _by_clip(project)[names[1]].endswith(" AGAIN"))
        got = _by_clip(project)
        assert got[names[0]].endswith(" FIXED") and speech_clips[4].name in got
        app.keys("q")
        _, status = os.waitpid(app.pid, 0)
        os.close(app.fd)
    except BaseException:
        app.kill9()
        raise
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, bytes(app.out[-600:])
    got = _by_clip(project)
    assert got[names[0]].endswith(" FIXED") and got[names[1]].endswith(" AGAIN")
    assert len(got) == 5
    # the editor recorded the step through the engine: done, later steps stale
    p = load_project(project)
    assert p.step("proofread").status == "done" and p.step("proofread").artifacts
    assert p.step("format").status == "stale"
