"""bench/gpu_check.py in its reduced CPU mode (tiny models, an injected 256 MB budget, a few
steps), so the GPU check cannot rot: it probes both stages, trains both, times decoding and
writes its report."""
from __future__ import annotations

import json

import pytest

from bench import gpu_check


@pytest.mark.slow  # ~15-30 s on a busy 2-core box
def test_gpu_check_reduced_mode_runs_end_to_end(tmp_path):
    out = tmp_path / "gpu.md"
    assert gpu_check.main(["--reduced", "--ddp-cpu", "--out", str(out), "--work",
                           str(tmp_path / "w")]) == 0
    text = out.read_text(encoding="utf-8")
    fig = json.loads(text.split("```json\n", 1)[1].split("```", 1)[0])
    assert fig["reduced"] is True and fig["device"].startswith("CPU")
    assert 1 <= fig["sovits_probe_batch"] <= 4 and 1 <= fig["gpt_probe_batch"] <= 4
    assert fig["sovits_s_per_step"] > 0 and fig["gpt_s_per_step"] > 0
    assert fig["sovits_failed"] == fig["gpt_failed"] == ""
    assert 0 < fig["sovits_rtf"] and fig["gpt_tokens_per_s"] > 0
    # decode part: eager beside the fixed-shape step (CUDA graphs on a GPU; on CPU the same
    # step without capture), one row and a batch of pieces, with equal greedy tokens
    assert fig["gpt_graph_mode"] == "static" and fig["gpt_graph_tokens_per_s"] > 0
    assert fig["gpt_batch4_tokens_per_s"] > 0 and fig["gpt_graph_batch4_tokens_per_s"] > 0
    assert fig["gpt_graph_same_tokens"] is True and fig["gpt_graph_captures"] == 0
    assert "| GPT greedy decoding, 4 rows |" in text
    assert "| SoVITS training | 4 steps at batch" in text
    # the multi-GPU step, here as 2 gloo processes launched as the Train step launches them
    assert fig["ddp_processes"] == 2 and fig["ddp_failed"] == "" and fig["ddp_s_per_step"] > 0
    assert "| SoVITS DDP, 2 processes on cpu (gloo) |" in text
    # the probe's answer is remembered in the generated project, for this "card"
    rec = json.loads((tmp_path / "w" / "project" / "logs" / "gpucheck" / "batch_probe.json").read_text())
    assert rec["device"] == fig["device"] and rec["stages"]["sovits"]["batch"] == fig["sovits_probe_batch"]
