"""Tiny random BERT and HuBERT folders saved like the hub's, for the format and synthesis
tests (the real chinese-roberta-wwm-ext-large and chinese-hubert-base are gigabytes)."""
from __future__ import annotations

from pathlib import Path

# Characters of every Chinese line the tests use (after normalisation).
ZH_CHARS = "你好世界今天天气很不错我们去公园吧一二三四五六七八九十零点百分之"
PUNCT = ",.!?…-"


def build_bert(folder: Path, hidden: int, layers: int) -> Path:
    """config.json, the weights and tokenizer.json, nothing else (like the hub folder).
    ``hidden`` 1024 matches what the GPT's bert_proj reads; ``layers`` ≥ 2 so
    hidden_states[-3] exists."""
    import torch
    from tokenizers import BertWordPieceTokenizer
    from transformers import BertConfig, BertForMaskedLM

    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + sorted(set(ZH_CHARS + PUNCT))
    BertWordPieceTokenizer({t: i for i, t in enumerate(vocab)}, lowercase=True).save(
        str(folder / "tokenizer.json"))
    torch.manual_seed(0)
    cfg = BertConfig(vocab_size=len(vocab), hidden_size=hidden, num_hidden_layers=layers,
                     num_attention_heads=2, intermediate_size=32, max_position_embeddings=128)
    BertForMaskedLM(cfg).save_pretrained(str(folder))
    return folder


def build_hubert(folder: Path) -> Path:
    """768 wide like chinese-hubert-base (SoVITS's ssl_proj expects 768 channels), one layer,
    thin convolutions whose strides multiply to 320 (50 frames/s), plus the
    preprocessor_config.json the hub folder holds (upstream bypasses it)."""
    import torch
    from transformers import HubertConfig, HubertModel, Wav2Vec2FeatureExtractor

    torch.manual_seed(0)
    cfg = HubertConfig(hidden_size=768, num_hidden_layers=1, num_attention_heads=2,
                       intermediate_size=64, conv_dim=(32,) * 7, num_conv_pos_embeddings=16,
                       num_conv_pos_embedding_groups=4)
    HubertModel(cfg).save_pretrained(str(folder))
    Wav2Vec2FeatureExtractor(sampling_rate=16000).save_pretrained(str(folder))
    return folder
