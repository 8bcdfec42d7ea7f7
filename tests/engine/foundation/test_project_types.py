"""Wrong types in project.toml get a sentence naming the key, the type expected and the
backup to restore, never a traceback; runs outside the wizard (export, listen) keep their
own status."""
from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import tomli_w

from engine.project import ProjectError, create_project, load_project, record_step
from engine.steps import RUN_IDS

REPO = Path(__file__).resolve().parents[3]
GSV = Path(sys.executable).with_name("gsv")


def _set(doc: dict, dotted: str, value) -> None:
    *parents, last = dotted.split(".")
    for key in parents:
        doc = doc.setdefault(key, {})
    doc[last] = value


BAD = [
    ("settings", "x", "settings should be a table", "not text ('x')"),
    ("settings.slice", 3, "settings.slice should be a table", "not a number (3)"),
    ("steps", [1], "steps should be a table", "not a list ([1])"),
    ("steps.train", "x", "steps.train should be a table", "not text ('x')"),
    ("name", 5, "name should be text", "not a number (5)"),
    ("slug", True, "slug should be text", "not true/false (true)"),
    ("language", ["en"], "language should be text", "not a list"),
    ("created", 3.5, "created should be text", "not a number (3.5)"),
    ("steps.slice.status", 1, "steps.slice.status should be text", "not a number (1)"),
    ("steps.slice.message", ["a"], "steps.slice.message should be text", "not a list"),
    ("steps.slice.artifacts", "clips", "steps.slice.artifacts should be a list of tables", "not text"),
    ("steps.slice.artifacts", [3], "steps.slice.artifacts[0] should be a table", "not a number (3)"),
    ("steps.slice.artifacts", [{"path": 3}], "steps.slice.artifacts[0].path should be text", "(3)"),
]


def _broken(tmp_path, key, value) -> Path:
    p = create_project(tmp_path / "p", "x")
    record_step(p.root, "slice", "done", message="ok")  # a second save: the first is the backup
    doc = tomllib.loads(p.file.read_text(encoding="utf-8"))
    _set(doc, key, value)
    p.file.write_text(tomli_w.dumps(doc), encoding="utf-8")
    return p.root


@pytest.mark.parametrize("key, value, says, found", BAD)
def test_a_wrong_type_names_the_key_the_type_and_the_backup(tmp_path, key, value, says, found):
    root = _broken(tmp_path, key, value)
    with pytest.raises(ProjectError) as err:
        load_project(root)
    msg = str(err.value)
    assert says in msg and found in msg
    assert err.value.backup == root / "project.toml.bak"
    assert f"gsv restore-backup {root}" in msg


@pytest.mark.parametrize("key, value, says, found", [BAD[0], BAD[1], BAD[3], BAD[4], BAD[10]])
def test_gsv_status_on_a_wrong_type_prints_the_sentence_not_a_traceback(tmp_path, key, value, says, found):
    root = _broken(tmp_path, key, value)
    out = subprocess.run([str(GSV), "status", "-C", str(root)], cwd=REPO, capture_output=True,
                         text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert out.returncode == 2
    assert says in out.stderr and "restore-backup" in out.stderr
    assert "Traceback" not in out.stderr and "Traceback" not in out.stdout
    fixed = subprocess.run([str(GSV), "restore-backup", str(root)], cwd=REPO, capture_output=True,
                           text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert fixed.returncode == 0, fixed.stderr
    assert load_project(root).name == "x"


def test_export_and_listen_keep_their_own_status_in_order(tmp_path):
    p = create_project(tmp_path / "p", "x")
    wav = p.root / "output" / "a.wav"
    wav.parent.mkdir(parents=True)
    wav.write_bytes(b"RIFF")
    record_step(p.root, "synthesize", "done", message="spoke", artifacts=[(str(wav), "wav")])
    record_step(p.root, "listen", "done", message="listened")
    record_step(p.root, "export", "done", message="exported", artifacts=[(str(wav), "wav")])
    q = load_project(p.root)
    assert q.step("export").status == "done" and q.step("export").artifacts[0].path == "output/a.wav"
    assert q.step("listen").message == "listened"
    assert q.step("synthesize").status == "done" and q.step("synthesize").message == "spoke"
    steps = list(tomllib.loads(p.file.read_text(encoding="utf-8"))["steps"])
    assert steps == [s for s in RUN_IDS if s in steps] and {"export", "listen"} <= set(steps)
