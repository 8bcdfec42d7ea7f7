"""Tiny random-init ASR models built offline, for tests (after the reference recipes).

Whisper: a byte-level BPE tokenizer trained on a few sentences, Whisper's special tokens,
a depth-1 width-64 Whisper, converted to CTranslate2. Multilingual needs the vocabulary to
hold "" at id 50256 (ctranslate2 4.8's multilingual test) and ``lang_ids`` patched in
config.json (transformers 5 makes the converter write []), see ecosystem notes §4.
Paraformer: FunASR's own classes at width 32, saved as config.yaml + model.pt (§5).
"""
from __future__ import annotations

import json
from pathlib import Path

CORPUS = ["hello world this is a test", "the quick brown fox jumps over the lazy dog",
          "voice cloning with a tiny model", "- ' , . ? !"] * 20


def build_tiny_whisper(out: Path, multilingual: bool = True) -> Path:
    import ctranslate2.converters
    import torch
    from faster_whisper.tokenizer import _LANGUAGE_CODES
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import (GenerationConfig, PreTrainedTokenizerFast, WhisperConfig,
                              WhisperForConditionalGeneration)

    out = Path(out)
    hf_dir = out.with_name(out.name + "-hf")
    hf_dir.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(CORPUS, trainers.BpeTrainer(
        vocab_size=400, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False))
    if multilingual:
        vocab = tok.get_vocab()
        merges = [tuple(m) if isinstance(m, list) else tuple(m.split(" "))
                  for m in json.loads(tok.to_str())["model"]["merges"]]
        n = len(vocab)
        for i in range(50256 - n):
            vocab[f"\u2400dummy{i}"] = n + i
        vocab[""] = 50256
        tok.model = models.BPE(vocab=vocab, merges=merges)
    langs = list(_LANGUAGE_CODES)[:99] if multilingual else []
    specials = (["<|endoftext|>", "<|startoftranscript|>"] + [f"<|{x}|>" for x in langs]
                + ["<|translate|>", "<|transcribe|>", "<|startoflm|>", "<|startofprev|>",
                   "<|nocaptions|>", "<|notimestamps|>"])
    tok.add_special_tokens(specials)
    vocab_size = tok.get_vocab_size() + 1501  # + timestamp tokens
    ids = {s: tok.token_to_id(s) for s in specials}
    eot, sot = ids["<|endoftext|>"], ids["<|startoftranscript|>"]
    PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<|endoftext|>",
                            eos_token="<|endoftext|>", unk_token="<|endoftext|>",
                            pad_token="<|endoftext|>").save_pretrained(hf_dir)
    cfg = WhisperConfig(vocab_size=vocab_size, num_mel_bins=80, d_model=64, encoder_layers=1,
                        encoder_attention_heads=2, encoder_ffn_dim=128, decoder_layers=1,
                        decoder_attention_heads=2, decoder_ffn_dim=128,
                        max_source_positions=1500, max_target_positions=448,
                        pad_token_id=eot, bos_token_id=eot, eos_token_id=eot,
                        decoder_start_token_id=sot, suppress_tokens=[],
                        begin_suppress_tokens=[eot])
    model = WhisperForConditionalGeneration(cfg).eval()
    gen = GenerationConfig.from_model_config(cfg)
    gen.suppress_tokens, gen.begin_suppress_tokens = [], [eot]
    gen.no_timestamps_token_id = ids["<|notimestamps|>"]
    model.generation_config = gen
    model.save_pretrained(hf_dir)
    (hf_dir / "preprocessor_config.json").write_text(json.dumps({
        "feature_extractor_type": "WhisperFeatureExtractor", "feature_size": 80,
        "sampling_rate": 16000, "hop_length": 160, "chunk_length": 30, "n_fft": 400,
        "n_samples": 480000, "nb_max_frames": 3000}))
    ctranslate2.converters.TransformersConverter(
        str(hf_dir), copy_files=["tokenizer.json", "preprocessor_config.json"]
    ).convert(str(out), force=True)
    if multilingual:
        c = json.loads((out / "config.json").read_text())
        if not c.get("lang_ids"):
            c["lang_ids"] = sorted(ids[f"<|{x}|>"] for x in langs)
            (out / "config.json").write_text(json.dumps(c))
    return out


def _char_tokens(out: Path) -> list[str]:
    """A seeded start and the tiny character vocabulary (tokens.json) both char models use."""
    import torch

    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    tokens = ["<blank>", "<s>", "</s>"] + list("abcdefghijklmnopqrstuvwxyz'") + \
        ["你", "好", "世", "界", "<unk>"]
    (out / "tokens.json").write_text(json.dumps(tokens, ensure_ascii=False), encoding="utf-8")
    return tokens


