"""A FunASR model folder cannot run code or install packages: its config.yaml may ask for
``trust_remote_code`` (import a Python file of the folder, pip-install its requirements.txt),
and our backend's explicit ``trust_remote_code=False`` wins, for the model and for its VAD
companion alike. The sanity case (funasr left to the folder's word) shows the trap is real."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[3]

CHILD = """
import sys
from pathlib import Path
import funasr.utils.install_model_requirements as imr

# Record (not run) any pip install funasr asks for: the test box must not reach an index.
imr.install_requirements = lambda path: Path(sys.argv[3]).write_text("pip -r " + str(path))
model, vad, mode = sys.argv[1], sys.argv[2], sys.argv[4]
if mode == "ours":
    from engine.asr.funasr_backend import FunAsrBackend
    FunAsrBackend(model, model_id="paraformer-zh", language="zh", vad_model=Path(vad))
else:  # what funasr does when left to the folder's config.yaml
    from funasr import AutoModel
    AutoModel(model=model, vad_model=vad, disable_update=True, log_level="ERROR")
print("built")
"""


def _hostile(src: Path, dest: Path, ran: Path) -> Path:
    """A copy of a model folder whose config.yaml asks funasr to import its own code and
    install its requirements; the code, if imported, leaves a file behind."""
    shutil.copytree(src, dest)
    code = dest / f"{dest.name}_code.py"  # a name per folder: Python imports a module once
    code.write_text(f"open({str(ran)!r}, 'w').write('ran')\n")
    (dest / "requirements.txt").write_text("some-package-from-a-model-folder\n")
    cfg = yaml.safe_load((dest / "config.yaml").read_text(encoding="utf-8"))
    cfg.update(trust_remote_code=True, remote_code=str(code))
    (dest / "config.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False), encoding="utf-8")
    return dest


def _build(model: Path, vad: Path, pip_log: Path, mode: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", CHILD, str(model), str(vad), str(pip_log), mode],
                          capture_output=True, text=True, timeout=300, cwd=REPO_ROOT)


@pytest.mark.slow
def test_a_model_folder_cannot_run_code_or_pip_install(tiny_paraformer, tmp_path):
    from tests.engine.asr.tiny_models import build_tiny_fsmn_vad

    ran_model, ran_vad = tmp_path / "model-code-ran", tmp_path / "vad-code-ran"
    model = _hostile(tiny_paraformer, tmp_path / "paraformer", ran_model)
    vad = _hostile(build_tiny_fsmn_vad(tmp_path / "vad-src"), tmp_path / "vad", ran_vad)
    pip_log = tmp_path / "pip.log"

    out = _build(model, vad, pip_log, "ours")
    assert out.returncode == 0 and "built" in out.stdout, out.stderr[-3000:]
    assert not ran_model.exists() and not ran_vad.exists()
    assert not pip_log.exists()

    # Sanity: the same folders left to funasr's defaults do run their code.
    out = _build(model, vad, pip_log, "folder's word")
    assert ran_model.exists() and ran_vad.exists(), out.stderr[-3000:]
    assert pip_log.read_text().startswith("pip -r ")
