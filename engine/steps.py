"""The step registry: every run the product knows, each declared once.

An entry names its request class and run function (as ``module:name`` strings, resolved
lazily so the TUI never imports a step's heavy modules), how its request is filled from a
project (project defaults such as the language), which request fields are per-run inputs
rather than settings, which files it owns, and whether it runs as a job. The TUI panes, the
CLI commands and the job runner all build requests through :mod:`engine.requests` from this
one table; nobody keeps a private copy of it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

# Request fields every surface fills itself, never shown or stored as settings.
FIXED_FIELDS = ("project_root",)


@dataclass(frozen=True)
class StepEntry:
    id: str
    title: str
    summary: str
    optional: bool = False
    request: str = ""  # "module:RequestClass" ('' for the project step: nothing to run)
    run: str = ""  # "module:run_function"
    job: bool = True  # the TUI runs it as a detached job
    wizard: bool = True  # a wizard step in the sidebar; False for actions (export, listen)
    # Per-run inputs (what to import, what to say): given each time, never stored.
    inputs: tuple[str, ...] = ()
    # Request field -> project attribute used when the user stored nothing for that field.
    from_project: tuple[tuple[str, str], ...] = ()
    # Files and folders this step writes and owns, relative to the project root
    # ("{slug}", "{version}": the project's). Other steps change them only through this step.
    outputs: tuple[str, ...] = ()
    # The wizard pane that starts this run and shows its progress (actions live in a step's).
    pane: str = ""
    # The steps whose outputs this one reads; empty: every earlier step. It goes stale when
    # one of them, or a step before one of them, changes its output.
    reads: tuple[str, ...] = ()

    @property
    def pane_id(self) -> str:
        return self.pane or self.id

    def request_cls(self) -> type:
        from engine.runner import resolve

        return resolve(self.request)

    def run_func(self) -> Callable[..., Any]:
        from engine.runner import resolve

        return resolve(self.run)

    def owned(self, slug: str, version: str = "v2") -> tuple[str, ...]:
        return tuple(o.replace("{slug}", slug).replace("{version}", version) for o in self.outputs)


_SYNTH_LANG = (("language", "language"), ("ref_language", "language"))

ENTRIES: tuple[StepEntry, ...] = (
    StepEntry("project", "Project", "Name, language and model version", job=False,
              outputs=("project.toml",)),
    StepEntry("import", "Import", "Bring in recordings; check length, loudness, clipping",
              request="engine.audio.import_step:ImportRequest",
              run="engine.audio.import_step:run_import", inputs=("sources",),
              outputs=("audio/raw/",)),
    StepEntry("denoise", "Clean", "Denoise or isolate the voice (optional)", optional=True,
              request="engine.audio.denoise_step:DenoiseRequest",
              run="engine.audio.denoise_step:run_denoise", inputs=("source",),
              outputs=("audio/clean/",)),
    StepEntry("slice", "Slice", "Cut recordings into short clips at silences",
              request="engine.audio.slice_step:SliceRequest",
              run="engine.audio.slice_step:run_slice", inputs=("source",),
              outputs=("audio/slices/",)),
    # ASR owns its records; the .list belongs to proofreading, which merges ASR results in.
    StepEntry("asr", "Transcribe", "Speech recognition writes a first transcript",
              request="engine.asr.request:AsrRequest", run="engine.asr.step:run_asr",
              from_project=(("language", "language"),),
              outputs=("asr/records.jsonl",)),
    StepEntry("proofread", "Proofread", "Listen to each clip and fix its text", job=False,
              outputs=("asr/{slug}.list", "asr/journal.jsonl", "audio/edits/")),
    StepEntry("format", "Format", "Phonemes, BERT, HuBERT and semantic tokens (1A)",
              request="engine.dataset.format.request:FormatRequest",
              run="engine.dataset.format.step:run_format",
              outputs=("logs/{slug}/2-name2text.txt", "logs/{slug}/3-bert/",
                       "logs/{slug}/4-cnhubert/", "logs/{slug}/5-wav32k/",
                       "logs/{slug}/6-name2semantic.tsv")),
    StepEntry("train", "Train", "Fine-tune SoVITS, then GPT",
              request="engine.train.step:TrainRequest", run="engine.train.step:run_train",
              inputs=("sovits", "gpt"),
              outputs=("SoVITS_weights/", "GPT_weights/", "logs/{slug}/logs_s2_{version}/",
                       "logs/{slug}/logs_s1_{version}/")),
    StepEntry("synthesize", "Synthesize", "Speak new text in the trained voice",
              request="engine.synth.request:SynthRequest", run="engine.synth.step:run_synthesize",
              inputs=("text", "piece_seeds", "output_name"),
              from_project=_SYNTH_LANG, outputs=("output/",)),
    # The voice changer: speech in, the same words out in the trained voice.
    StepEntry("convert", "Convert", "Say recorded speech again in the trained voice",
              optional=True, request="engine.convert.request:ConvertRequest",
              run="engine.convert.step:run_convert", inputs=("sources", "text"),
              from_project=(("language", "language"),), outputs=("output/converted/",),
              reads=("train",)),  # the trained weights, not what Synthesize spoke
    # Actions: their own status, lock and run folder (they no longer run as "synthesize").
    StepEntry("listen", "Listen to checkpoints", "One test sentence read by every checkpoint",
              wizard=False, request="engine.synth.request:ListenCheckpointsRequest",
              run="engine.synth.listen:run_listen_checkpoints", inputs=("text",),
              from_project=_SYNTH_LANG,
              outputs=("output/checkpoints/",), pane="synthesize"),
    # A long text as a resumable job (its own lock: short syntheses go on meanwhile).
    StepEntry("read", "Read a long text", "A text file read aloud piece by piece, resumable",
              wizard=False, request="engine.synth.request:ReadRequest",
              run="engine.synth.longtext:run_read",
              inputs=("text", "text_file", "piece_seeds", "output_name"),
              from_project=_SYNTH_LANG, outputs=("output/long/",), pane="synthesize"),
    StepEntry("refs", "Try references", "The best-ranked proofread clips each read a sentence",
              wizard=False, request="engine.synth.request:TryRefsRequest",
              run="engine.synth.refrank:run_try_refs", inputs=("text",),
              from_project=(("language", "language"),), outputs=("output/references/",),
              pane="synthesize"),
    StepEntry("export", "Export", "The take-home bundle, loadable by upstream's tools",
              wizard=False, request="engine.synth.request:ExportRequest",
              run="engine.synth.export:run_export", inputs=("dest",),
              from_project=(("ref_language", "language"),),
              outputs=("output/{slug}-export/", "output/{slug}-export.zip"), pane="synthesize"),
)

# Old name kept for callers that only need id/title/summary.
StepInfo = StepEntry

REGISTRY: dict[str, StepEntry] = {e.id: e for e in ENTRIES}
STEPS: tuple[StepEntry, ...] = tuple(e for e in ENTRIES if e.wizard)
STEP_IDS: tuple[str, ...] = tuple(s.id for s in STEPS)
STEP_BY_ID: dict[str, StepEntry] = {s.id: s for s in STEPS}
ACTION_IDS: tuple[str, ...] = tuple(e.id for e in ENTRIES if not e.wizard)
RUN_IDS: tuple[str, ...] = tuple(e.id for e in ENTRIES)


def entry(step_id: str) -> StepEntry:
    try:
        return REGISTRY[step_id]
    except KeyError:
        raise KeyError(f"no step {step_id!r}; known: {', '.join(RUN_IDS)}") from None


def later_steps(step_id: str) -> tuple[str, ...]:
    """Wizard steps after ``step_id``: their outputs go stale when its output changes.
    Actions (export, listen) make nothing later steps read."""
    if step_id not in STEP_IDS:
        return ()
    at = STEP_IDS.index(step_id)

    def depends(later: str) -> bool:
        reads = REGISTRY[later].reads
        return not reads or any(at <= STEP_IDS.index(r) for r in reads)

    return tuple(s for s in STEP_IDS[at + 1 :] if depends(s))


def owner_of(rel_path: str, slug: str, version: str = "v2") -> str | None:
    """The step that owns a project-relative path: the most specific declared output."""
    best, best_len = None, -1
    for e in ENTRIES:
        for out in e.owned(slug, version):
            hit = rel_path == out.rstrip("/") or (out.endswith("/") and rel_path.startswith(out))
            if hit and len(out) > best_len:
                best, best_len = e.id, len(out)
    return best
