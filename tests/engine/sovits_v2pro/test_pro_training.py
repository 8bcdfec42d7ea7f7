"""SoVITS fine-tuning of a tiny v2Pro/v2ProPlus model on a generated 1A folder with 7-sv_cn/
files: only clips with all four inputs train, the 7-period discriminator is used, the speaker
layers learn, and the export is a headered Pro file that synthesizes with an embedding."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from engine.events import Artifact, Log, Result, StepError
from engine.models.sovits import load_sovits, reference_spec, synthesize
from engine.models.sovits.config import SV_DIM, tiny_config
from engine.models.sovits.synthesizer import Synthesizer
from engine.train.sovits.loop import run_sovits_training
from engine.train.sovits.request import SovitsTrainRequest

from tests.engine.sovits.experiment import build_experiment


def _request(root, version, **kw) -> SovitsTrainRequest:
    base = dict(project_root=str(root), slug="demo", version=version, batch_size=2, epochs=2,
                save_every_epoch=1, learning_rate=2e-3, min_items_per_epoch=0,
                model_config=tiny_config(version).to_dict(), disc_width=16, device="cpu",
                threads=1, log_every=100)
    base.update(kw)
    return SovitsTrainRequest(**base)


def _write_sv(exp, names, seed=3):
    g = torch.Generator().manual_seed(seed)
    (exp / "7-sv_cn").mkdir(exist_ok=True)
    for name in names:  # upstream's file: a bare [1, 20480] float32 tensor
        torch.save(torch.randn(1, SV_DIM, generator=g), exp / "7-sv_cn" / f"{name}.pt")


@pytest.mark.parametrize("version", ["v2Pro", "v2ProPlus"])
def test_pro_training_uses_embeddings_and_exports_pro(tmp_path, version):
    exp = tmp_path / "logs" / "demo"
    names = build_experiment(exp, n=4)
    _write_sv(exp, names[:3])  # the fourth clip has no embedding: upstream leaves it out
    events = list(run_sovits_training(_request(tmp_path, version)))
    res = [e for e in events if isinstance(e, Result)][-1]
    assert res.data["step"] == 4 and not res.data["stopped"]  # 3 clips, batch 2 -> 2 steps/epoch
    assert any(isinstance(e, Log) and "7-sv_cn" in e.line for e in events)

    d_files = sorted((exp / f"logs_s2_{version}").glob("D_*.pth"))
    d = torch.load(d_files[-1], weights_only=False)
    assert any(k.startswith("discriminators.7.") for k in d["model"])  # periods 17 and 23

    exports = [e.path for e in events if isinstance(e, Artifact) and e.kind == "sovits-weights"]
    path = tmp_path / exports[-1]
    assert path.read_bytes()[:2] == (b"05" if version == "v2Pro" else b"06")
    model = load_sovits(path, expect_version=version)
    torch.manual_seed(1234)  # the trainer's seed: the same initial weights
    init = Synthesizer(tiny_config(version)).state_dict()["sv_emb.weight"]
    trained = model.state_dict()["sv_emb.weight"].float()
    assert (trained - init).abs().max() > 1e-3  # the speaker layer learned

    import soundfile as sf

    ref, _ = sf.read(str(exp / "5-wav32k" / names[0]), dtype="float32")
    sv = torch.load(exp / "7-sv_cn" / f"{names[0]}.pt", weights_only=True)
    codes = [1, 2, 3, 4, 5, 6]
    audio = synthesize(model, codes, [5, 6, 7, 8], reference_spec(ref), sv_embs=[sv])
    assert audio.shape == (2 * len(codes) * 640,) and np.isfinite(audio).all()
    other = synthesize(model, codes, [5, 6, 7, 8], reference_spec(ref), sv_embs=[-sv])
    assert not np.allclose(audio, other)  # the embedding reaches the voice


def test_pro_training_without_sv_folder_says_to_format(tmp_path):
    build_experiment(tmp_path / "logs" / "demo", n=2)
    with pytest.raises(StepError) as err:
        list(run_sovits_training(_request(tmp_path, "v2ProPlus")))
    assert "7-sv_cn" in str(err.value) and "Format" in err.value.hint
