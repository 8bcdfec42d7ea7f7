"""The whole journey, headless, as a user types it: demo project (espeak-ng speech, known
transcript) → format → train SoVITS then GPT (tiny, CPU) → synthesize → export. Real
processes and files at every step; tiny random models where the real ones are gigabytes."""
from __future__ import annotations

import json
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
import soundfile as sf
import yaml

REPO = Path(__file__).resolve().parents[2]
TINY_GPT = {"embedding_dim": 16, "hidden_dim": 16, "head": 2, "linear_units": 32, "n_layer": 1}


def gsv(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    out = subprocess.run([sys.executable, "-m", "gsv_tui.cli", *map(str, args)], cwd=REPO,
                         capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    assert out.returncode == 0, f"gsv {' '.join(map(str, args))}\n{out.stdout}\n{out.stderr}"
    return out


def status(root: Path) -> dict:
    return json.loads(gsv("status", "-C", root, "--json").stdout)["steps"]


@pytest.mark.slow
def test_demo_to_speech_and_export(tmp_path, bert_dir, hubert_dir, sovits_file):
    root = tmp_path / "voice"
    gsv("demo", "--dir", root, "--no-open")
    gsv("format", "-C", root, "--bert-dir", bert_dir, "--hubert-dir", hubert_dir,
        "--sovits", sovits_file, "--device", "cpu", "--offline")
    exp = root / "logs" / "demo-voice"
    n_clips = len((root / "asr" / "demo-voice.list").read_text().splitlines())
    assert len((exp / "6-name2semantic.tsv").read_text().splitlines()) == 1 + n_clips  # + header
    assert status(root)["format"]["status"] == "done"

    sovits = {"pretrained_g": str(sovits_file), "pretrained_d": "", "min_items_per_epoch": 0,
              "disc_width": 16, "save_every_epoch": 1}
    gpt = {"pretrained": "", "model": TINY_GPT, "save_every": 1, "max_sec": 5}
    gsv("train", "-C", root, "--device", "cpu", "--offline", "--sovits-epochs", 1,
        "--gpt-epochs", 2, "--sovits-batch-size", 3, "--gpt-batch-size", 3,
        "--sovits-json", json.dumps(sovits), "--gpt-json", json.dumps(gpt))
    assert status(root)["train"]["status"] == "done"
    sovits_w = sorted((root / "SoVITS_weights").glob("demo-voice_e*_s*.pth"))
    gpt_w = sorted((root / "GPT_weights").glob("demo-voice-e*.ckpt"))
    assert sovits_w and gpt_w

    gsv("synthesize", "-C", root, "--text", "Hello there. This voice was trained in a terminal.",
        "--bert-dir", bert_dir, "--hubert-dir", hubert_dir, "--device", "cpu", "--offline",
        "--seed", 7)
    wavs = sorted((root / "output").rglob("*.wav"))
    assert wavs
    info = sf.info(str(wavs[-1]))
    assert info.samplerate == 32000 and info.frames > 0
    assert status(root)["synthesize"]["status"] == "done"

    out = gsv("export", "-C", root)
    bundles = [p for p in root.rglob("*") if p.suffix == ".zip" or p.name.endswith("-bundle")]
    assert bundles, out.stdout
    if bundles[0].suffix == ".zip":
        names = zipfile.ZipFile(bundles[0]).namelist()
        assert any(n.endswith(".pth") for n in names) and any(n.endswith(".ckpt") for n in names)


@pytest.mark.slow
def test_v2proplus_demo_to_speech_and_export(tmp_path, bert_dir, hubert_dir, sovits_v2proplus,
                                             sv_model, gsv_home):
    """The same journey for upstream's recommended version: format writes 7-sv_cn/, SoVITS
    trains with the embeddings from the small upstream v2ProPlus export, synthesis uses the
    speaker model found in the models folder, the bundle says v2ProPlus."""
    root = tmp_path / "voice"
    gsv("demo", "--dir", root, "--no-open", "--version", "v2ProPlus")
    gsv("format", "-C", root, "--bert-dir", bert_dir, "--hubert-dir", hubert_dir,
        "--sovits", sovits_v2proplus, "--device", "cpu", "--offline")
    exp = root / "logs" / "demo-voice"
    n_clips = len((root / "asr" / "demo-voice.list").read_text().splitlines())
    assert len(list((exp / "7-sv_cn").glob("*.pt"))) == n_clips
    assert status(root)["format"]["status"] == "done"

    sovits = {"pretrained_g": str(sovits_v2proplus), "pretrained_d": "",
              "min_items_per_epoch": 0, "disc_width": 16, "save_every_epoch": 1}
    gpt = {"pretrained": "", "model": TINY_GPT, "save_every": 1, "max_sec": 5}
    gsv("train", "-C", root, "--device", "cpu", "--offline", "--sovits-epochs", 1,
        "--gpt-epochs", 2, "--sovits-batch-size", 3, "--gpt-batch-size", 3,
        "--sovits-json", json.dumps(sovits), "--gpt-json", json.dumps(gpt))
    assert status(root)["train"]["status"] == "done"
    sovits_w = sorted((root / "SoVITS_weights").glob("demo-voice_e*_s*.pth"))
    assert sovits_w and sovits_w[-1].read_bytes()[:2] == b"06"  # upstream's v2ProPlus header
    assert sorted((exp / "logs_s1_v2ProPlus").rglob("*"))  # upstream's per-version GPT folder

    gsv("synthesize", "-C", root, "--text", "Hello there. This voice was trained in a terminal.",
        "--bert-dir", bert_dir, "--hubert-dir", hubert_dir, "--device", "cpu", "--offline",
        "--seed", 7)
    wavs = sorted((root / "output").rglob("*.wav"))
    assert wavs and sf.info(str(wavs[-1])).frames > 0
    assert len(list((root / "runs" / "sv-cache").glob("*.pt"))) == 1  # the reference, once

    out = gsv("export", "-C", root)
    zips = [p for p in root.rglob("*.zip")]
    assert zips, out.stdout
    with zipfile.ZipFile(zips[0]) as z:
        names = z.namelist()
        yaml_name = next(n for n in names if n.endswith("/tts_infer.yaml"))
        infer = yaml.safe_load(z.read(yaml_name))
        voice = tomllib.loads(z.read(next(n for n in names if n.endswith("/voice.toml"))).decode())
    custom = infer["custom"]
    assert custom["version"] == "v2ProPlus"
    assert custom["vits_weights_path"].startswith("SoVITS_weights_v2ProPlus/")
    assert custom["t2s_weights_path"].startswith("GPT_weights_v2ProPlus/")
    assert infer["v2ProPlus"]["t2s_weights_path"].endswith("/s1v3.ckpt")
    assert any(n.endswith(custom["vits_weights_path"]) for n in names)
    assert voice["voice"]["speaker_model"] == \
        "GPT_SoVITS/pretrained_models/sv/pretrained_eres2netv2w24s4ep4.ckpt"
