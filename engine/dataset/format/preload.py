"""What the fan-out's fork server imports once (multiprocessing's forkserver preload), so
each worker forked from it starts with torch, transformers' BERT and HuBERT, the resampler
and the G2P of the run's languages (the server imports those engine.text modules first)
already in memory: N workers pay those seconds once, not N times each. Imports and
dictionary loads only: nothing here may start a thread or touch a GPU, which would make
forking from this process unsafe. What fails here is left for the worker to do (and
report) itself."""
from __future__ import annotations

import sys
from importlib import import_module


def _warm() -> None:
    for name in ("torch", "numpy", "soundfile", "soxr", "librosa", "transformers",
                 "transformers.models.bert.modeling_bert",
                 "transformers.models.hubert.modeling_hubert",
                 "transformers.tokenization_utils_fast",
                 "engine.dataset.format.worker", "engine.dataset.format.models",
                 "engine.audio.decode", "engine.models.sovits.checkpoint",
                 "engine.models.sovits.quantizer", "engine.text"):
        try:
            import_module(name)
        except Exception:  # noqa: BLE001 -- a preload must never stop the fork server
            continue
    try:
        import librosa

        librosa.resample  # noqa: B018 -- lazy attribute: imports the resampling module
    except Exception:  # noqa: BLE001
        pass
    # First-use loads of dictionaries, in plain Python and numpy (no thread), for the
    # languages imported before us: jieba's word list, pypinyin's phrases, the English G2P
    # (g2p_en's import alone takes seconds). G2PW (onnxruntime, threads) is never touched.
    for module, warm in (("engine.text.chinese", _jieba), ("engine.text.chinese", _pinyin),
                         ("engine.text.english", _english)):
        if module in sys.modules:
            try:
                warm()
            except Exception:  # noqa: BLE001
                continue


def _jieba() -> None:
    from engine.text.chinese import _jieba as posseg

    posseg()
    import jieba

    jieba.initialize()


def _pinyin() -> None:
    from pypinyin import Style, lazy_pinyin

    lazy_pinyin("你好", style=Style.FINALS_TONE3)


def _english() -> None:
    from engine.text.english import _g2p, _import_g2p_en

    _import_g2p_en()
    _g2p()


_warm()
