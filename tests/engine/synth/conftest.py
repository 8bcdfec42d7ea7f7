"""Tiny BERT/HuBERT folders (the format tests' fixtures) and a trained-looking project."""
from pathlib import Path

import pytest
import torch

from tests.engine.synth.voicekit import build_template, copy_project, install_models
from tests.helpers.speech import have_espeak
from tests.helpers.tiny_feature_models import build_bert, build_hubert


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Two torch threads on the shared 2-core test box thrash; one is much faster."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def bert_dir(tmp_path_factory) -> Path:
    """As wide as chinese-roberta-wwm-ext-large (1024: the GPT's bert_proj reads that width)."""
    return build_bert(tmp_path_factory.mktemp("chinese-roberta-1024"), hidden=1024, layers=2)


@pytest.fixture(scope="session")
def hubert_dir(tmp_path_factory) -> Path:
    return build_hubert(tmp_path_factory.mktemp("chinese-hubert-tiny"))


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
