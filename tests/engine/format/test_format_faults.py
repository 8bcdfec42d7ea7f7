"""Format (1A) against real damage: a corrupt clip in the transcript is skipped with its
name and reason while the rest is formatted; a full disk (a tmpfs mounted by the test as
logs/) stops with the sentence, every finished clip kept and journaled, and freeing what
it asks for lets the re-run finish only what was left."""
from __future__ import annotations

import json
import re
import struct

from engine.dataset.format import FormatRequest, run_format
from engine.diskfull import MB
from engine.events import Failed, Log, Result
from engine.layout import Layout
from engine.runner import drive
from tests.engine.format.conftest import LINES
from tests.helpers.tmpfs import tmpfs_factory  # noqa: F401 -- fixture


def _request(project, bert_dir, hubert_dir, sovits_file) -> FormatRequest:
    return FormatRequest(project_root=str(project), bert_dir=str(bert_dir),
                         hubert_dir=str(hubert_dir), sovits_path=str(sovits_file),
                         device="cpu", allow_download=False)


def _add_damaged_clips(project) -> list[str]:
    slices = project / "audio" / "slices"
    good = (slices / "b.wav").read_bytes()
    # A header whose format chunk says 0 channels at 0 Hz (a botched edit), and a copy
    # cut short inside its header (a failed transfer).
    bad_fmt = bytearray(good)
    bad_fmt[22:28] = struct.pack("<HI", 0, 0)
    (slices / "bad header.wav").write_bytes(bytes(bad_fmt))
    (slices / "cut short.wav").write_bytes(good[:30])
    lay = Layout(project, "voice")
    with open(lay.list_file, "a", encoding="utf-8") as f:
        f.write("audio/slices/bad header.wav|voice|EN|This clip is damaged.\n")
        f.write("audio/slices/cut short.wav|voice|EN|So is this one.\n")
    return ["bad header.wav", "cut short.wav"]


def test_a_corrupt_clip_is_skipped_by_name(project, bert_dir, hubert_dir, sovits_file):
    bad = _add_damaged_clips(project)
    events = list(drive("format", run_format, _request(project, bert_dir, hubert_dir,
                                                       sovits_file)))
    result = events[-1]
    assert isinstance(result, Result), result
    assert result.data["semantic"] == len(LINES)  # the good clips are all formatted
    skipped = {c["name"]: c["reason"] for c in result.data["skipped_clips"]}
    assert sorted(skipped) == bad
    for name, reason in skipped.items():
        assert "Errno" not in reason and "/" not in reason and reason, reason
        assert any(isinstance(e, Log) and e.line.startswith(f"{name}: clip skipped")
                   for e in events)
        assert name in result.summary
    exp = Layout(project, "voice").exp_dir
    sem = (exp / "6-name2semantic.tsv").read_text(encoding="utf-8")
    assert all(name not in sem for name in bad)
    assert not any((exp / "5-wav32k" / name).exists() for name in bad)

    # Again: nothing to redo, and the skips are still named with their reasons.
    again = list(drive("format", run_format, _request(project, bert_dir, hubert_dir,
                                                      sovits_file)))[-1]
    assert isinstance(again, Result) and again.data["processed"] == 0
    assert {c["name"]: c["reason"] for c in again.data["skipped_clips"]} == skipped


def test_a_full_disk_keeps_finished_clips_and_the_rerun_finishes(
        project, bert_dir, hubert_dir, sovits_file, tmpfs_factory):
    lay = Layout(project, "voice")
    # Each clip takes ~0.45 MB in logs/ (32 kHz wav + HuBERT features): room for one.
    fs = tmpfs_factory(project / "logs", 700 * 1024)
    events = list(drive("format", run_format, _request(project, bert_dir, hubert_dir,
                                                       sovits_file)))
    end = events[-1]
    assert isinstance(end, Failed), end
    m = re.match(r"^disk full at (.+): free (\d+) MB and run again$", end.reason)
    assert m and m[1] == str(lay.exp_dir), end.reason
    assert "bug" not in end.hint
    assert not [p for p in fs.path.rglob("*") if p.suffix == ".tmp"]  # no half-written file

    journal = (lay.exp_dir / "gsv-format.jsonl").read_text(encoding="utf-8").splitlines()
    done = [json.loads(line)["name"] for line in journal]  # every line whole
    assert 1 <= len(done) < len(LINES)
    for name in done:  # what was journaled is complete on disk
        assert (lay.exp_dir / "5-wav32k" / name).stat().st_size > 44
        assert (lay.exp_dir / "4-cnhubert" / f"{name}.pt").is_file()

    fs.resize(fs.used() + fs.free() + int(m[2]) * MB)
    result = list(drive("format", run_format, _request(project, bert_dir, hubert_dir,
                                                       sovits_file)))[-1]
    assert isinstance(result, Result), result
    assert result.data["processed"] == len(LINES) - len(done)
    assert result.data["semantic"] == len(LINES)
