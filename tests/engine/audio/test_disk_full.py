"""A full disk, for real: a small tmpfs mounted by the test as the project folder (or
its slices) while import, slicing, a project.toml save or any other write runs. Each
ends in "disk full at PATH: free N MB and run again", with no temp or half-written file
left and what was there before intact; freeing N MB and running again then succeeds."""
from __future__ import annotations

import hashlib
import re
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from engine.audio.import_step import REPORT, ImportRequest, run_import
from engine.audio.slice_step import MANIFEST, SliceRequest, run_slice
from engine.diskfull import MB, DiskFull
from engine.events import Failed, Log, Result
from engine.layout import Layout
from engine.project import create_project, load_project, set_step_settings
from engine.runner import drive
from tests.helpers.tmpfs import tmpfs_factory  # noqa: F401 -- fixture

from .conftest import SR

SENTENCE = re.compile(r"^disk full at (?P<path>.+): free (?P<mb>\d+) MB and run again$")


def _digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _hidden(folder: Path) -> list[str]:
    """What a write in progress leaves: the import's .part/.gain copies, atomic writes'
    .tmp files, slicing's .slicing-* stage."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob(".*")
                  if p.suffix in (".part", ".gain", ".tmp") or p.name.startswith(".slicing-"))


def _full(events) -> tuple[Failed, int]:
    end = events[-1]
    assert isinstance(end, Failed), end
    m = SENTENCE.match(end.reason)
    assert m, end.reason
    assert "bug" not in end.hint and "MB free there now" in end.hint, end.hint
    return end, int(m["mb"])


@pytest.fixture
def takes(tmp_path, speech_with_gaps) -> tuple[Path, Path]:
    """A short mono take (a 190 kB copy) and a long stereo one (a 5.6 MB copy)."""
    x = speech_with_gaps.audio
    short, long = tmp_path / "src" / "short take.wav", tmp_path / "src" / "long take.wav"
    short.parent.mkdir()
    sf.write(short, x[: 3 * SR], SR, subtype="PCM_16")
    both = np.concatenate([x, x, x])[: 44 * SR]
    sf.write(long, np.stack([both, 0.5 * both], axis=1), SR, subtype="PCM_16")
    return short, long


def test_import_on_a_full_disk_keeps_what_it_finished(tmp_path, takes, tmpfs_factory):
    short, long = takes
    fs = tmpfs_factory(tmp_path / "proj", 2 * MB)
    create_project(fs.path, "Voice")
    sources = _digest(short.parent)
    raw = Layout(fs.path, "").raw_dir

    events = list(drive("import", run_import,
                        ImportRequest(project_root=str(fs.path), sources=[str(short), str(long)])))
    end, mb = _full(events)
    assert SENTENCE.match(end.reason)["path"] == str(raw)
    assert 4 <= mb <= 7  # the 5.6 MB copy, minus what was free, plus room for the report
    assert _hidden(fs.path) == []  # no .part copy, no atomic-write temp
    assert sorted(p.name for p in raw.iterdir()) == sorted(["short take.wav", REPORT])
    got, rate = sf.read(raw / "short take.wav", dtype="int16")  # complete, sample for sample
    want, _ = sf.read(short, dtype="int16")
    assert rate == SR and np.array_equal(got, want)
    assert _digest(short.parent) == sources  # sources only read
    assert load_project(fs.path).step("import").status == "failed"

    fs.resize(fs.used() + fs.free() + mb * MB)  # free what the sentence asked, run again
    events = list(drive("import", run_import,
                        ImportRequest(project_root=str(fs.path), sources=[str(short), str(long)])))
    assert isinstance(events[-1], Result), events[-1]
    assert any(isinstance(e, Log) and "already imported as short take.wav" in e.line
               for e in events)
    assert sf.info(raw / "long take.wav").frames == 44 * SR
    assert _hidden(fs.path) == []


def test_slicing_on_a_full_disk_leaves_the_last_runs_clips(tmp_path, takes, tmpfs_factory):
    short, long = takes
    root = tmp_path / "proj"
    create_project(root, "Voice")
    slices = Layout(root, "").slices_dir
    fs = tmpfs_factory(slices, 16 * MB)
    first = list(drive("slice", run_slice, SliceRequest(project_root=str(root),
                                                        source=str(short), min_length_ms=500)))
    assert isinstance(first[-1], Result), first[-1]
    before = _digest(slices)
    assert len(before) >= 2  # clips and the manifest

    # Room to decode the long take (float32 at 32 kHz) but only for a quarter of its clips:
    # the disk fills while clips are being written.
    frames = 44 * SR
    fs.resize(fs.used() + frames * 4 + frames * 2 // 4)
    events = list(drive("slice", run_slice, SliceRequest(project_root=str(root),
                                                         source=str(long))))
    _, mb = _full(events)
    assert SENTENCE.match(events[-1].reason)["path"] == str(slices)
    assert _digest(slices) == before  # the last run's clips and manifest, byte for byte
    assert _hidden(slices) == []  # no stage, no decoded samples, no half clip

    fs.resize(fs.used() + fs.free() + mb * MB)
    events = list(drive("slice", run_slice, SliceRequest(project_root=str(root),
                                                         source=str(long))))
    assert isinstance(events[-1], Result), events[-1]
    import json

    manifest = json.loads((slices / MANIFEST).read_text())
    names = {c["name"] for c in manifest["clips"]}
    assert names == {p.name for p in slices.glob("*.wav")}  # the old clips went, at the end
    for c in manifest["clips"]:
        assert sf.info(slices / c["name"]).frames == c["end"] - c["start"]
    assert _hidden(slices) == []


def test_project_file_save_on_a_full_disk(tmp_path, tmpfs_factory, takes):
    fs = tmpfs_factory(tmp_path / "proj", 1 * MB)
    create_project(fs.path, "Voice")
    set_step_settings(fs.path, "slice", {"threshold_db": -40.0})  # a backup exists too
    saved = _digest(fs.path)
    fs.fill()

    with pytest.raises(DiskFull) as caught:
        set_step_settings(fs.path, "slice", {"threshold_db": -30.0})
    assert SENTENCE.match(str(caught.value)) and caught.value.errno == 28
    assert _digest(fs.path) == {**saved, "filler.bin": _digest(fs.path)["filler.bin"]}
    assert _hidden(fs.path) == []
    assert load_project(fs.path).step_settings("slice") == {"threshold_db": -40.0}

    # A step started on that disk: a sentence (the status cannot be saved either), no bug.
    events = list(drive("import", run_import,
                        ImportRequest(project_root=str(fs.path), sources=[str(takes[0])])))
    assert isinstance(events[-1], Failed)
    assert events[-1].reason.lower().startswith("disk full at"), events[-1]
    assert "bug" not in events[-1].hint
    assert load_project(fs.path).step_settings("slice") == {"threshold_db": -40.0}
    assert _hidden(fs.path) == []


def fill_with_plain_writes(request: ImportRequest):
    """A step that writes with plain open(): ENOSPC escapes it as a bare OSError."""
    yield Log("writing")
    with open(Path(request.project_root) / "big.bin", "wb") as f:
        while True:
            f.write(b"\0" * 65536)


def test_runner_turns_any_enospc_into_the_sentence(tmp_path, tmpfs_factory):
    fs = tmpfs_factory(tmp_path / "bare", 1 * MB)
    events = list(drive("import", fill_with_plain_writes,
                        ImportRequest(project_root=str(fs.path), sources=["x"])))
    end, mb = _full(events)
    assert SENTENCE.match(end.reason)["path"] == str(fs.path)
    assert not any(isinstance(e, Log) and e.level == "error" for e in events)  # no traceback


def test_denoise_on_a_full_disk_keeps_finished_copies(tmp_path, takes, tmpfs_factory):
    from engine.audio.denoise_step import MANIFEST as CLEAN_MANIFEST
    from engine.audio.denoise_step import DenoiseRequest, run_denoise

    short, long = takes
    root = tmp_path / "proj"
    create_project(root, "Voice")
    lay = Layout(root, "")
    lay.raw_dir.mkdir(parents=True)
    (lay.raw_dir / "1 short.wav").write_bytes(short.read_bytes())
    (lay.raw_dir / "2 long.wav").write_bytes(long.read_bytes())
    fs = tmpfs_factory(lay.clean_dir, 1 * MB)  # room for the short copy only

    events = list(drive("denoise", run_denoise, DenoiseRequest(project_root=str(root))))
    end, mb = _full(events)
    assert SENTENCE.match(end.reason)["path"] == str(lay.clean_dir)
    assert _hidden(fs.path) == []
    assert sorted(p.name for p in fs.path.iterdir()) == sorted(["1 short.wav", CLEAN_MANIFEST])
    assert sf.info(fs.path / "1 short.wav").frames == 3 * SR
    kept = (fs.path / "1 short.wav").read_bytes()

    fs.resize(fs.used() + fs.free() + mb * MB)
    events = list(drive("denoise", run_denoise, DenoiseRequest(project_root=str(root))))
    assert isinstance(events[-1], Result), events[-1]
    assert events[-1].data["kept"] == ["1 short.wav"]  # not redone
    assert (fs.path / "1 short.wav").read_bytes() == kept
    assert sf.info(fs.path / "2 long.wav").frames == 44 * SR
