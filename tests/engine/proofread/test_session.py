"""The edit model through a real session: every change lands in the journal and the .list."""
import json
from pathlib import Path

import pytest
import soundfile as sf

from engine.dataset.listfile import read_document
from engine.dataset.proofread.clips import join_texts
from engine.dataset.proofread.edits import EditError
from engine.dataset.proofread.journal import read_records
from engine.dataset.proofread.source import open_session
from engine.dataset.proofread.view import next_unreviewed, visible


def kinds(s):
    return [r["kind"] for r in read_records(s.paths.journal)]


def texts(path: Path):
    return [ln.entry.text if ln.entry else ln.raw for ln in read_document(path).lines]


def test_open_without_edits_is_byte_identical(listdir):
    before = (listdir / "demo.list").read_bytes()
    s = open_session(listdir / "demo.list")
    assert s.render() == before and (listdir / "demo.list").read_bytes() == before
    assert kinds(s) == ["base"]
    assert [c.malformed for c in s.clips].count(True) == 1
    assert s.stats()[:2] == (0, 4)


def test_edit_accept_undo_redo_on_disk(listdir):
    lst = listdir / "demo.list"
    s = open_session(lst)
    s.set_text(0, "hello world")
    assert texts(lst)[0] == "hello world" and kinds(s)[-1] == "edit"
    assert lst.read_bytes().split(b"\n")[1].endswith(b"second clip\r")  # CRLF kept
    s.accept(1)
    assert s.clips[1].reviewed and s.stats()[0] == 1
    s.undo()
    s.undo()
    assert texts(lst)[0] == "hello there" and not s.clips[1].reviewed
    s.redo()
    assert texts(lst)[0] == "hello world" and kinds(s)[-3:] == ["undo", "undo", "redo"]
    s.close()
    again = open_session(lst)  # the journal brings back history and the redo stack
    assert again.clips == s.clips and len(again.done) == 1 and len(again.undone) == 1
    again.redo()
    assert again.clips[1].reviewed


def test_soft_delete_keeps_file(listdir):
    lst = listdir / "demo.list"
    s = open_session(lst)
    wav = s.wav_path(s.clips[0])
    s.toggle_delete(0)
    assert "hello there" not in texts(lst) and wav.exists()
    assert s.stats()[1] == 3
    s.toggle_delete(0)
    assert texts(lst)[0] == "hello there"


def test_merge_writes_new_wav_and_keeps_originals(listdir):
    lst = listdir / "demo.list"
    s = open_session(lst)
    a, b = s.wav_path(s.clips[0]), s.wav_path(s.clips[1])
    a_bytes = a.read_bytes()
    s.merge(0, +1)
    m = s.clips[0]
    assert m.text == "hello there second clip" and m.origin == (0, 1)
    out = s.wav_path(m)
    assert out.parent == listdir / "demo_edits" and a.read_bytes() == a_bytes and b.exists()
    assert abs(sf.info(str(out)).duration - 3.0) < 0.01
    assert texts(lst)[:2] == ["hello there second clip", "this line has no pipes at all"]
    s.undo()
    assert texts(lst)[:2] == ["hello there", "second clip"]


def test_merge_previous_skips_malformed_and_joins_cjk(listdir):
    s = open_session(listdir / "demo.list")
    s.set_text(1, "世界")
    pos = 3  # 你好世界 (ZH); previous live clip is 1 (the malformed line 2 stays)
    with pytest.raises(EditError):
        s.merge(2, +1)
    s.merge(pos, -1)
    assert [c.text for c in s.clips[:3]] == ["hello there", "世界你好世界",
                                             "this line has no pipes at all"]
    assert join_texts("你好", "世界", "zh") == "你好世界" and join_texts("a", "b", "EN") == "a b"


