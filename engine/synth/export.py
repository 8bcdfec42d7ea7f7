"""Take it home (journey step 11): a bundle folder (and zip) that loads in upstream's own
tools as well as ours.

    <slug>-export/
      GPT_weights_v2/<slug>-e<E>.ckpt       copied byte for byte (upstream's format)
      SoVITS_weights_v2/<slug>_e<E>_s<S>.pth
      reference/<clip>.wav                  the reference clip, 3–10 s
      reference/reference.list              its line in upstream's .list dialect
      voice.toml                            files, hashes, reference text, inference settings
      tts_infer.yaml                        upstream api_v2's config ("custom" section)
      README.txt                            where the files go in upstream GPT-SoVITS
      .gsv-export                           what export wrote (engine.synth.bundle)

Folder names follow upstream's per-version weight roots (v1: no suffix), so unpacking the
bundle into an upstream checkout puts the weights where its dropdowns look. Export writes only
into a new or empty folder or its own unchanged earlier bundle; anything else is refused."""
from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Iterator

from engine.events import Artifact, Event, Log, Progress, Result, StepError, StopToken
from engine.settings import validate
from engine.synth.request import ExportRequest, SynthRequest

STEP = "synthesize"
SETTINGS_FILE = "voice.toml"
INFERENCE_KEYS = ("top_k", "top_p", "temperature", "repetition_penalty", "speed", "pause_s",
                  "cut_method")
_README = """\
Voice "{name}" exported by gsv-tui {when}.

In upstream GPT-SoVITS ({version}):
  1. Copy {gpt} and {sovits} into the same folders of your GPT-SoVITS checkout.
  2. Start the inference WebUI (1C) and pick them in the GPT and SoVITS weight lists.
  3. Reference audio: {ref}; its text: {text} (language: {lang}).
  4. Suggested settings are in voice.toml [inference] (upstream's defaults unless you
     changed them in gsv-tui).
  5. Or serve it with upstream's API: copy tts_infer.yaml into GPT_SoVITS/configs/ and run
     `python api_v2.py -c GPT_SoVITS/configs/tts_infer.yaml` (without a GPU set device: cpu
     and is_half: false in it).
{pro_note}In gsv-tui: `gsv synthesize --gpt <bundle>/{gpt} --sovits <bundle>/{sovits} --ref <bundle>/{ref}`.
"""


PRETRAINED_DIR = "GPT_SoVITS/pretrained_models"
# upstream has no config key for the v2Pro speaker model: sv.py opens this path relative to
# the working directory of the WebUI / api_v2.py (spec upstream-v2pro §7, §9)
SV_MODEL_PATH = f"{PRETRAINED_DIR}/sv/pretrained_eres2netv2w24s4ep4.ckpt"
# upstream's own tts_infer.yaml entries for the Pro versions (its bases)
PRO_BASES = {"v2Pro": ("s1v3.ckpt", "v2Pro/s2Gv2Pro.pth"),
             "v2ProPlus": ("s1v3.ckpt", "v2Pro/s2Gv2ProPlus.pth")}


def _section(name: str, version: str, gpt: str, sovits: str) -> str:
    pre = PRETRAINED_DIR
    return (f"{name}:\n  bert_base_path: {pre}/chinese-roberta-wwm-ext-large\n"
            f"  cnhuhbert_base_path: {pre}/chinese-hubert-base\n"  # upstream's spelling
            f"  device: cuda\n  is_half: true\n  t2s_weights_path: {gpt}\n"
            f"  version: {version}\n  vits_weights_path: {sovits}\n")


def tts_infer_yaml(version: str, gpt: str, sovits: str) -> str:
    """Upstream api_v2's config file with our weights as its "custom" entry; paths are
    relative to an upstream checkout (where its own pretrained folders are). For v2Pro /
    v2ProPlus also the version's own entry with upstream's bases (s1v3.ckpt, the version's
    s2G) and a note on the speaker model, which upstream finds by a fixed path."""
    text = _section("custom", version, gpt, sovits)
    if version in PRO_BASES:
        g, s = PRO_BASES[version]
        text = (f"# {version}: api_v2.py also needs {SV_MODEL_PATH}\n"
                "# (the speaker model; no key for it here, upstream opens that path)\n"
                + text + _section(version, version, f"{PRETRAINED_DIR}/{g}",
                                  f"{PRETRAINED_DIR}/{s}"))
    return text


def weight_dirs(version: str) -> tuple[str, str]:
    """(GPT, SoVITS) folder names upstream uses for this model version (spec §3.3)."""
    suffix = "" if version == "v1" else f"_{version}"
    return f"GPT_weights{suffix}", f"SoVITS_weights{suffix}"


def _copy(src: Path, dest: Path) -> str:
    from engine.project import hash_path

    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dest)
    digest = hash_path(dest)
    if digest != hash_path(src):
        raise StepError(f"The copy of {src.name} differs from the original.",
                        "Check free disk space and export again.")
    return digest


