"""FunASR backend: Paraformer-large (Chinese, with FSMN VAD + CT punctuation) and
SenseVoiceSmall, through ``funasr.AutoModel`` from local folders only.

``disable_update=True`` stops AutoModel from asking a package index for a newer funasr on
every start; fbank comes from kaldi-native-fbank (no torchaudio, see ecosystem notes §1).
``trust_remote_code=False`` (for the model and each companion: funasr builds those from their
own kwargs) wins over a folder's ``config.yaml``, which could otherwise name a Python file to
import and make funasr pip-install the folder's ``requirements.txt``.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Iterator, Sequence

from engine.asr.backend import ClipAudio, ClipResult
from engine.asr.models import FUNASR_COMPANIONS

_TAG = re.compile(r"<\|([^|]*)\|>")
_SENSEVOICE_LANGS = {"zh", "en", "ja", "ko", "yue"}
# Passed explicitly: AutoModel merges our kwargs over the folder's config.yaml. No code from a
# model folder runs, nothing is pip-installed, and a local folder is never "updated".
_NO_REMOTE = {"trust_remote_code": False, "check_latest": False}


def companions(model: str) -> dict[str, str]:
    """Extra models a FunASR model needs, by AutoModel argument (vad_model, punc_model)."""
    names = FUNASR_COMPANIONS.get(model, ())
    return {role: name for role, name in zip(("vad_model", "punc_model"), names)}


def _space_cjk(text: str) -> str:
    """Paraformer's char tokenizer may leave spaces between CJK characters; drop them."""
    return re.sub(r"(?<=[\u3000-\u9fff])\s+(?=[\u3000-\u9fff])", "", text).strip()


class FunAsrBackend:
    name = "funasr"

    def __init__(self, model_path: Path | str, *, model_id: str = "", device: str = "cpu",
                 language: str = "auto", batch_size: int = 8,
                 vad_model: Path | None = None, punc_model: Path | None = None) -> None:
        import logging

        from funasr import AutoModel

        self.model_id = model_id or Path(model_path).name
        self.language = language
        self.batch_size = batch_size
        kw: dict[str, object] = dict(model=str(model_path), device=device, disable_update=True,
                                     disable_pbar=True, log_level="ERROR", **_NO_REMOTE)
        if vad_model is not None:
            kw["vad_model"] = str(vad_model)
            kw["vad_kwargs"] = dict(_NO_REMOTE)
        if punc_model is not None:
            kw["punc_model"] = str(punc_model)
            kw["punc_kwargs"] = dict(_NO_REMOTE)
        logging.disable(logging.INFO)  # companions' loaders log at INFO whatever log_level says
        try:
            self.model = AutoModel(**kw)
        finally:
            logging.disable(logging.NOTSET)
        self._vad = vad_model is not None

    @property
    def group_size(self) -> int:
        return self.batch_size * 4

    def _generate(self, audio):
        kw: dict[str, object] = {}
        if "sensevoice" in self.model_id.lower() or "SenseVoice" in type(self.model.model).__name__:
            kw = dict(language=self.language if self.language != "auto" else "auto",
                      use_itn=True)
        return self.model.generate(input=audio, batch_size=1 if self._vad else self.batch_size,
                                   **kw)

    def _result(self, clip: ClipAudio, out: dict) -> ClipResult:
        raw = str(out.get("text", ""))
        tags = _TAG.findall(raw)
        lang = next((t for t in tags if t in _SENSEVOICE_LANGS), "")
        if tags:
            from funasr.utils.postprocess_utils import rich_transcription_postprocess

            raw = rich_transcription_postprocess(raw)
        if not lang:
            lang = self.language if self.language != "auto" else "zh"
        return ClipResult(clip.key, text=_space_cjk(raw), language=lang)

    def transcribe(self, clips: Sequence[ClipAudio]) -> Iterator[ClipResult]:
        try:  # one call for the whole group: results come back in input order
            outs = self._generate([c.audio for c in clips])
            if len(outs) != len(clips):
                raise RuntimeError("result count mismatch")
        except Exception:  # noqa: BLE001 -- fall back to one clip at a time to isolate it
            outs = None
        for k, clip in enumerate(clips):
            try:
                out = outs[k] if outs is not None else self._generate(clip.audio)[0]
                yield self._result(clip, out)
            except Exception as e:  # noqa: BLE001
                yield ClipResult(clip.key, error=f"transcription failed: {e}")