def build_tiny_paraformer(out: Path) -> Path:
    import torch
    import yaml

    import funasr  # noqa: F401 -- populates the registry
    from funasr.register import tables

    out = Path(out)
    tokens = _char_tokens(out)
    d, n_mels, lfr_m, lfr_n = 32, 80, 7, 6
    sanm = {"kernel_size": 11, "sanm_shfit": 0}
    cfg = {
        "model": "Paraformer",
        "model_conf": {"ctc_weight": 0.0, "lsm_weight": 0.1, "length_normalized_loss": True,
                       "predictor_weight": 1.0, "predictor_bias": 1, "sampling_ratio": 0.75},
        "encoder": "SANMEncoder",
        "encoder_conf": {"output_size": d, "attention_heads": 2, "linear_units": 64,
                         "num_blocks": 2, "dropout_rate": 0.1, "positional_dropout_rate": 0.1,
                         "attention_dropout_rate": 0.1, "input_layer": "pe",
                         "pos_enc_class": "SinusoidalPositionEncoder", "normalize_before": True,
                         "selfattention_layer_type": "sanm", **sanm},
        "decoder": "ParaformerSANMDecoder",
        "decoder_conf": {"attention_heads": 2, "linear_units": 64, "num_blocks": 2,
                         "dropout_rate": 0.1, "positional_dropout_rate": 0.1,
                         "self_attention_dropout_rate": 0.1, "src_attention_dropout_rate": 0.1,
                         "att_layer_num": 2, **sanm},
        "predictor": "CifPredictorV2",
        "predictor_conf": {"idim": d, "threshold": 1.0, "l_order": 1, "r_order": 1,
                           "tail_threshold": 0.45},
        "frontend": "WavFrontend",
        "frontend_conf": {"fs": 16000, "window": "hamming", "n_mels": n_mels,
                          "frame_length": 25, "frame_shift": 10, "lfr_m": lfr_m,
                          "lfr_n": lfr_n, "dither": 0.0},
        "specaug": None, "normalize": None,
        "tokenizer": "CharTokenizer",
        "tokenizer_conf": {"unk_symbol": "<unk>", "split_with_space": True},
        "ctc_conf": {"dropout_rate": 0.0, "ctc_type": "builtin", "reduce": True,
                     "ignore_nan_grad": True},
    }
    (out / "config.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False, allow_unicode=True),
                                     encoding="utf-8")
    dim = n_mels * lfr_m  # identity CMVN in Kaldi nnet text form
    (out / "am.mvn").write_text(
        f"<Nnet>\n<Splice> {dim} {dim}\n[ 0 ]\n"
        f"<AddShift> {dim} {dim}\n<LearnRateCoef> 0 [ {' '.join(['0'] * dim)} ]\n"
        f"<Rescale> {dim} {dim}\n<LearnRateCoef> 0 [ {' '.join(['1'] * dim)} ]\n</Nnet>\n")
    kw = dict(cfg)
    kw.update(cfg["model_conf"])
    model = tables.model_classes.get("Paraformer")(**kw, input_size=dim, vocab_size=len(tokens))
    torch.save(model.state_dict(), out / "model.pt")
    return out


def _identity_mvn(path: Path, dim: int) -> None:
    path.write_text(
        f"<Nnet>\n<Splice> {dim} {dim}\n[ 0 ]\n"
        f"<AddShift> {dim} {dim}\n<LearnRateCoef> 0 [ {' '.join(['0'] * dim)} ]\n"
        f"<Rescale> {dim} {dim}\n<LearnRateCoef> 0 [ {' '.join(['1'] * dim)} ]\n</Nnet>\n")