def test_split_at_time_and_cursor(listdir):
    lst = listdir / "demo.list"
    s = open_session(lst)
    s.split(1, 0.8, cursor=6)  # "second clip", 2.0 s
    one, two = s.clips[1], s.clips[2]
    assert (one.text, two.text) == ("second", "clip")
    assert abs(sf.info(str(s.wav_path(one))).duration - 0.8) < 0.01
    assert abs(sf.info(str(s.wav_path(two))).duration - 1.2) < 0.01
    assert texts(lst)[1:3] == ["second", "clip"]
    with pytest.raises(ValueError):
        s.split(0, 5.0, 2)
    assert texts(lst)[0] == "hello there"  # a failed split changes nothing


def test_replace_all_is_one_undo(listdir):
    lst = listdir / "demo.list"
    s = open_session(lst)
    rows = visible(s.clips, s.info, query="e")
    s.replace_all(rows, "e", "E")
    assert texts(lst)[0] == "hEllo thErE" and texts(lst)[5] == "last onE without nEwlinE"
    s.undo()
    assert texts(lst)[0] == "hello there"


def test_filters_and_sort(listdir):
    (listdir / "records.jsonl").write_text(
        json.dumps({"wav": str(listdir / "clips/c1.wav"), "avg_logprob": -1.5}) + "\n"
        + json.dumps({"path": "c0.wav", "avg_logprob": -0.1}) + "\nnot json\n")
    s = open_session(listdir / "demo.list")
    v = lambda **k: visible(s.clips, s.info, **k)  # noqa: E731
    assert v() == [0, 1, 2, 3, 5]
    assert v(filter="low_conf") == [1]
    assert v(filter="short") == [0, 1]  # 1 s and 2 s
    assert v(filter="problems") == [2]
    s.set_text(3, "你好 2 world")
    assert v(filter="mixed") == [3]
    assert v(sort="duration") == [0, 1, 3, 5, 2]
    assert v(sort="confidence") == [1, 0, 2, 3, 5]
    s.accept(0)
    assert v(filter="unreviewed") == [1, 3, 5]
    assert next_unreviewed(s.clips, v(), 0) == 1


def test_a_change_made_outside_the_editor_is_taken_in(listdir):
    """A text editor changed the list between two sessions: its lines count as a person's
    edits, nothing of the journal is lost or set aside (this used to archive the journal and
    drop every review mark)."""
    lst = listdir / "demo.list"
    s = open_session(lst)
    s.set_text(0, "mine")
    s.accept(1)
    s.accept(3)
    s.close()
    lines = lst.read_bytes().split(b"\n")
    lines[3] = lines[3].replace("你好世界".encode(), "你好".encode())  # fixed by hand
    del lines[1]  # "second clip" deleted by hand
    lst.write_bytes(b"\n".join(lines))
    before = lst.read_bytes()
    s2 = open_session(lst)
    assert s2.archived is None and s2.taken_in == 2
    assert lst.read_bytes() == before  # taking in never rewrites what the person wrote
    by_text = {c.text: c for c in s2.clips}
    assert by_text["mine"].edited
    assert by_text["second clip"].deleted and by_text["second clip"].reviewed  # restorable
    assert by_text["你好"].edited and by_text["你好"].reviewed
    assert kinds(s2) == ["base", "edit", "edit", "edit", "state"]
    s2.toggle_delete(s2.position(by_text["second clip"].id))  # restore the deleted clip
    assert "second clip" in texts(lst)
    s2.close()
    assert open_session(lst).clips[1].text == "second clip"


def test_crash_between_journal_and_list_recovers(listdir):
    lst = listdir / "demo.list"
    s = open_session(lst)
    s.set_text(0, "first")
    old = lst.read_bytes()
    s.set_text(0, "second")
    s.close()
    lst.write_bytes(old)  # as if killed after the journal append, before the list rewrite
    s2 = open_session(lst)
    assert s2.recovered and texts(lst)[0] == "second"


def test_torn_journal_tail_is_ignored(listdir):
    lst = listdir / "demo.list"
    s = open_session(lst)
    s.set_text(0, "kept")
    s.close()
    with open(s.paths.journal, "ab") as f:
        f.write(b'{"kind": "edit", "label": "half')
    s2 = open_session(lst)
    assert s2.clips[0].text == "kept" and not s2.recovered
    s2.set_text(0, "after the tear")  # must start on a line of its own
    s2.close()
    s3 = open_session(lst)
    assert s3.clips[0].text == "after the tear" and len(s3.done) == 2