def _inference_settings(project_root: Path) -> dict:
    """The project's synthesize settings (upstream's defaults where unchanged)."""
    from engine.settings import apply

    try:
        from engine.project import load_project

        stored = load_project(project_root).step_settings("synthesize")
    except Exception:  # noqa: BLE001 -- a bare folder: defaults
        stored = {}
    req = apply(SynthRequest, stored, project_root=str(project_root))
    return {k: getattr(req, k) for k in INFERENCE_KEYS}


def run_export(req: ExportRequest, stop: StopToken | None = None) -> Iterator[Event]:
    validate(req)
    from engine.synth import bundle, reference, weights

    root = Path(req.project_root).expanduser()
    layout, version = weights.project_of(root)
    gpt = weights.pick(layout, req.gpt_path, "GPT")
    sovits = weights.pick(layout, req.sovits_path, "SoVITS")
    ref = reference.resolve(layout, req.ref_wav, req.ref_text, req.ref_language)
    dest = layout.abs(req.dest) if req.dest else layout.output_dir / f"{layout.slug}-export"
    # Refuse before copying a byte: the folder (and the zip beside it) must be ours to write.
    owned = bundle.check_dest(dest)
    if req.make_zip:
        bundle.check_zip(dest.with_name(dest.name + ".zip"), dest.name)
    bundle.remove_leftovers(dest)
    staging = bundle.new_staging(dest)
    try:
        yield from _fill(staging, layout, version, gpt, sovits, ref, root)
        bundle.write_marker(staging)
        bundle.swap_in(staging, dest, owned)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    yield Artifact(layout.rel(dest), kind="bundle")
    yield Log(f"Bundle folder: {layout.rel(dest)}")
    files = _files(layout, version, gpt, sovits, ref)
    data = {"path": layout.rel(dest), "gpt": files["gpt"], "sovits": files["sovits"],
            "ref": files["ref"]}
    if req.make_zip:
        z = bundle.write_zip(dest)
        yield Artifact(layout.rel(z), kind="bundle")
        data["zip"] = layout.rel(z)
    yield Result(f"Exported the voice to {layout.rel(dest)}"
                 + (f" and {data['zip']}" if "zip" in data else "") + ".", data)


def _files(layout, version: str, gpt: Path, sovits: Path, ref) -> dict[str, str]:
    gpt_dir, sovits_dir = weight_dirs(version)
    return {"gpt": f"{gpt_dir}/{gpt.name}", "sovits": f"{sovits_dir}/{sovits.name}",
            "ref": f"reference/{layout.abs(ref.wav).name}"}


def _fill(staging: Path, layout, version: str, gpt: Path, sovits: Path, ref, root: Path
          ) -> Iterator[Event]:
    """Write the whole bundle into ``staging``."""
    import tomli_w

    from engine.atomic import atomic_write_text

    files = _files(layout, version, gpt, sovits, ref)
    hashes = {}
    for n, (key, src) in enumerate((("gpt", gpt), ("sovits", sovits), ("ref", layout.abs(ref.wav)))):
        hashes[key] = _copy(src, staging / files[key])
        yield Progress(STEP, n + 1, 3, message=f"copied {src.name}")
    when = time.strftime("%Y-%m-%d %H:%M:%S")
    lang = ref.language.upper()
    atomic_write_text(staging / "reference" / "reference.list",
                      f"{files['ref']}|{layout.slug}|{lang}|{ref.text}\n")
    doc = {
        "voice": {"name": layout.slug, "version": version, "exported": when,
                  "gpt": files["gpt"], "sovits": files["sovits"],
                  "gpt_sha256": hashes["gpt"], "sovits_sha256": hashes["sovits"]},
        "reference": {"wav": files["ref"], "text": ref.text, "language": ref.language,
                      "seconds": ref.seconds, "sha256": hashes["ref"]},
        "inference": _inference_settings(root),
    }
    if version in PRO_BASES:  # where upstream opens the speaker model (not in the bundle)
        doc["voice"]["speaker_model"] = SV_MODEL_PATH
    atomic_write_text(staging / SETTINGS_FILE, tomli_w.dumps(doc))
    atomic_write_text(staging / "tts_infer.yaml",
                      tts_infer_yaml(version, files["gpt"], files["sovits"]))
    atomic_write_text(staging / "README.txt", _README.format(
        name=layout.slug, when=when, version=version, gpt=files["gpt"], sovits=files["sovits"],
        ref=files["ref"], text=ref.text, lang=ref.language,
        pro_note=(f"This {version} voice also needs upstream's speaker model at {SV_MODEL_PATH}\n"
                  "(part of upstream's pretrained models; `gsv models` fetches it for gsv-tui).\n"
                  if version in PRO_BASES else "")))
