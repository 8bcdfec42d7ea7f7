"""The proofreading record owns the .list: ASR results are merged in, on real files and a real
journal (the ASR step itself runs in tests/engine/asr/test_list_ownership.py)."""
from __future__ import annotations

from pathlib import Path

import pytest

from engine.dataset.listfile import ListEntry, read_document, read_list
from engine.dataset.proofread.locks import ListBusy, SessionLock, WriteLock
from engine.dataset.proofread.record import merge_asr_result
from engine.dataset.proofread.source import open_session
from engine.layout import Layout
from tests.engine.proofread.conftest import tone


@pytest.fixture
def lay(tmp_path: Path) -> Layout:
    lay = Layout(tmp_path / "proj", "v")
    lay.root.mkdir()
    lay.project_file.write_text('schema_version = 1\nname = "V"\nslug = "v"\n')
    for i in range(6):
        tone(lay.slices_dir / f"c{i}.wav", 1.0 + 0.3 * i, 200 + 30 * i)
    return lay


def wav(lay: Layout, i: int) -> str:
    return str((lay.slices_dir / f"c{i}.wav").resolve())


def asr(lay: Layout, texts: dict[int, str], before: dict[int, str] | None = None):
    entries = [ListEntry(wav(lay, i), "v", "EN", t) for i, t in sorted(texts.items())]
    return merge_asr_result(lay.list_file, lay.proofread_journal, lay.root, entries,
                            known={wav(lay, i) for i in range(6)},
                            offered_before={wav(lay, i): t for i, t in (before or {}).items()})


def texts(lay: Layout) -> dict[str, str]:
    return {Path(e.wav).stem: e.text for e in read_list(lay.list_file)}


def test_asr_merge_keeps_what_a_person_did_and_takes_the_rest(lay):
    m = asr(lay, {0: "zero", 1: "one", 2: "two", 3: "three", 4: "four"})
    assert (m.added, m.kept, m.changed) == (5, 0, 0)
    s = open_session(lay.root)
    s.set_text(0, "zero, fixed")
    s.accept(1)
    s.toggle_delete(2)
    s.merge(3, +1)  # c3 + c4 -> one new clip under audio/edits
    s.close()

    m = asr(lay, {0: "ZERO", 1: "ONE", 2: "TWO", 3: "THREE", 4: "FOUR", 5: "five"})
    assert (m.kept, m.added, m.changed, m.not_readded) == (3, 1, 0, 2)
    assert "3 kept your edits, 1 added, 0 changed" in m.summary()
    got = texts(lay)
    assert got["c0"] == "zero, fixed" and got["c1"] == "one" and "c2" not in got
    assert "c3" not in got and "c4" not in got  # merged away: not added back
    assert got["c5"] == "five"
    assert any(t == "three four" for t in got.values())  # the merged clip
    s = open_session(lay.root)
    by = {Path(c.wav).stem: c for c in s.clips if c.entry}
    assert by["c1"].reviewed and by["c2"].deleted and by["c0"].edited
    assert len(s.done) == 4  # the undo history survived the merge
    s.undo()  # undo the merge: c3 and c4 come back, the new c5 stays
    assert set(texts(lay)) >= {"c3", "c4", "c5"}
    s.close()


def test_untouched_clips_take_new_text_or_leave(lay):
    asr(lay, {0: "zero", 1: "one", 2: "two"})
    m = asr(lay, {0: "zero", 1: "one again"})  # c2: no speech any more
    assert (m.changed, m.removed, m.kept) == (1, 1, 0)
    assert texts(lay) == {"c0": "zero", "c1": "one again"}


def test_hand_edits_in_a_text_editor_count_as_edits(lay):
    asr(lay, {0: "zero", 1: "one", 2: "two"})
    data = lay.list_file.read_text().replace("|one\n", "|one, by hand\n")
    data = "".join(ln for ln in data.splitlines(True) if "c2.wav" not in ln)
    lay.list_file.write_text(data)
    m = asr(lay, {0: "ZERO", 1: "ONE", 2: "TWO"})
    assert m.taken_in == 2 and (m.kept, m.changed) == (2, 1)
    assert texts(lay) == {"c0": "ZERO", "c1": "one, by hand"}  # c2 stays deleted


def test_a_list_from_before_the_record_keeps_its_hand_edits(lay):
    """No journal (an older version wrote the list from its records): a line that differs
    from what ASR last wrote, or that is gone, was a person's doing."""
    lay.list_file.parent.mkdir(parents=True, exist_ok=True)
    lay.list_file.write_text(f"{wav(lay, 0)}|v|EN|zero by hand\n{wav(lay, 1)}|v|EN|one\n")
    m = asr(lay, {0: "ZERO", 1: "ONE", 2: "TWO", 3: "THREE"},
            before={0: "zero", 1: "one", 2: "two"})
    assert texts(lay) == {"c0": "zero by hand", "c1": "ONE", "c3": "THREE"}
    assert (m.kept, m.changed, m.added, m.not_readded) == (1, 1, 1, 1)


def test_deleting_the_list_starts_over_with_the_journal_kept(lay):
    asr(lay, {0: "zero", 1: "one"})
    s = open_session(lay.root)
    s.toggle_delete(0)
    s.close()
    lay.list_file.unlink()
    asr(lay, {0: "zero", 1: "one"})
    assert texts(lay) == {"c0": "zero", "c1": "one"}
    assert list(lay.proofread_journal.parent.glob("journal.*.jsonl"))  # the old one, kept


def test_the_list_keeps_its_bytes_when_asr_brings_nothing_new(lay):
    lay.list_file.parent.mkdir(parents=True, exist_ok=True)
    raw = f"\ufeff{wav(lay, 0)}|v|EN|zero\r\nnot a clip line\r\n{wav(lay, 1)}|v|EN|one"
    lay.list_file.write_bytes(raw.encode())
    m = asr(lay, {0: "zero", 1: "one"}, before={0: "zero", 1: "one"})
    assert not m.any and lay.list_file.read_bytes() == raw.encode()
    assert read_document(lay.list_file).malformed


def test_session_lock_names_the_holder_and_dies_with_it(lay):
    asr(lay, {0: "zero"})
    s = open_session(lay.root)
    with pytest.raises(ListBusy) as exc:
        open_session(lay.root)
    assert "already open in" in exc.value.reason and "pid" in exc.value.reason
    assert "Close that editor" in exc.value.hint
    asr(lay, {0: "zero", 1: "one"})  # ASR needs no session lock
    s.close()
    open_session(lay.root).close()  # freed on close


def test_write_lock_excludes_other_holders(lay, tmp_path):
    a = WriteLock(lay.list_file, timeout=0.2)
    with a, a:  # re-entrant in one thread
        with pytest.raises(ListBusy):
            with WriteLock(lay.list_file, timeout=0.2):
                pass
    with WriteLock(lay.list_file, timeout=0.2):
        pass
    lock = SessionLock(lay.list_file, "test").acquire()
    lock.release()
