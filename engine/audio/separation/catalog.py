"""The separation model files ``gsv models`` knows: name, family, where to get them, licence.

Upstream's UVR5 tab fetches its VR and FoxJoy models from the RVC project's model repository
(uvr5_weights/); they land in ``<models>/uvr5/``, where the Clean step looks. Files whose
publisher states no licence we can check are listed with where to get them and fetched by
hand (``fetch`` None)."""
from __future__ import annotations

from dataclasses import dataclass

from engine.hub import ModelSpec

_RVC = "lj1995/VoiceConversionWebUI"
_RVC_LICENCE = "MIT (the RVC project's repository; UVR5 models by Anjok07 and aufr33)"


@dataclass(frozen=True)
class SepModel:
    name: str
    family: str  # vr | mdx | mdxc (engine.audio.separation.families)
    files: tuple[str, ...]
    where: str
    licence: str
    use: str
    fetch: ModelSpec | None  # None: fetch by hand from ``where``


def _vr(name: str, file: str, use: str) -> SepModel:
    return SepModel(name, "vr", (file,), f"huggingface.co/{_RVC} uvr5_weights/", _RVC_LICENCE,
                    use, ModelSpec("uvr5", _RVC, (file,), subfolder="uvr5_weights"))


SEPARATION: tuple[SepModel, ...] = (
    _vr("uvr5-hp2-all-vocals", "HP2_all_vocals.pth", "voice from music (keeps harmonies)"),
    _vr("uvr5-hp3-all-vocals", "HP3_all_vocals.pth", "voice from music"),
    _vr("uvr5-hp5-only-main-vocal", "HP5_only_main_vocal.pth", "main voice only"),
    _vr("uvr5-deecho-aggressive", "VR-DeEchoAggressive.pth", "remove echo (strong)"),
    _vr("uvr5-deecho-normal", "VR-DeEchoNormal.pth", "remove echo"),
    _vr("uvr5-deecho-dereverb", "VR-DeEchoDeReverb.pth", "remove echo and reverb"),
    SepModel("uvr5-onnx-dereverb", "mdx", ("vocals.onnx",),
             f"huggingface.co/{_RVC} uvr5_weights/onnx_dereverb_By_FoxJoy/", _RVC_LICENCE,
             "remove reverb (MDX-Net)",
             ModelSpec("uvr5/onnx_dereverb_By_FoxJoy", _RVC, ("vocals.onnx",),
                       subfolder="uvr5_weights/onnx_dereverb_By_FoxJoy")),
    SepModel("bs-roformer-vocals", "mdxc",
             ("model_bs_roformer_ep_317_sdr_12.9755.ckpt",
              "model_bs_roformer_ep_317_sdr_12.9755.yaml"),
             "UVR's model repository (TRvlvr/model_repo on GitHub, releases)",
             "not stated by its publisher: fetch by hand", "voice from music (RoFormer)", None),
    SepModel("mel-roformer-vocals", "mdxc", ("MelBandRoformer.ckpt", "MelBandRoformer.yaml"),
             "KimberleyJensen/Mel-Band-Roformer-Vocal-Model on GitHub (links to the weights)",
             "not checked here: fetch by hand", "voice from music (Mel-Band RoFormer)", None),
)


def by_name() -> dict[str, SepModel]:
    return {m.name: m for m in SEPARATION}
