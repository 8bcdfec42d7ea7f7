"""Where each step's files live inside a project folder (all relative to the root).

The experiment folder under ``logs/<slug>/`` mirrors upstream GPT-SoVITS exactly, so its
trainers could read what our format step writes.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

PROJECT_FILE = "project.toml"


@dataclass(frozen=True)
class Layout:
    root: Path
    slug: str

    @property
    def project_file(self) -> Path:
        return self.root / PROJECT_FILE

    @property
    def raw_dir(self) -> Path:  # decoded copies of imported sources (sources never touched)
        return self.root / "audio" / "raw"

    @property
    def clean_dir(self) -> Path:  # denoised / vocal-isolated copies
        return self.root / "audio" / "clean"

    @property
    def slices_dir(self) -> Path:  # 32 kHz mono clips from the slicer
        return self.root / "audio" / "slices"

    @property
    def edits_dir(self) -> Path:  # new wavs written by proofreading merges and splits
        return self.root / "audio" / "edits"

    @property
    def list_file(self) -> Path:  # upstream .list dialect: wav|speaker|LANG|text
        return self.root / "asr" / f"{self.slug}.list"

    @property
    def asr_records(self) -> Path:  # richer per-clip ASR record (confidence etc.), JSONL
        return self.root / "asr" / "records.jsonl"

    @property
    def proofread_journal(self) -> Path:
        return self.root / "asr" / "journal.jsonl"

    @property
    def exp_dir(self) -> Path:  # upstream logs/<exp_name>/ (1A output, training checkpoints)
        return self.root / "logs" / self.slug

    @property
    def sovits_weights_dir(self) -> Path:
        return self.root / "SoVITS_weights"

    @property
    def gpt_weights_dir(self) -> Path:
        return self.root / "GPT_weights"

    @property
    def runs_dir(self) -> Path:  # detached jobs: runs/<step>/<id>/
        return self.root / "runs"

    @property
    def output_dir(self) -> Path:  # synthesized speech
        return self.root / "output"

    def rel(self, path: Path | str) -> str:
        """A path as stored in project.toml: relative to the root when inside it."""
        p = Path(path)
        try:
            return p.resolve().relative_to(self.root.resolve()).as_posix()
        except ValueError:
            return str(p)

    def abs(self, stored: str) -> Path:
        p = Path(stored)
        return p if p.is_absolute() else self.root / p
