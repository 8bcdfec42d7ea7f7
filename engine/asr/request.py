"""The ASR step's request: every knob declared once (JSON-able, no heavy imports)."""
from __future__ import annotations

from dataclasses import dataclass

from engine.settings import knob

BACKENDS = ("auto", "faster-whisper", "funasr")
LANGUAGES = ("auto", "zh", "en", "ja", "ko", "yue")
DEVICES = ("auto", "cpu", "cuda")
COMPUTE_TYPES = ("auto", "int8", "int8_float16", "int8_float32", "float16", "float32")


@dataclass
class AsrRequest:
    project_root: str
    clips_dir: str = knob("", "Clips folder (empty: the project's audio/slices)",
                          label="Clips folder")
    model_dir: str = knob("", "A local model folder; wins over the model name",
                          label="Model folder")
    speaker: str = knob("", "The .list speaker field (empty: the project's slug)")
    allow_download: bool = knob(True, "Download a missing model (off: local or cached only)",
                                label="Allow downloads")
    backend: str = knob("auto", "Recogniser; auto picks per language as the tutorials do",
                        choices=BACKENDS)
    model: str = knob("", "Model name (large-v3, small, paraformer-zh, sensevoice…); "
                      "empty: recommended for the language")
    language: str = knob("auto", "Spoken language; auto detects it per clip",
                         choices=LANGUAGES)
    device: str = knob("auto", "Where the model runs; auto uses CUDA when present",
                       choices=DEVICES)
    compute_type: str = knob("auto", "Whisper precision; auto: int8 on CPU, float16 on GPU",
                             choices=COMPUTE_TYPES, label="Whisper precision")
    beam_size: int = knob(5, "Whisper beam width (1 = greedy, fastest)", min=1, max=10,
                          label="Whisper beam")
    vad_filter: bool = knob(True, "Drop non-speech parts (Silero VAD) before Whisper",
                            label="VAD filter")
    vad_min_silence_ms: int = knob(700, "Silence that VAD treats as a pause", min=50,
                                   max=5000, unit="ms", label="VAD min silence")
    batch_size: int = knob(8, "30-second windows decoded together", min=1, max=64,
                           label="Windows per batch")
    pack_clips: bool = knob(True, "Pack several short clips into one 30 s Whisper window "
                            "(several times faster on CPU; words go back to clips by time)",
                            label="Pack clips")
    threads: int = knob(0, "CPU threads for the model (0: all cores)", min=0, max=256,
                        label="CPU threads")
