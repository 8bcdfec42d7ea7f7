"""One timed GPT decode in its own process, for bench/gpt_peers.py (not a bench by itself:
``python -m bench`` skips modules whose name starts with ``_``).

    python bench/_gpt_peers_worker.py IMPL --threads N --data DIR --tokens 300 --out RESULT.json

IMPL: ``ours:<precision>`` and ``catgrown`` (run with the repo's venv and the repo on
PYTHONPATH), ``cpufast``, ``genie``, ``genie-greedy`` and ``genie-convert`` (run with the
peers' throw-away venv; these import nothing from this repo). Every IMPL reads the same
``DIR/gpt.ckpt`` (upstream's format, written by our exporter) and ``DIR/inputs.pt``. Peers are
driven through their own loaders and loops; only the calls that drive them are ours.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
import time
import types
from pathlib import Path

PENALTY = 1.35  # repetition penalty of the setting (upstream's default)
REF_PHONES = 10  # genie's encoder takes [reference ; target] phonemes; it concatenates them


def _timed(fn):
    load0 = os.getloadavg()[0]
    w0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    return out, {"wall": wall, "cpu": cpu, "load": [load0, os.getloadavg()[0]]}


def _inputs(data: Path):
    import torch
    d = torch.load(data / "inputs.pt", weights_only=True)
    return d["phones"], d["bert"], d["prompt"]


def run_ours(path: str, data: Path, n: int) -> tuple[list[int], dict]:
    import torch
    from engine.models.gpt import DecodeOptions, Sampling, decode, load_gpt
    model = load_gpt(data / "gpt.ckpt").model
    phones, bert, prompt = _inputs(data)
    short = (phones[:, :8], bert[:, :, :8], prompt[:, :8])
    if path == "catgrown":  # OUR re-implementation of upstream's torch.cat-grown cache loop
        from bench.gpt_decode import growing_cache_decode
        growing_cache_decode(model, *short, 5, PENALTY)
        out, t = _timed(lambda: growing_cache_decode(model, phones, bert, prompt, n, PENALTY))
    else:
        s = Sampling(top_k=1, repetition_penalty=PENALTY)
        decode(model, *short, DecodeOptions(sampling=s, max_new_tokens=5, min_steps_before_eos=5,
                                            precision=path))  # packs weights, warms kernels
        opts = DecodeOptions(sampling=s, max_new_tokens=n, min_steps_before_eos=n, precision=path)
        out, t = _timed(lambda: decode(model, phones, bert, prompt, opts).tokens)
    t["versions"] = {"torch": torch.__version__}
    return out.tolist(), t


def run_cpufast(data: Path, n: int) -> tuple[list[int], dict]:
    import torch
    import GPT_SoVITS  # noqa: F401  (its __init__ puts its folder on sys.path for "AR.*")
    from AR.models.t2s_lightning_module import Text2SemanticLightningModule
    # As its TTS.init_t2s_weights loads GPT weights (inference-only module, then rebuild).
    ckpt = torch.load(data / "gpt.ckpt", map_location="cpu", weights_only=False)
    lm = Text2SemanticLightningModule(ckpt["config"], "****", is_train=False,
                                      build_t2s_transformer=False, build_h_module=False)
    lm.load_inference_only_state_dict(ckpt["weight"])
    lm.model.release_inference_only_unused_modules()
    model = lm.eval().model
    phones, bert, prompt = _inputs(data)

    def go(ph, be, pr, k):  # top_k=1: its sampler keeps only the argmax, i.e. greedy
        with torch.no_grad():  # as its TTS.run
            y, _ = model.infer_panel(ph, torch.tensor([ph.shape[1]]), pr, be, top_k=1, top_p=1.0,
                                     early_stop_num=k - 1, temperature=1.0,
                                     repetition_penalty=PENALTY)
        return y[0, pr.shape[1]:]

    go(phones[:, :8], bert[:, :, :8], prompt[:, :8], 5)
    out, t = _timed(lambda: go(phones, bert, prompt, n))
    t["versions"] = {"torch": torch.__version__}
    return out.tolist(), t


def _genie_package() -> Path:
    """Register genie_tts as a bare package so its submodules import without running its
    ``__init__`` (that imports its text frontend, server, audio player and model downloader,
    none of which the GPT decode uses). Returns the package folder."""
    spec = importlib.util.find_spec("genie_tts")  # locates; does not execute
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("genie_tts is not installed in this venv")
    pkg = types.ModuleType("genie_tts")
    pkg.__path__ = list(spec.submodule_search_locations)
    sys.modules["genie_tts"] = pkg
    return Path(pkg.__path__[0])


def convert_genie(data: Path) -> dict:
    """GPT weights -> genie's ONNX files with genie's own converter classes (v2 layout)."""
    import torch
    root = _genie_package()
    from genie_tts.Converter.v2.EncoderConverter import EncoderConverter
    from genie_tts.Converter.v2.T2SConverter import T2SModelConverter
    out, cache = data / "genie", data / "genie_cache"
    models = root / "Data" / "v2" / "Models"
    # genie's encoder also maps reference-audio SSL features to prompt codes with three SoVITS
    # tensors; the bench feeds its own 150 prompt codes, so a stub .pth holds just those three.
    g = torch.Generator().manual_seed(3)
    torch.save({"weight": {"ssl_proj.weight": torch.randn(768, 768, 2, generator=g) * 0.02,
                           "ssl_proj.bias": torch.zeros(768),
                           "quantizer.vq.layers.0._codebook.embed": torch.randn(1024, 768, generator=g)}},
               data / "sovits_stub.pth")
    t2s = T2SModelConverter(str(data / "gpt.ckpt"), str(models / "t2s_stage_decoder_fp32.onnx"),
                            str(models / "t2s_first_stage_decoder_fp32.onnx"),
                            str(root / "Data" / "v2" / "Keys" / "t2s_onnx_keys.txt"), str(out), str(cache))
    os.makedirs(cache, exist_ok=True)
    t2s.run_full_process()
    # Its runtime turns the fp16 .bin into fp32 in memory; its converter's own step 3 writes
    # the same fp32 bytes to the file its relinked graphs point at.
    T2SModelConverter.step3_reconstruct_fp32_bin_from_fp16(t2s.fp16_bin_path, t2s.reconstructed_fp32_bin_path)
    EncoderConverter(str(data / "gpt.ckpt"), str(data / "sovits_stub.pth"),
                     str(models / "t2s_encoder_fp32.onnx"), str(out)).run_full_process()
    return {"files": sorted(p.name for p in out.iterdir())}


def _greedy(path: Path):
    """Genie's decoder graphs sample inside the graph (top-k 15, then softmax divided by a
    RandomNormalLike draw, argmax). For the token check only: k -> 1 and the random divisor
    -> 1, which leaves the argmax of the penalised logits."""
    import numpy as np
    import onnx
    from onnx import numpy_helper
    m = onnx.load(str(path))  # with its external fp32 weights
    g = m.graph
    g.initializer.append(numpy_helper.from_array(np.array([1], dtype=np.int64), "bench_greedy_k"))
    g.initializer.append(numpy_helper.from_array(np.array(1.0, dtype=np.float32), "bench_one"))
    rand = [nd for nd in g.node if nd.op_type == "RandomNormalLike"]
    topk = [nd for nd in g.node if nd.op_type == "TopK"]
    if len(rand) != 1 or len(topk) != 1:
        raise SystemExit(f"{path.name}: expected one TopK and one RandomNormalLike node")
    topk[0].input[1] = "bench_greedy_k"
    for nd in g.node:
        for i, name in enumerate(nd.input):
            if name == rand[0].output[0]:
                nd.input[i] = "bench_one"
    g.node.remove(rand[0])
    return m.SerializeToString()


def run_genie(data: Path, n: int, threads: int, greedy: bool) -> tuple[list[int], dict]:
    import numpy as np
    import onnxruntime as ort
    _genie_package()
    out = data / "genie"
    so = ort.SessionOptions()  # as its ModelManager, plus the bench's thread count
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    cpu = ["CPUExecutionProvider"]

    def session(name):
        src = _greedy(out / name) if greedy and "decoder" in name else str(out / name)
        return ort.InferenceSession(src, so, providers=cpu)

    enc, first, stage = (session(f"t2s_{k}_fp32.onnx")
                         for k in ("encoder", "first_stage_decoder", "stage_decoder"))
    phones, bert, prompt = (a.numpy() for a in _inputs(data))
    names = [i.name for i in stage.get_inputs()]
    ssl = np.zeros((1, 768, 4), dtype=np.float32)  # its prompt codes are replaced by ours

    def go(ph, be, pr, k):  # its GENIE.t2s_cpu, with our prompt codes and a fixed length
        x, _codes = enc.run(None, {"ref_seq": ph[:, :REF_PHONES], "text_seq": ph[:, REF_PHONES:],
                                   "ref_bert": np.ascontiguousarray(be[0, :, :REF_PHONES].T),
                                   "text_bert": np.ascontiguousarray(be[0, :, REF_PHONES:].T),
                                   "ssl_content": ssl})
        y, y_emb, *kv = first.run(None, {"x": x, "prompts": pr})
        stops = 0
        for _ in range(k - 1):
            y, y_emb, stop, *kv = stage.run(None, dict(zip(names, [y, y_emb, *kv])))
            stops += bool(stop)
        return y[0, pr.shape[1]:], stops

    go(phones[:, :REF_PHONES + 8], bert[:, :, :REF_PHONES + 8], prompt[:, :8], 5)
    (tokens, stops), t = _timed(lambda: go(phones, bert, prompt, n))
    t["versions"] = {"onnxruntime": ort.__version__}
    t["eos_signals"] = stops  # its stop flag, ignored so that every run makes n tokens
    return [int(v) for v in tokens], t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("impl")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--tokens", type=int, default=300)
    ap.add_argument("--out", type=Path, required=True)
    a = ap.parse_args()
    peer = a.impl in ("cpufast", "genie", "genie-greedy", "genie-convert")
    if peer:  # nothing of this repo on the path (bench/ holds this file)
        here = Path(__file__).parent.resolve()
        sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != here]
    if a.impl != "genie-convert" and not a.impl.startswith("genie"):
        import torch
        torch.set_num_threads(a.threads)
    if a.impl == "genie-convert":
        result = convert_genie(a.data)
    else:
        if a.impl.startswith("ours:"):  # "<precision>-torch": fused step off (GSV_GPT_FUSED_STEP=0, set by the caller)
            tokens, t = run_ours(a.impl[5:].removesuffix("-torch"), a.data, a.tokens)
        elif a.impl == "catgrown":
            tokens, t = run_ours("catgrown", a.data, a.tokens)
        elif a.impl == "cpufast":
            tokens, t = run_cpufast(a.data, a.tokens)
        elif a.impl in ("genie", "genie-greedy"):
            tokens, t = run_genie(a.data, a.tokens, a.threads, a.impl == "genie-greedy")
        else:
            raise SystemExit(f"unknown implementation {a.impl!r}")
        result = dict(t, tokens=tokens, impl=a.impl, threads=a.threads)
    a.out.write_text(json.dumps(result), encoding="utf-8")


if __name__ == "__main__":
    main()
