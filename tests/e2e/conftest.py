"""The e2e journey reuses the format tests' tiny BERT/HuBERT folders and the small upstream
SoVITS export (session fixtures)."""
from tests.engine.format.conftest import bert_dir, hubert_dir, sovits_file  # noqa: F401