def build_tiny_fsmn_vad(out: Path) -> Path:
    """A tiny FSMN VAD whose output layer always says "speech" (silence pdf 0 gets a large
    negative bias): random weights would cut clips at random, which tests nothing."""
    import torch
    import yaml

    import funasr  # noqa: F401
    from funasr.register import tables

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    n_mels, lfr_m = 80, 5
    cfg = {
        "frontend": "WavFrontendOnline",
        "frontend_conf": {"fs": 16000, "window": "hamming", "n_mels": n_mels,
                          "frame_length": 25, "frame_shift": 10, "dither": 0.0,
                          "lfr_m": lfr_m, "lfr_n": 1},
        "model": "FsmnVADStreaming",
        "model_conf": {"sample_rate": 16000, "detect_mode": 1, "max_end_silence_time": 800,
                       "max_start_silence_time": 3000, "window_size_ms": 200,
                       "max_single_segment_time": 60000, "silence_pdf_num": 1,
                       "sil_pdf_ids": [0], "speech_noise_thres": 0.6},
        "encoder": "FSMN",
        "encoder_conf": {"input_dim": n_mels * lfr_m, "input_affine_dim": 16, "fsmn_layers": 1,
                         "linear_dim": 16, "proj_dim": 8, "lorder": 4, "rorder": 0,
                         "lstride": 1, "rstride": 0, "output_affine_dim": 16,
                         "output_dim": 8},
    }
    (out / "config.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False), encoding="utf-8")
    _identity_mvn(out / "am.mvn", n_mels * lfr_m)
    kw = dict(cfg)
    kw.update(cfg["model_conf"])
    model = tables.model_classes.get("FsmnVADStreaming")(**kw)
    with torch.no_grad():
        last = model.encoder.out_linear2.linear
        last.weight.zero_()
        last.bias.zero_()
        last.bias[0] = -20.0
    torch.save(model.state_dict(), out / "model.pt")
    return out


def build_tiny_ct_punc(out: Path) -> Path:
    """A tiny CT-Transformer punctuation model (random: puts marks anywhere)."""
    import torch
    import yaml

    import funasr  # noqa: F401
    from funasr.register import tables

    out = Path(out)
    tokens = _char_tokens(out)
    d = 16
    cfg = {
        "model": "CTTransformer",
        "model_conf": {"ignore_id": 0, "embed_unit": d, "att_unit": d, "dropout_rate": 0.1,
                       "punc_list": ["<unk>", "_", "，", "。", "？", "、"],
                       "punc_weight": [1.0] * 6, "sentence_end_id": 3},
        "encoder": "SANMEncoder",
        "encoder_conf": {"input_size": d, "output_size": d, "attention_heads": 2,
                         "linear_units": 32, "num_blocks": 1, "dropout_rate": 0.1,
                         "positional_dropout_rate": 0.1, "attention_dropout_rate": 0.0,
                         "input_layer": "pe", "pos_enc_class": "SinusoidalPositionEncoder",
                         "normalize_before": True, "kernel_size": 11, "sanm_shfit": 0,
                         "selfattention_layer_type": "sanm", "padding_idx": 0},
        "tokenizer": "CharTokenizer",
        "tokenizer_conf": {"unk_symbol": "<unk>"},
    }
    (out / "config.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False, allow_unicode=True),
                                     encoding="utf-8")
    kw = dict(cfg)
    kw.update(cfg["model_conf"])
    model = tables.model_classes.get("CTTransformer")(**kw, vocab_size=len(tokens))
    torch.save(model.state_dict(), out / "model.pt")
    return out


SENSEVOICE_SPECIALS = ["<|zh|>", "<|en|>", "<|yue|>", "<|ja|>", "<|ko|>", "<|nospeech|>",
                       "<|withitn|>", "<|woitn|>", "<|HAPPY|>", "<|SAD|>", "<|ANGRY|>",
                       "<|NEUTRAL|>", "<|EMO_UNKNOWN|>", "<|Speech|>", "<|BGM|>",
                       "<|Laughter|>", "<|Applause|>"]


def build_tiny_sensevoice(out: Path) -> Path:
    """A tiny SenseVoiceSmall: a SentencePiece model trained offline on a few lines, with the
    prompt/rich tags as user symbols (the loader picks up ``bpe.model``)."""
    import sentencepiece as spm
    import torch
    import yaml

    import funasr  # noqa: F401
    from funasr.register import tables

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    corpus = out / "corpus.txt"
    corpus.write_text("\n".join(["hello world this is a test", "voice cloning tiny model",
                                 "你好世界", "the quick brown fox"] * 50), encoding="utf-8")
    spm.SentencePieceTrainer.train(
        input=str(corpus), model_prefix=str(out / "bpe"), vocab_size=120, model_type="bpe",
        character_coverage=1.0, user_defined_symbols=SENSEVOICE_SPECIALS, unk_id=0, bos_id=1,
        eos_id=2, pad_id=-1, minloglevel=2)
    corpus.unlink()
    (out / "bpe.vocab").unlink()
    vocab = spm.SentencePieceProcessor(model_file=str(out / "bpe.model")).get_piece_size()
    n_mels, lfr_m, lfr_n, d = 80, 7, 6, 32
    cfg = {
        "model": "SenseVoiceSmall",
        "model_conf": {"length_normalized_loss": True, "sos": 1, "eos": 2, "ignore_id": -1},
        "encoder": "SenseVoiceEncoderSmall",
        "encoder_conf": {"output_size": d, "attention_heads": 2, "linear_units": 64,
                         "num_blocks": 2, "tp_blocks": 1, "dropout_rate": 0.1,
                         "positional_dropout_rate": 0.1, "attention_dropout_rate": 0.1,
                         "input_layer": "pe", "pos_enc_class": "SinusoidalPositionEncoder",
                         "normalize_before": True, "kernel_size": 11, "sanm_shfit": 0,
                         "selfattention_layer_type": "sanm"},
        "frontend": "WavFrontend",
        "frontend_conf": {"fs": 16000, "window": "hamming", "n_mels": n_mels,
                          "frame_length": 25, "frame_shift": 10, "lfr_m": lfr_m,
                          "lfr_n": lfr_n, "dither": 0.0},
        "tokenizer": "SentencepiecesTokenizer",
        "tokenizer_conf": {"unk_symbol": "<unk>", "split_with_space": True},
        "ctc_conf": {"dropout_rate": 0.0, "ctc_type": "builtin", "reduce": True,
                     "ignore_nan_grad": True},
        "specaug": None, "normalize": None,
    }
    (out / "config.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False), encoding="utf-8")
    kw = dict(cfg)
    kw.update(cfg["model_conf"])
    model = tables.model_classes.get("SenseVoiceSmall")(**kw, input_size=n_mels * lfr_m,
                                                        vocab_size=vocab)
    torch.save(model.state_dict(), out / "model.pt")
    return out
