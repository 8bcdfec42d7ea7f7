"""A project can be a v2Pro or v2ProPlus one: `gsv new --version` offers all four versions
(v2ProPlus by default), the version is stored and read back, and the train step finds the Pro pretrained bases
(upstream's v2Pro/ folder and s1v3.ckpt) under their upstream names."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from engine.project import MODEL_VERSIONS, load_project

REPO = Path(__file__).resolve().parents[3]


def _gsv(*args: str, home: Path) -> subprocess.CompletedProcess:
    env = {"HOME": str(home), "PATH": "/usr/bin:/bin", "XDG_CONFIG_HOME": str(home / ".config")}
    return subprocess.run([sys.executable, "-m", "gsv_tui.cli", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)


def test_model_versions():
    assert MODEL_VERSIONS == ("v1", "v2", "v2Pro", "v2ProPlus")


def test_gsv_new_offers_and_stores_pro_versions(tmp_path):
    helptext = _gsv("new", "--help", home=tmp_path).stdout
    assert "{v1,v2,v2Pro,v2ProPlus}" in helptext
    out = _gsv("new", "Pro voice", "--dir", str(tmp_path / "p"), "--version", "v2ProPlus",
               home=tmp_path)
    assert out.returncode == 0, out.stderr
    assert load_project(tmp_path / "p").version == "v2ProPlus"
    out = _gsv("new", "Plain", "--dir", str(tmp_path / "q"), home=tmp_path)
    # the default is upstream's recommendation now that format/train/synthesis handle it
    assert out.returncode == 0 and load_project(tmp_path / "q").version == "v2ProPlus"
    for version in MODEL_VERSIONS:  # each version explained in one line
        assert f"{version}:" in " ".join(helptext.split())
    bad = _gsv("new", "x", "--dir", str(tmp_path / "r"), "--version", "v4", home=tmp_path)
    assert bad.returncode != 0 and "invalid choice" in bad.stderr


@pytest.mark.parametrize("version,g,d", [("v2Pro", "s2Gv2Pro.pth", "s2Dv2Pro.pth"),
                                         ("v2ProPlus", "s2Gv2ProPlus.pth", "s2Dv2ProPlus.pth")])
def test_pretrained_bases_for_pro(version, g, d):
    from engine.train.pretrained import GPT_BASE, GPT_FILE, SOVITS_BASE, SOVITS_FILES

    assert SOVITS_FILES[version] == (g, d)
    spec = SOVITS_BASE[version]
    assert (spec.repo_id, spec.subfolder, spec.name, spec.files) == \
        ("lj1995/GPT-SoVITS", "v2Pro", "v2Pro", (g, d))  # upstream's pretrained_models/v2Pro/
    assert GPT_FILE[version] == "s1v3.ckpt"
    assert (GPT_BASE[version].repo_id, GPT_BASE[version].subfolder) == ("lj1995/GPT-SoVITS", "")
