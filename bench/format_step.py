"""The 1A step's per-clip cost on this machine, stage by stage, with full-size random-weight
BERT (chinese-roberta-wwm-ext-large shape) and HuBERT (chinese-hubert-base shape) and the
SoVITS quantizer (same 768-d ssl_proj + 1024-code VQ as the real base).
Usage: .venv/bin/python -m bench format_step   [BENCH_CLIPS env, default 6]"""
from __future__ import annotations

import os
import platform
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
FIXTURES = REPO / "tests" / "fixtures"

ZH = ["今天天气很好，我们一起去公园散步吧。", "这个问题其实并不复杂，只是需要一点耐心。",
      "他说明天早上八点在学校门口见面。", "我最喜欢的水果是苹果和香蕉。"]
EN = ["The quick brown fox jumps over the lazy dog near the river bank.",
      "She sells sea shells by the sea shore every summer morning.",
      "Please call Stella and ask her to bring these things from the store."]


def main() -> None:
    import lzma

    import torch
    from tokenizers import BertWordPieceTokenizer
    from transformers import (BertConfig, BertForMaskedLM, HubertConfig, HubertModel,
                              PreTrainedTokenizerFast)

    from engine.dataset.format.audio import prepare
    from engine.dataset.format.models import BertFeatures, HubertFeatures, SovitsSemantic
    from engine.text import clean_text
    from tests.helpers.speech import speak

    torch.set_num_threads(os.cpu_count() or 1)
    n = int(os.environ.get("BENCH_CLIPS", "6"))
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        clips = [speak(EN[i % len(EN)], tmp / f"c{i}.wav") for i in range(n)]
        audio_s = sum(__import__("soundfile").info(str(c)).duration for c in clips)
        # Full-size shapes, random weights; a char vocabulary covering the benchmark lines.
        vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + sorted(
            set("".join(ZH)) | set(",.!?…-"))
        BertWordPieceTokenizer({t: i for i, t in enumerate(vocab)}).save(str(tmp / "tok.json"))
        bert = BertFeatures.__new__(BertFeatures)
        bert.device, bert.dtype = "cpu", torch.float32
        bert.tokenizer = PreTrainedTokenizerFast(tokenizer_file=str(tmp / "tok.json"))
        bert.model = BertForMaskedLM(BertConfig(vocab_size=21128, hidden_size=1024,
                                                num_hidden_layers=24, num_attention_heads=16,
                                                intermediate_size=4096)).eval()
        hub = HubertFeatures.__new__(HubertFeatures)
        hub.device, hub.half = "cpu", False
        hub.model = HubertModel(HubertConfig()).eval()  # hubert-base: 12 layers, 768
        sov_path = tmp / "s.pth"
        sov_path.write_bytes(lzma.decompress(
            (FIXTURES / "upstream-v2/sovits_v2_small.pth.xz").read_bytes()))
        sem = SovitsSemantic(sov_path, "cpu")

        t = {"text (zh)": 0.0, "BERT-large (zh line)": 0.0, "audio prep (32k wav + 16k input)": 0.0,
             "HuBERT-base": 0.0, "semantic codes": 0.0}
        for i, c in enumerate(clips):
            line = ZH[i % len(ZH)]
            t0 = time.perf_counter()
            cleaned = clean_text(line, "zh")
            t1 = time.perf_counter()
            bert(cleaned.norm_text, cleaned.word2ph)
            t2 = time.perf_counter()
            a = prepare(c)
            t3 = time.perf_counter()
            ssl = hub(a.hubert_input_16k)
            t4 = time.perf_counter()
            sem.extract(ssl)
            t5 = time.perf_counter()
            if i == 0:
                continue  # first clip pays lazy imports and allocations
            for k, d in zip(t, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4)):
                t[k] += d
    m = max(n - 1, 1)
    per_clip = sum(t.values()) / m
    clip_s = audio_s / n
    lines = ["## 1A step per clip (CPU, full-size random models)", "",
             f"Machine: {platform.machine()}, {os.cpu_count()} cores, torch threads "
             f"{torch.get_num_threads()}, Python {platform.python_version()}, load average "
             f"{os.getloadavg()[0]:.1f} (machine shared; timings scale with it); "
             f"`python -m bench format_step`; {n} espeak clips of {clip_s:.1f} s on average "
             "(first clip excluded), a Chinese line of 14-18 characters each.", "",
             "| Stage | ms per clip |", "|---|---|"]
    lines += [f"| {k} | {1000 * v / m:.0f} |" for k, v in t.items()]
    lines += [f"| **total** | **{1000 * per_clip:.0f}** ({clip_s / per_clip:.1f}× real time) |",
              "", "Model loading is not included (once per run: BERT-large ~1.3 GB, HuBERT "
              "~0.4 GB from disk). English and Japanese lines skip BERT."]
    text = "\n".join(lines) + "\n"
    print(text)
    from bench.format_text import _record

    _record(text, "## 1A step per clip")


if __name__ == "__main__":
    main()
