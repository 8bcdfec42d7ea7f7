"""Model resolution: explicit folder → models dir → HF / ModelScope caches → (offline) a hint
that names the files and the folder."""
from __future__ import annotations

from pathlib import Path

import pytest

from engine.asr.models import funasr_spec, recommend, whisper_spec
from engine.events import StepError
from engine.hub import ensure_model, missing_files, resolve_local


def _fill(folder: Path, names: list[str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for n in names:
        (folder / n).write_bytes(b"x")
    return folder


WHISPER = ["model.bin", "config.json", "tokenizer.json", "vocabulary.txt"]


def _drain(gen):
    events = []
    try:
        while True:
            events.append(next(gen))
    except StopIteration as stop:
        return stop.value, events


def test_explicit_folder_wins_and_an_incomplete_one_names_missing_files(tmp_path):
    spec = whisper_spec("small")
    ok = _fill(tmp_path / "mine", WHISPER)
    assert resolve_local(spec, ok) == ok
    bad = _fill(tmp_path / "half", ["model.bin", "config.json"])
    assert missing_files(bad, spec) == ["tokenizer.json", "vocabulary.*"]
    with pytest.raises(StepError) as exc:
        resolve_local(spec, bad)
    assert "tokenizer.json" in exc.value.reason and str(bad) in exc.value.hint


def test_models_dir_is_used_before_any_cache(gsv_home):
    spec = whisper_spec("small")
    from engine.appconfig import models_dir

    own = _fill(models_dir() / "faster-whisper-small", WHISPER)
    assert str(own).startswith(str(gsv_home))
    path, events = _drain(ensure_model(spec, allow_download=False))
    assert path == own and events == []


def test_found_in_the_hugging_face_cache(tmp_path, monkeypatch):
    """A real huggingface_hub cache layout, read with local_files_only (no network)."""
    cache = tmp_path / "hf"
    repo = cache / "models--Systran--faster-whisper-small"
    snap = _fill(repo / "snapshots" / ("a" * 40), WHISPER)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("a" * 40)
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    assert resolve_local(whisper_spec("small")) == snap


def test_found_in_the_modelscope_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("MODELSCOPE_CACHE", str(tmp_path / "ms"))
    spec = funasr_spec("sensevoice")
    folder = _fill(tmp_path / "ms" / "models" / "iic" / "SenseVoiceSmall",
                   ["config.yaml", "model.pt", "tokens.json"])
    assert resolve_local(spec) == folder


def test_offline_error_says_which_files_go_where(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    spec = whisper_spec("large-v3")
    with pytest.raises(StepError) as exc:
        _drain(ensure_model(spec))
    hint = exc.value.hint
    for name in ("model.bin", "config.json", "tokenizer.json", "vocabulary.*"):
        assert name in hint
    assert "huggingface.co/Systran/faster-whisper-large-v3" in hint
    assert "faster-whisper-large-v3/" in hint  # the folder under the models dir
    with pytest.raises(StepError):
        _drain(ensure_model(spec, allow_download=False))


def test_download_failure_is_a_step_error_with_mirror_hint(monkeypatch):
    """Not offline, but the endpoint is unreachable (a closed local port): a plain error
    naming the mirror setting and the manual route, not a traceback."""
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")
    monkeypatch.setenv("HF_HUB_ETAG_TIMEOUT", "1")
    gen = ensure_model(whisper_spec("tiny"))
    with pytest.raises(StepError) as exc:
        _drain(gen)
    assert "HF_ENDPOINT" in exc.value.hint and "model.bin" in exc.value.hint


def test_recommendation_follows_the_tutorials():
    assert recommend("zh").backend == "funasr" and recommend("zh").model == "paraformer-zh"
    assert recommend("en", "cuda").model == "large-v3"
    assert recommend("ja", "cuda").backend == "faster-whisper"
    assert recommend("en", "cpu").backend == "faster-whisper"
    assert recommend("yue").model == "sensevoice"


def test_mirror_from_app_config_unless_hf_endpoint_is_set(monkeypatch):
    from engine.appconfig import AppConfig, save_config
    from engine.hub import hf_endpoint

    monkeypatch.delenv("HF_ENDPOINT", raising=False)
    assert hf_endpoint() is None
    save_config(AppConfig(hf_endpoint="https://hf-mirror.com"))
    assert hf_endpoint() == "https://hf-mirror.com"
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:1")
    assert hf_endpoint() == "http://127.0.0.1:1"


def test_pretrained_hubert_found_in_a_cached_repo_subfolder(tmp_path, monkeypatch):
    from engine.hub import PRETRAINED

    cache = tmp_path / "hf"
    repo = cache / "models--lj1995--GPT-SoVITS"
    snap = repo / "snapshots" / ("b" * 40)
    _fill(snap / "chinese-hubert-base",
          ["config.json", "preprocessor_config.json", "pytorch_model.bin"])
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("b" * 40)
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    assert resolve_local(PRETRAINED["hubert"]) == snap / "chinese-hubert-base"
    assert resolve_local(PRETRAINED["bert"]) is None  # not cached: caller downloads or hints
