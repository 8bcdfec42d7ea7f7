"""`gsv models` and `gsv doctor` know the v2Pro/v2ProPlus pretrained files under upstream's
names: the two SoVITS bases (pretrained_models/v2Pro/), s1v3.ckpt and the speaker model."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from engine.doctor import check_models
from engine.hub import PRETRAINED, default_dir
from engine.model_catalog import catalog

REPO = Path(__file__).resolve().parents[3]


def test_catalog_lists_pro_files_once_each():
    specs = catalog()
    files = {n: specs[n].files for n in ("sovits-base-v2ProPlus", "sovits-base-v2Pro",
                                         "gpt-base-s1v3", "speaker-sv")}
    assert files == {"sovits-base-v2ProPlus": ("s2Gv2ProPlus.pth", "s2Dv2ProPlus.pth"),
                     "sovits-base-v2Pro": ("s2Gv2Pro.pth", "s2Dv2Pro.pth"),
                     "gpt-base-s1v3": ("s1v3.ckpt",),
                     "speaker-sv": ("pretrained_eres2netv2w24s4ep4.ckpt",)}
    assert len({id(s) for s in specs.values()}) == len(specs)  # one line per file set
    out = subprocess.run([sys.executable, "-m", "gsv_tui.cli", "models"], cwd=REPO,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0
    for name in files:
        assert name in out.stdout


def test_doctor_names_missing_pro_files_then_is_content(gsv_home):
    check = check_models()
    assert check.status == "warn"
    for part in ("v2Pro/s2Gv2ProPlus.pth", "v2Pro/s2Gv2Pro.pth", "gsv-s1v3-pretrained", "sv"):
        assert part in check.detail
    for spec in PRETRAINED.values():  # every file where the hub looks
        folder = default_dir(spec)
        folder.mkdir(parents=True, exist_ok=True)
        for f in spec.files:
            (folder / f).write_bytes(b"x")
    check = check_models()
    assert check.status == "ok" and "v2Pro/v2ProPlus" in check.detail
