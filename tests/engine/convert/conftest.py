"""The synthesize tests' trained-looking project and tiny BERT/HuBERT, reused: the voice
changer needs the same voice (SoVITS weights, a proofread reference, HuBERT); and the ASR
tests' tiny Whisper, for sources whose text is not given."""
from tests.engine.asr.conftest import tiny_whisper  # noqa: F401
from tests.engine.synth.conftest import (bert_dir, hubert_dir, one_torch_thread,  # noqa: F401
                                         voice, voice_template)
