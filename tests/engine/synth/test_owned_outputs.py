"""Export and synthesis write only where they own the files: export into a new, empty or
its own unchanged bundle folder; synthesis into output/ under a plain name, never over an
earlier file. Everything else is refused with a sentence and touches nothing."""
from __future__ import annotations

import hashlib
import os
import zipfile
from pathlib import Path

import pytest

from engine.events import Log, Result, StepError
from engine.synth.bundle import MARKER
from engine.synth.export import run_export
from engine.synth.outputs import check_name, write_new
from engine.synth.request import ExportRequest, SynthRequest
from engine.synth.step import run_synthesize
from tests.engine.synth.voicekit import EN_REF, SLUG, ZH_REF


def _tree(root: Path) -> dict[str, str]:
    """Every file under ``root`` with its sha256: a before/after picture."""
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def _export(voice: Path, **kw) -> Result:
    events = list(run_export(ExportRequest(str(voice), ref_wav=ZH_REF[0], **kw)))
    assert isinstance(events[-1], Result), events[-1]
    return events[-1]


def test_export_into_a_folder_holding_a_file_is_refused_and_touches_nothing(voice, tmp_path):
    dest = tmp_path / "Music"
    dest.mkdir()
    precious = dest / "song.wav"
    precious.write_bytes(os.urandom(4096))
    before, entries = _tree(tmp_path), sorted(tmp_path.rglob("*"))
    with pytest.raises(StepError, match="will not write into .*Music.*song.wav"):
        list(run_export(ExportRequest(str(voice), ref_wav=ZH_REF[0], dest=str(dest))))
    assert _tree(tmp_path) == before  # the file, byte for byte
    assert sorted(tmp_path.rglob("*")) == entries  # and nothing new anywhere, not a folder


def test_the_default_bundle_folder_is_refused_when_someone_else_filled_it(voice):
    dest = voice / "output" / f"{SLUG}-export"
    dest.mkdir(parents=True)
    (dest / "notes.txt").write_text("mine")
    with pytest.raises(StepError, match="notes.txt"):
        _export(voice)
    assert (dest / "notes.txt").read_text() == "mine"
    assert sorted(p.name for p in dest.iterdir()) == ["notes.txt"]


def test_export_into_an_empty_folder_then_again_into_its_own_bundle(voice, tmp_path):
    usb = tmp_path / "usb"
    dest = usb / "take-home"
    dest.mkdir(parents=True)
    res = _export(voice, dest=str(dest))
    assert (dest / MARKER).is_file() and (dest / "voice.toml").is_file()
    assert Path(res.data["zip"]) == usb / "take-home.zip"
    # Again into its own unchanged bundle (and zip): replaced, no leftovers beside it.
    events = list(run_export(ExportRequest(str(voice), ref_wav=EN_REF[0], dest=str(dest))))
    assert isinstance(events[-1], Result), events[-1]
    assert 'language = "en"' in (dest / "voice.toml").read_text(encoding="utf-8")
    assert sorted(p.name for p in usb.iterdir()) == ["take-home", "take-home.zip"]
    with zipfile.ZipFile(usb / "take-home.zip") as z:
        assert "take-home/reference/en_ref.wav" in z.namelist()


def test_a_file_added_or_edited_in_a_bundle_stops_the_next_export(voice):
    res = _export(voice, make_zip=False)
    bundle = voice / res.data["path"]
    added = bundle / "reference" / "my-other-take.wav"
    added.write_bytes(b"RIFF mine")
    with pytest.raises(StepError, match="my-other-take.wav was added"):
        _export(voice, make_zip=False)
    assert added.read_bytes() == b"RIFF mine"
    added.unlink()
    (bundle / "README.txt").write_text("my notes on this voice")
    with pytest.raises(StepError, match="README.txt was changed"):
        _export(voice, make_zip=False)
    assert (bundle / "README.txt").read_text() == "my notes on this voice"


def test_a_zip_export_did_not_write_is_never_replaced(voice, tmp_path):
    dest = tmp_path / "bundle"
    theirs = tmp_path / "bundle.zip"
    with zipfile.ZipFile(theirs, "w") as z:
        z.writestr("photos/1.jpg", b"jpeg")
    data = theirs.read_bytes()
    with pytest.raises(StepError, match="bundle.zip"):
        _export(voice, dest=str(dest))
    assert theirs.read_bytes() == data and not dest.exists()
    _export(voice, dest=str(dest), make_zip=False)  # without the zip it is fine
    assert theirs.read_bytes() == data


@pytest.mark.parametrize("name", ["../../x", "../x.wav", "sub/x", "..", "a\\b"])
def test_output_names_with_a_folder_are_refused(voice, name):
    before = _tree(voice.parent)
    with pytest.raises(StepError, match="not a plain file name"):
        list(run_synthesize(SynthRequest(str(voice), text="Hello.", language="en",
                                         device="cpu", allow_download=False, output_name=name)))
    assert _tree(voice.parent) == before


def test_an_absolute_output_name_is_refused(voice, tmp_path):
    target = tmp_path / "elsewhere" / "x.wav"
    target.parent.mkdir()
    target.write_bytes(b"a source recording")
    with pytest.raises(StepError, match="absolute path"):
        list(run_synthesize(SynthRequest(str(voice), text="Hello.", language="en",
                                         device="cpu", allow_download=False,
                                         output_name=str(target))))
    assert target.read_bytes() == b"a source recording"


def test_a_taken_output_name_gets_a_suffix_and_the_old_file_survives(voice):
    out = voice / "output"
    out.mkdir(exist_ok=True)
    earlier = out / "hello.wav"
    earlier.write_bytes((voice / EN_REF[0]).read_bytes())  # an earlier take, kept by the user
    data = earlier.read_bytes()
    events = list(run_synthesize(SynthRequest(str(voice), text="Hello there.", language="en",
                                              ref_wav=EN_REF[0], device="cpu", seed=3,
                                              allow_download=False, output_name="hello")))
    res = events[-1]
    assert isinstance(res, Result), res
    assert res.data["path"] == "output/hello-2.wav"
    assert earlier.read_bytes() == data
    assert (out / "hello-2.json").is_file() and not (out / "hello.json").exists()
    assert any("already exists" in e.line for e in events if isinstance(e, Log))


def test_write_new_skips_taken_names_and_sidecars(tmp_path):
    (tmp_path / "a.wav").write_bytes(b"1")
    (tmp_path / "a-2.json").write_text("{}")  # an orphan sidecar: a-2 is not free either
    assert write_new(tmp_path / "a.wav", b"new", also_free=(".json",)) == tmp_path / "a-3.wav"
    assert (tmp_path / "a.wav").read_bytes() == b"1"
    assert (tmp_path / "a-3.wav").read_bytes() == b"new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-2.json", "a-3.wav", "a.wav"]
    assert check_name("take~1-42") == "take~1-42"
