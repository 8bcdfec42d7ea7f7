"""Tiny BERT/HuBERT folders (the format tests' fixtures) and a trained-looking project."""
from pathlib import Path

import pytest
import torch

# Characters of the Chinese test texts (after normalisation), for the tiny BERT vocabulary.
ZH_CHARS = "你好世界今天天气很不错我们去公园吧一二三四五六七八九十零点百分之"
PUNCT = ",.!?…-"
from tests.engine.synth.voicekit import build_template, copy_project, install_models
from tests.helpers.speech import have_espeak


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Two torch threads on the shared 2-core test box thrash; one is much faster."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def bert_dir(tmp_path_factory) -> Path:
    """A tiny BERT as wide as chinese-roberta-wwm-ext-large (1024: the GPT's bert_proj reads
    that width), two layers so hidden_states[-3] exists, a vocabulary of the test texts."""
    from tokenizers import BertWordPieceTokenizer
    from transformers import BertConfig, BertForMaskedLM

    folder = tmp_path_factory.mktemp("chinese-roberta-1024")
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + sorted(set(ZH_CHARS + PUNCT))
    BertWordPieceTokenizer({t: i for i, t in enumerate(vocab)}, lowercase=True).save(
        str(folder / "tokenizer.json"))
    torch.manual_seed(0)
    cfg = BertConfig(vocab_size=len(vocab), hidden_size=1024, num_hidden_layers=2,
                     num_attention_heads=2, intermediate_size=32, max_position_embeddings=128)
    BertForMaskedLM(cfg).save_pretrained(str(folder))
    return folder


@pytest.fixture(scope="session")
def hubert_dir(tmp_path_factory) -> Path:
    """A tiny HuBERT, 768 wide like chinese-hubert-base (SoVITS's ssl_proj reads 768), one
    layer, thin convolutions whose strides multiply to 320 (50 frames/s); with the
    preprocessor_config.json the hub folder has."""
    from transformers import HubertConfig, HubertModel, Wav2Vec2FeatureExtractor

    folder = tmp_path_factory.mktemp("chinese-hubert-tiny")
    torch.manual_seed(0)
    cfg = HubertConfig(hidden_size=768, num_hidden_layers=1, num_attention_heads=2,
                       intermediate_size=64, conv_dim=(32,) * 7, num_conv_pos_embeddings=16,
                       num_conv_pos_embedding_groups=4)
    HubertModel(cfg).save_pretrained(str(folder))
    Wav2Vec2FeatureExtractor(sampling_rate=16000).save_pretrained(str(folder))
    return folder


@pytest.fixture(scope="session")
def voice_template(tmp_path_factory) -> Path:
    if not have_espeak():
        pytest.fail("espeak-ng is required (installed by scripts/setup.sh)")
    return build_template(tmp_path_factory.mktemp("template") / "proj")


@pytest.fixture
def voice(tmp_path, voice_template, bert_dir, hubert_dir, gsv_home) -> Path:  # noqa: F811
    """A fresh copy of the project, with BERT/HuBERT installed in the models folder."""
    install_models(bert_dir, hubert_dir)
    return copy_project(voice_template, tmp_path / "proj")
