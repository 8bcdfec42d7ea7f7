"""The v2Pro/v2ProPlus speaker model: ERes2NetV2 with its Kaldi fbank front end and the
32 -> 16 kHz resampler upstream uses (see NOTES.md for how close each part is)."""
from engine.models.sv.eres2netv2 import EMBED_DIM, ERes2NetV2
from engine.models.sv.model import SV_FILE, SpeakerEncoder, SvModelError

__all__ = ["EMBED_DIM", "ERes2NetV2", "SV_FILE", "SpeakerEncoder", "SvModelError"]
