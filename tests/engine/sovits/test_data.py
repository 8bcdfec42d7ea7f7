"""The training data reader over a 1A folder: which clips are used or skipped (and why), the
deterministic bucketed batches, and HuBERT/spectrogram alignment."""
from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
import torch

from engine.events import StepError
from engine.train.sovits.data import ClipDataset, collate, epoch_batches, scan_experiment

from .experiment import build_experiment



def test_scan_uses_complete_clips_and_explains_skips(tmp_path):
    exp = tmp_path / "logs" / "x"
    build_experiment(exp, n=3)
    sf.write(exp / "5-wav32k" / "short.wav", np.zeros(8000, dtype=np.int16), 32000)  # 0.25 s
    torch.save(torch.zeros(1, 768, 12), exp / "4-cnhubert" / "short.wav.pt")
    with open(exp / "2-name2text.txt", "a", encoding="utf-8") as f:
        f.write("short.wav\tHH AH0\tNone\thi\nbadphone.wav\tXYZ\tNone\tx\n")
    sf.write(exp / "5-wav32k" / "badphone.wav", np.zeros(32000, dtype=np.int16), 32000)
    torch.save(torch.zeros(1, 768, 49), exp / "4-cnhubert" / "badphone.wav.pt")
    (exp / "5-wav32k" / "orphan.wav").write_bytes(b"")
    clips, skipped = scan_experiment(exp, "v2")
    assert [c.name for c in clips] == ["clip_00.wav", "clip_01.wav", "clip_02.wav"]
    text = "\n".join(skipped)
    assert "short.wav: 0.25 s" in text and "badphone.wav" in text and "1 names are missing" in text


def test_batches_are_bucketed_deterministic_and_repeat_small_sets(tmp_path):
    exp = tmp_path / "logs" / "x"
    build_experiment(exp, n=3)
    clips, _ = scan_experiment(exp, "v2")
    a = epoch_batches(clips, 2, epoch=1, seed=7)
    assert a == epoch_batches(clips, 2, epoch=1, seed=7) != epoch_batches(clips, 2, epoch=2, seed=7)
    assert sum(len(b) for b in a) == 3 * (100 // 3)  # upstream repeats sets under 100 clips
    assert sum(len(b) for b in epoch_batches(clips, 2, 1, 7, min_items=0)) == 3


def test_items_align_hubert_to_spectrogram_frames(tmp_path):
    exp = tmp_path / "logs" / "x"
    build_experiment(exp, n=2)
    clips, _ = scan_experiment(exp, "v2")
    ds = ClipDataset(clips)
    it = ds[0]
    assert it.ssl.shape[-1] == it.spec.shape[-1] == clips[0].frames  # HuBERT was 1 frame short
    assert it.wav.shape[0] == clips[0].frames * 640 and it.spec.shape[0] == 1025
    batch = collate([ds[0], ds[1]], min_frames=32)
    t = batch["spec"].shape[-1]
    assert t % 2 == 0 and batch["ssl"].shape[-1] == t and batch["wav"].shape[-1] == t * 640
    assert batch["spec_lengths"].tolist() == sorted(batch["spec_lengths"].tolist(), reverse=True)


def test_missing_folder_is_explained(tmp_path):
    with pytest.raises(StepError, match="2-name2text.txt is missing") as exc:
        scan_experiment(tmp_path, "v2")
    assert "Format step" in exc.value.hint
