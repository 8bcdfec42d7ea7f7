"""The synthesize engine tests' project and tiny models, for the convert pane tests."""
from tests.engine.synth.conftest import (bert_dir, hubert_dir, one_torch_thread,  # noqa: F401
                                         voice, voice_template)
