"""A small gsv project with a transcript, for driving the editor by keys."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.dataset.listfile import read_document
from engine.dataset.proofread.journal import read_records
from engine.layout import Layout
from tests.engine.proofread.conftest import tone

TEXTS = ["hello there", "second clip", "third one here", "fourth", "the last clip"]


@pytest.fixture
def project(tmp_path: Path) -> Layout:
    lay = Layout(tmp_path / "proj", "voice")
    lay.root.mkdir()
    lay.project_file.write_text('schema_version = 1\nname = "Voice"\nslug = "voice"\n')
    wavs = [tone(lay.slices_dir / f"c{i}.wav", 1.0 + 0.5 * i, 180 + 40 * i) for i in range(5)]
    lines = [f"audio/slices/c{i}.wav|voice|EN|{t}\n" for i, t in enumerate(TEXTS)]
    lines.insert(2, "a malformed line | with two pipes |\n")
    lay.list_file.parent.mkdir(parents=True)
    lay.list_file.write_text("".join(lines))
    lay.asr_records.write_text("".join(
        json.dumps({"wav": f"audio/slices/c{i}.wav", "avg_logprob": -0.2 - 0.5 * i}) + "\n"
        for i in range(5)))
    assert all(w.exists() for w in wavs)
    return lay


def list_texts(lay: Layout) -> list[str]:
    return [ln.entry.text if ln.entry else ln.raw for ln in read_document(lay.list_file).lines]


def journal_kinds(lay: Layout) -> list[str]:
    return [r["kind"] for r in read_records(lay.proofread_journal)]


from tests.engine.proofread.pulse import pulse  # noqa: E402,F401  (re-exported fixture)
