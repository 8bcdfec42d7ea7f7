"""project.toml: round trip, Unicode names and ASCII slugs, locking, atomicity under SIGKILL,
clear errors for broken files with the backup offered, stale marking."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
import tomllib
from pathlib import Path

import pytest

from engine.layout import Layout
from engine.project import (ProjectError, create_project, load_project, record_step,
                            restore_backup, save_project, set_step_settings, update_project)
from engine.slug import slugify

REPO = Path(__file__).resolve().parents[3]


def test_round_trip_unicode_name_and_relative_paths(tmp_path):
    p = create_project(tmp_path / "p", "我的声音 — Ana's voice", language="zh", version="v2")
    assert p.slug.isascii() and p.slug == slugify("我的声音 — Ana's voice")
    clip = p.root / "audio" / "slices" / "a.wav"
    clip.parent.mkdir(parents=True)
    clip.write_bytes(b"RIFF....")
    record_step(p.root, "slice", "done", message="1 clip", artifacts=[(str(clip), "clips")])
    set_step_settings(p.root, "slice", {"min_length": 5000})
    q = load_project(p.root)
    assert q.name == "我的声音 — Ana's voice" and q.language == "zh"
    assert q.step("slice").artifacts[0].path == "audio/slices/a.wav"  # relative to the root
    assert len(q.step("slice").artifacts[0].sha256) == 64
    assert q.step_settings("slice") == {"min_length": 5000}
    doc = tomllib.loads((p.root / "project.toml").read_text(encoding="utf-8"))
    assert doc["schema_version"] == 1 and "pending" not in str(doc.get("steps", {}).get("asr", ""))
    # the folder moves to another place (another machine) and still opens, paths intact
    moved = tmp_path / "moved"
    p.root.rename(moved)
    r = load_project(moved)
    assert r.layout.abs(r.step("slice").artifacts[0].path) == moved / "audio/slices/a.wav"


def test_unknown_keys_survive_a_save(tmp_path):
    p = create_project(tmp_path / "p", "x")
    f = p.root / "project.toml"
    f.write_text('future_key = "kept"\n' + f.read_text())
    save_project(load_project(p.root))
    record_step(p.root, "import", "done")
    assert 'future_key = "kept"' in f.read_text()


@pytest.mark.parametrize("bad, where", [
    ('name = "x\nslug = ', "line 1"),
    ('schema_version = 1\nname = "x"\nslug = "x"\nlanguage = "en"\nversion = "v2"\n[steps.slice\n', "line 6"),
])
def test_broken_file_names_line_and_offers_backup(tmp_path, bad, where):
    p = create_project(tmp_path / "p", "x")
    record_step(p.root, "import", "done")  # makes a backup of the creation-time file
    f = p.root / "project.toml"
    f.write_text(bad)
    with pytest.raises(ProjectError) as err:
        load_project(p.root)
    msg = str(err.value)
    assert where in msg and "column" in msg
    assert err.value.backup is not None and "restore-backup" in msg
    restored = restore_backup(p.root)
    assert restored.name == "x" and (p.root / "project.toml.broken").read_text() == bad
    assert load_project(p.root).name == "x"


def test_invalid_values_are_refused_with_the_field(tmp_path):
    p = create_project(tmp_path / "p", "x")
    f = p.root / "project.toml"
    f.write_text(f.read_text().replace('language = "en"', 'language = "xx"'))
    with pytest.raises(ProjectError, match="language 'xx'"):
        load_project(p.root)


def test_stale_marking_when_an_earlier_output_changes(tmp_path):
    p = create_project(tmp_path / "p", "x")
    out = p.root / "out.txt"
    out.write_text("a")
    record_step(p.root, "slice", "done", artifacts=[(str(out), "clips")])
    record_step(p.root, "asr", "done", artifacts=[])
    record_step(p.root, "proofread", "done", artifacts=[])
    # same output again: nothing goes stale
    record_step(p.root, "slice", "done", artifacts=[(str(out), "clips")])
    assert load_project(p.root).step("asr").status == "done"
    out.write_text("b")
    record_step(p.root, "slice", "done", artifacts=[(str(out), "clips")])
    q = load_project(p.root)
    assert q.step("asr").status == "stale" and q.step("proofread").status == "stale"
    assert q.step("import").status == "pending"


def test_two_processes_never_interleave_updates(tmp_path):
    p = create_project(tmp_path / "p", "x")
    script = textwrap.dedent(f"""
        import sys
        from engine.project import update_project
        def bump(p):
            s = p.settings.setdefault("train", {{}})
            s["n"] = s.get("n", 0) + 1
        for _ in range(40):
            update_project({str(p.root)!r}, bump)
    """)
    procs = [subprocess.Popen([sys.executable, "-c", script], cwd=REPO) for _ in range(3)]
    assert all(proc.wait(120) == 0 for proc in procs)
    assert load_project(p.root).settings["train"]["n"] == 120


def test_writer_killed_mid_save_leaves_a_valid_file(tmp_path):
    p = create_project(tmp_path / "p", "x")
    script = textwrap.dedent(f"""
        from engine.project import update_project
        i = 0
        while True:
            i += 1
            def change(p, i=i):
                p.settings["train"] = {{"n": i, "pad": "x" * (i % 5000)}}
            update_project({str(p.root)!r}, change)
    """)
    for delay in (0.3, 0.45, 0.6, 0.75):
        proc = subprocess.Popen([sys.executable, "-c", script], cwd=REPO)
        time.sleep(delay + 0.4)  # interpreter start-up, then saves in a tight loop
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        q = load_project(p.root)  # never half a file
        assert q.name == "x"
    assert load_project(p.root).settings["train"]["n"] > 1


def test_create_refuses_existing_and_bad_input(tmp_path):
    create_project(tmp_path / "p", "x")
    with pytest.raises(ProjectError, match="already holds"):
        create_project(tmp_path / "p", "y")
    with pytest.raises(ProjectError, match="name"):
        create_project(tmp_path / "q", "  ")
    with pytest.raises(ProjectError, match="not supported"):
        create_project(tmp_path / "r", "x", language="fr")


def test_layout_paths():
    lay = Layout(Path("/p"), "s")
    assert lay.list_file == Path("/p/asr/s.list")
    assert lay.exp_dir == Path("/p/logs/s")
    assert lay.rel("/p/audio/x.wav") == "audio/x.wav"


def test_slugs():
    assert slugify("My Voice!") == "my-voice"
    assert slugify("Zoë") == "zoe"
    assert slugify("我的声音") == "wo-de-sheng-yin"
    s = slugify("Γειά σου")
    assert s.isascii() and s
