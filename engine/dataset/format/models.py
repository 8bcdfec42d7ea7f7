"""The three pretrained models 1A runs, where they are found, and thin wrappers giving each
one job: BERT -> (1024, n_phones) per Chinese line, HuBERT -> (1, 768, T) per clip, and the
SoVITS quantizer -> semantic codes per clip."""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Protocol

from engine.hub import PRETRAINED, ModelSpec

# The shared folders (engine.hub.PRETRAINED) the train and synth steps use too.
BERT_SPEC = PRETRAINED["bert"]
HUBERT_SPEC = PRETRAINED["hubert"]
_V2 = PRETRAINED["v2-base"]
SOVITS_BASES = {  # 1A only needs the generator, for its ssl_proj + quantizer
    "v2": ModelSpec(_V2.name, _V2.repo_id, files=("s2G2333k.pth",), subfolder=_V2.subfolder),
    "v1": ModelSpec("gsv-v1-pretrained", _V2.repo_id, files=("s2G488k.pth",)),  # as engine/train/pretrained.py
    # Pro: upstream's 3-get-semantic uses the version's own G base (its quantizer).
    **{v: dataclasses.replace(PRETRAINED[f"{v}-base"], files=PRETRAINED[f"{v}-base"].files[:1])
       for v in ("v2Pro", "v2ProPlus")},
}


def weights_spec(spec: ModelSpec) -> ModelSpec:
    """A local folder may hold model.safetensors instead of pytorch_model.bin: accept either
    (the pattern matches both names; the hub folders hold pytorch_model.bin)."""
    files = tuple("*model.*" if f == "pytorch_model.bin" else f for f in spec.files)
    return dataclasses.replace(spec, files=files)  # keeps a pinned revision and sha256s


class SemanticExtractor(Protocol):
    """SSL features (1, 768, T) at 50 Hz -> semantic codes at 25 Hz (list of ints 0..1023)."""

    def extract(self, ssl) -> list[int]: ...


def pick_device(device: str) -> str:
    import torch

    if device == "cuda" and not torch.cuda.is_available():
        from engine.events import StepError

        raise StepError("device = cuda, but torch sees no CUDA GPU on this machine.",
                        "Set device to auto or cpu (CPU works, only slower).")
    if device != "auto":
        return device
    return "cuda" if torch.cuda.is_available() else "cpu"


class BertFeatures:
    def __init__(self, folder: Path, device: str, half: bool) -> None:
        import torch
        from transformers import AutoModelForMaskedLM, AutoTokenizer

        self.device = device
        self.tokenizer = AutoTokenizer.from_pretrained(str(folder), local_files_only=True,
                                                       trust_remote_code=False)
        model = AutoModelForMaskedLM.from_pretrained(str(folder), local_files_only=True,
                                                     trust_remote_code=False)
        self.dtype = torch.float16 if half else torch.float32
        self.model = model.to(device=device, dtype=self.dtype).eval()

    def __call__(self, text: str, word2ph: list[int]):
        """hidden_states[-3] per character (CLS/SEP dropped), each row repeated word2ph
        times -> (hidden, n_phones)."""
        import torch

        inputs = self.tokenizer(text, return_tensors="pt").to(self.device)
        n_tokens = int(inputs["input_ids"].shape[1]) - 2
        if n_tokens != len(text) or len(word2ph) != len(text):
            raise ValueError(f"the BERT tokenizer made {n_tokens} tokens of {len(text)} characters")
        with torch.no_grad():
            out = self.model(**inputs, output_hidden_states=True)
        per_char = out.hidden_states[-3][0, 1:-1].cpu()
        counts = torch.tensor(word2ph)
        return torch.repeat_interleave(per_char, counts, dim=0).T.contiguous()


class HubertFeatures:
    def __init__(self, folder: Path, device: str, half: bool) -> None:
        from transformers import HubertModel

        self.device = device
        self.half = half
        model = HubertModel.from_pretrained(str(folder), local_files_only=True).eval()
        self.model = model.to(device).half() if half else model.to(device)

    def __call__(self, wav16k):
        """(N,) float32 at 16 kHz -> last hidden state (1, hidden, T). An fp16 result with
        NaNs is recomputed in fp32, as upstream does."""
        import torch

        x = torch.from_numpy(wav16k).unsqueeze(0).to(self.device)
        with torch.no_grad():
            if not self.half:
                return self.model(x)["last_hidden_state"].transpose(1, 2).cpu()
            ssl = self.model(x.half())["last_hidden_state"].transpose(1, 2).cpu()
            if torch.isnan(ssl).any():
                try:
                    ssl = self.model.float()(x)["last_hidden_state"].transpose(1, 2).cpu().half()
                finally:
                    self.model.half()
            return ssl


class SovitsSemantic:
    """The SoVITS file's ``ssl_proj`` + residual VQ (engine.models.sovits) as a
    SemanticExtractor. Only those two modules are built: the rest of the synthesizer is
    ~50 M parameters 1A never uses (the test checks codes equal ``extract_latent``)."""

    def __init__(self, path: Path, device: str, version: str | None = None) -> None:
        import torch

        from engine.models.sovits.checkpoint import read_sovits_file
        from engine.models.sovits.quantizer import ResidualVQ

        f = read_sovits_file(path, version)
        cfg = f.config
        self.device = device
        self.proj = torch.nn.Conv1d(cfg.ssl_dim, cfg.ssl_dim, 2, stride=2)
        self.vq = ResidualVQ(cfg.ssl_dim, cfg.codebook_size, 1)
        for prefix, module in (("ssl_proj.", self.proj), ("quantizer.", self.vq)):
            state = {k[len(prefix):]: (v.float() if v.is_floating_point() else v)
                     for k, v in f.weights.items() if k.startswith(prefix)}
            module.load_state_dict(state, strict=True)
            module.to(device).eval()

    def extract(self, ssl) -> list[int]:
        import torch

        with torch.no_grad():
            codes = self.vq.encode(self.proj(ssl.float().to(self.device))).transpose(0, 1)
        return [int(c) for c in codes[0, 0].tolist()]
