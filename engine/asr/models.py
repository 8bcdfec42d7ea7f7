"""Which ASR models exist, where they come from, and which one to use for a language.

The tutorials' rule: Faster-Whisper large-v3 for English and Japanese (and Korean), the
Damo Paraformer for Chinese. Cantonese goes to SenseVoiceSmall (upstream's UniASR
Cantonese model is not in FunASR's name map).
"""
from __future__ import annotations

from dataclasses import dataclass

from engine.hub import ModelSpec

WHISPER_FILES = ("model.bin", "config.json", "tokenizer.json", "vocabulary.*")
WHISPER_OPTIONAL = ("preprocessor_config.json",)
_WHISPER_REPOS = {
    "tiny": "Systran/faster-whisper-tiny", "base": "Systran/faster-whisper-base",
    "small": "Systran/faster-whisper-small", "medium": "Systran/faster-whisper-medium",
    "medium.en": "Systran/faster-whisper-medium.en",
    "large-v2": "Systran/faster-whisper-large-v2", "large-v3": "Systran/faster-whisper-large-v3",
    "large-v3-turbo": "mobiuslabsgmbh/faster-whisper-large-v3-turbo",
}
WHISPER_MODELS = tuple(_WHISPER_REPOS)

FUNASR_FILES = ("config.yaml", "model.pt")
FUNASR_OPTIONAL = ("configuration.json", "tokens.json", "tokens.txt", "am.mvn", "bpe.model",
                   "seg_dict", "*.yaml", "*.json")
_FUNASR_REPOS = {  # ModelScope ids (what upstream's funasr_asr.py uses)
    "paraformer-zh": "iic/speech_paraformer-large_asr_nat-zh-cn-16k-common-vocab8404-pytorch",
    "sensevoice": "iic/SenseVoiceSmall",
    "fsmn-vad": "iic/speech_fsmn_vad_zh-cn-16k-common-pytorch",
    "ct-punc": "iic/punc_ct-transformer_zh-cn-common-vocab272727-pytorch",
}
FUNASR_MODELS = ("paraformer-zh", "sensevoice")
# Paraformer-large has no punctuation and a 60 s input limit: upstream adds VAD + punctuation.
FUNASR_COMPANIONS = {"paraformer-zh": ("fsmn-vad", "ct-punc")}


def whisper_spec(name: str) -> ModelSpec:
    if name not in _WHISPER_REPOS:
        raise KeyError(name)
    return ModelSpec(f"faster-whisper-{name}", _WHISPER_REPOS[name], WHISPER_FILES,
                     optional=WHISPER_OPTIONAL)


def funasr_spec(name: str) -> ModelSpec:
    if name not in _FUNASR_REPOS:
        raise KeyError(name)
    return ModelSpec(f"funasr-{name}", _FUNASR_REPOS[name], FUNASR_FILES, source="ms",
                     optional=FUNASR_OPTIONAL)


def backend_of(model: str) -> str:
    return "funasr" if model in _FUNASR_REPOS else "faster-whisper"


@dataclass(frozen=True)
class Recommendation:
    backend: str
    model: str
    reason: str


def recommend(language: str, device: str = "cpu") -> Recommendation:
    """The tutorials' choice for ``language``; a smaller Whisper on CPU, where large-v3
    takes several seconds per clip."""
    if language == "zh":
        return Recommendation("funasr", "paraformer-zh",
                              "Chinese: the Damo Paraformer (with VAD and punctuation), as the "
                              "tutorials do")
    if language == "yue":
        return Recommendation("funasr", "sensevoice", "Cantonese: SenseVoiceSmall")
    if device == "cuda":
        return Recommendation("faster-whisper", "large-v3",
                              "Faster-Whisper large-v3, as the tutorials do for English, "
                              "Japanese and Korean")
    return Recommendation("faster-whisper", "small",
                          "Faster-Whisper small on CPU (large-v3 is the tutorials' choice on "
                          "a GPU; pick it if you can wait)")
