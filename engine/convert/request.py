"""The voice changer's request: every knob declared once (JSON-able, no heavy imports)."""
from __future__ import annotations

from dataclasses import dataclass, field

from engine.settings import knob

TEXT_LANGS = ("zh", "en", "ja", "auto")  # as synthesis: zh/ja also read English words
DEVICES = ("auto", "cpu", "cuda")


@dataclass
class ConvertRequest:
    project_root: str
    # Files and/or folders of speech (folders: their audio files, not searched deeper).
    sources: list[str] = field(default_factory=list)
    text: str = knob("", "What the source says (empty: the project's ASR transcribes each "
                         "piece); only with a single source file", label="Source text")
    language: str = knob("zh", "Language of the source speech (zh/ja also read English "
                               "words; auto: per run)", choices=TEXT_LANGS)
    ref_wav: str = knob("", "Reference clip (3–10 s) whose timbre the result takes; "
                            "relative to the project (empty: a proofread clip is picked)",
                        label="Reference clip")
    sovits_path: str = knob("", "SoVITS weights (.pth; empty: the newest in SoVITS_weights/)",
                            label="SoVITS weights")
    pitch_semitones: float = knob(0.0, "Shift the result's pitch (0: as the voice speaks)",
                                  min=-12.0, max=12.0, unit="semitones", label="Pitch shift")
    speed: float = knob(1.0, "Speaking speed of the result (1: the source's timing)",
                        min=0.5, max=2.0)
    noise_scale: float = knob(0.5, "Variation the decoder adds (upstream's 0.5)", min=0.0,
                              max=1.0)
    seed: int = knob(1234, "Random seed of the decoder's noise (same seed: same result)",
                     min=0, max=2**31 - 1)
    max_clip_s: float = knob(20.0, "Sources longer than this are cut at pauses into pieces "
                                   "at most this long, and joined back with the same gaps",
                             min=2.0, max=60.0, unit="s", label="Longest piece")
    threshold_db: float = knob(-34.0, "RMS below this counts as a pause where a long source "
                                      "may be cut", min=-90.0, max=0.0, unit="dB",
                               label="Pause threshold")
    device: str = knob("auto", "Where to run", choices=DEVICES)
    hubert_dir: str = knob("", "Folder of chinese-hubert-base (empty: the models folder)",
                           label="HuBERT folder")
    allow_download: bool = knob(True, "Download a missing HuBERT (and ASR model) from Hugging "
                                      "Face", label="Allow downloads")