def test_damaged_journal_record_never_crashes_open(listdir):
    lst = listdir / "demo.list"
    s = open_session(lst)
    s.set_text(0, "one")
    s.set_text(0, "two")
    s.close()
    lines = s.paths.journal.read_text().splitlines()
    bad = json.loads(lines[1])
    bad["patches"][0]["old"][0]["id"] = 999  # points at a clip that does not exist
    lines[1] = json.dumps(bad)
    s.paths.journal.write_text("\n".join(lines) + "\n")
    s2 = open_session(lst)  # replay stops: journal set aside, the list taken in as it is
    assert s2.archived is not None and s2.clips[0].text == "two"
    assert kinds(s2) == ["base", "state"] and s2.render() == lst.read_bytes()


def test_counters_follow_edits_and_render_matches_document(listdir):
    from engine.dataset.proofread.session import document_from_clips, render_clips
    s = open_session(listdir / "demo.list")
    s.stats()  # counters now kept up to date edit by edit
    s.accept(0)
    s.merge(0, +1)
    s.split(2, 1.0, 2)
    s.toggle_delete(5)
    s.undo()
    s.toggle_delete(0)
    kept = s.stats()
    s._stats = None
    assert kept == s.stats()
    assert s.render() == (listdir / "demo.list").read_bytes()  # the patched render
    s.toggle_delete(len(s.clips) - 1)  # the last line (no terminator) leaves
    assert s.render() == (listdir / "demo.list").read_bytes()
    s.undo()
    assert (listdir / "demo.list").read_bytes().endswith(b"without newline")
    assert render_clips(s.clips, True) == document_from_clips(s.clips, True).to_bytes()
    assert render_clips(s.clips, False) == document_from_clips(s.clips, False).to_bytes()


def test_reads_the_asr_steps_own_records(tmp_path):
    """The ASR step writes records with project-relative `clip` paths and an absolute .list;
    the proofreader matches them (using the ASR engineer's own writer)."""
    from engine.asr.records import AsrRecord, write_records
    from engine.dataset.listfile import ListEntry, write_list
    from engine.layout import Layout
    from tests.engine.proofread.conftest import tone
    lay = Layout(tmp_path, "v")
    (tmp_path / "project.toml").write_text('slug = "v"\n')
    a = tone(lay.slices_dir / "a.wav", 1.0)
    b = tone(lay.slices_dir / "sub" / "a.wav", 1.0)  # same file name, other folder
    write_records(lay.asr_records, [
        AsrRecord(clip="audio/slices/a.wav", sha256="", key="", avg_logprob=-0.1),
        AsrRecord(clip="audio/slices/sub/a.wav", sha256="", key="", avg_logprob=-2.0,
                  no_speech_prob=0.9)])
    write_list(lay.list_file, [ListEntry(str(a.resolve()), "v", "EN", "one"),
                               ListEntry(str(b.resolve()), "v", "EN", "two")])
    s = open_session(tmp_path)
    i0, i1 = s.info(s.clips[0]), s.info(s.clips[1])
    assert round(i0.confidence, 3) == round(2.718281828 ** -0.1, 3) and not i0.low_confidence
    assert i1.low_confidence and i1.no_speech_prob == 0.9


def test_texts_never_break_the_line_format(listdir):
    lst = listdir / "demo.list"
    s = open_session(lst)
    s.set_text(0, "a|b\ttwo\nlines")
    assert texts(lst)[0] == "a b two lines"
    s.replace_all([1], "clip", "x|y")
    assert texts(lst)[1] == "second x y" and len(read_document(lst).lines) == 6


def test_edited_state_survives_reopen(listdir):
    lst = listdir / "demo.list"
    s = open_session(lst)
    s.set_text(1, "second clip")  # same text: no edit at all
    assert len(s.done) == 0
    s.set_text(1, "second clip!")
    assert s.clips[1].edited and not s.clips[1].reviewed
    s.close()
    assert open_session(lst).clips[1].edited
