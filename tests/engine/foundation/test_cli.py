"""The headless `gsv` commands as a user runs them: real processes, real files."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]


def gsv(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gsv_tui.cli", *args], cwd=cwd or REPO,
                          capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)


def test_help_lists_every_step_command():
    out = gsv("--help")
    assert out.returncode == 0
    for cmd in ("new", "status", "jobs", "doctor", "demo", "import", "slice", "asr", "proofread",
                "format", "train"):
        assert cmd in out.stdout, cmd
    assert "unavailable" not in out.stdout  # every command module loaded


def test_new_then_status(tmp_path):
    out = gsv("new", "Моя речь", "--dir", str(tmp_path / "p"), "--language", "en")
    assert out.returncode == 0, out.stderr
    st = json.loads(gsv("status", "-C", str(tmp_path / "p"), "--json").stdout)
    assert st["name"] == "Моя речь" and st["slug"].isascii()
    assert st["steps"]["project"]["status"] == "done" and st["steps"]["import"]["status"] == "pending"
    again = gsv("new", "x", "--dir", str(tmp_path / "p"))
    assert again.returncode == 2 and "already holds a project" in again.stderr


def test_status_on_a_folder_without_project_says_what_to_do(tmp_path):
    out = gsv("status", "-C", str(tmp_path))
    assert out.returncode == 2 and "gsv new" in out.stderr


def test_restore_backup_after_a_hand_broken_file(tmp_path):
    gsv("new", "Backup", "--dir", str(tmp_path / "p"))
    gsv("status", "-C", str(tmp_path / "p"))
    f = tmp_path / "p" / "project.toml"
    good = f.read_text()
    from engine.project import record_step

    record_step(tmp_path / "p", "import", "done")  # a second save keeps the first as backup
    f.write_text("name = \"unterminated\n")
    bad = gsv("status", "-C", str(tmp_path / "p"))
    assert bad.returncode == 2 and "line 1" in bad.stderr and "restore-backup" in bad.stderr
    ok = gsv("restore-backup", str(tmp_path / "p"))
    assert ok.returncode == 0
    assert f.read_text() == good


def test_doctor_reports_each_check_with_a_fix():
    out = gsv("doctor")
    assert out.returncode == 0, out.stderr
    for name in ("GPU", "ffmpeg", "playback", "disk", "pretrained models"):
        assert name in out.stdout
    assert "fix:" in out.stdout  # this machine has no GPU, so at least that fix is shown


def test_demo_builds_a_project_without_downloads(tmp_path):
    out = gsv("demo", "--dir", str(tmp_path / "demo"), "--no-open")
    assert out.returncode == 0, out.stderr
    st = json.loads(gsv("status", "-C", str(tmp_path / "demo"), "--json").stdout)
    assert st["steps"]["slice"]["status"] == "done" and st["steps"]["asr"]["status"] == "done"
    lines = (tmp_path / "demo" / "asr" / "demo-voice.list").read_text().splitlines()
    assert len(lines) >= 6 and all(l.count("|") == 3 for l in lines)
    assert all(Path(l.split("|")[0]).exists() for l in lines)  # real clips from the real slicer
    # the demo opens the wizard; without a terminal it says how to get one instead of hanging
    opened = gsv("demo", "--dir", str(tmp_path / "demo"))
    assert opened.returncode == 2 and "ssh -t" in opened.stderr


def test_models_lists_and_offline_get_says_where_files_go(tmp_path):
    import os

    env = dict(os.environ, HF_HUB_OFFLINE="1")
    listing = subprocess.run([sys.executable, "-m", "gsv_tui.cli", "models"], cwd=REPO, env=env,
                             capture_output=True, text=True, timeout=120)
    assert listing.returncode == 0 and "whisper-large-v3" in listing.stdout and "sovits-base-v2" in listing.stdout
    # a model folder placed by hand is found without any download
    spec_dir = Path(os.environ["GSV_HOME"]) / "data" / "models" / "chinese-hubert-base"
    spec_dir.mkdir(parents=True)
    for f in ("config.json", "preprocessor_config.json", "pytorch_model.bin"):
        (spec_dir / f).write_text("x")
    listing = subprocess.run([sys.executable, "-m", "gsv_tui.cli", "models"], cwd=REPO, env=env,
                             capture_output=True, text=True, timeout=120)
    assert any(l.startswith("✔ hubert-zh") for l in listing.stdout.splitlines())
    got = subprocess.run([sys.executable, "-m", "gsv_tui.cli", "models", "get", "bert-zh"], cwd=REPO,
                         env=env, capture_output=True, text=True, timeout=120)
    assert got.returncode == 1
    assert "chinese-roberta-wwm-ext-large" in got.stderr and "pytorch_model.bin" in got.stderr
