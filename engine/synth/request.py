"""The requests of the synthesize area: speak text, listen to every checkpoint, export a
take-home bundle. No heavy imports: the TUI builds its forms from these."""
from __future__ import annotations

from dataclasses import dataclass

from engine.settings import knob

CUT_METHODS = ("cut0", "cut1", "cut2", "cut3", "cut4", "cut5")
LANGS = ("zh", "en", "ja")
# Text languages: zh/ja also read Latin-letter runs as English (upstream's 中英/日英 mix);
# auto picks per run by script (kana: ja, other CJK: zh, Latin: en).
TEXT_LANGS = ("zh", "en", "ja", "auto")
DEVICES = ("auto", "cpu", "cuda")


@dataclass
class SynthRequest:
    project_root: str
    text: str = knob("", "What to say", label="Text")
    language: str = knob("zh", "Language of the text (zh/ja also read English words; auto: per run)",
                         choices=TEXT_LANGS)
    ref_wav: str = knob("", "Reference clip (3–10 s) the voice imitates; relative to the project "
                            "(empty: a proofread clip is picked)", label="Reference clip")
    ref_text: str = knob("", "What the reference says (empty: taken from the proofread list)",
                         label="Reference text")
    ref_language: str = knob("zh", "Language of the reference text", choices=LANGS,
                             label="Reference language")
    ref_free: bool = knob(False, "Reference-free mode: ignore the reference text (the voice may drift)",
                          label="Reference-free")
    # Upstream's aux_ref_audio_paths: SoVITS averages the timbre of all references.
    aux_refs: list = knob([], "More clips whose timbre is averaged with the reference's "
                              "(relative to the project)", label="Extra references")
    gpt_path: str = knob("", "GPT weights (.ckpt; empty: the newest in GPT_weights/)",
                         label="GPT weights")
    sovits_path: str = knob("", "SoVITS weights (.pth; empty: the newest in SoVITS_weights/)",
                            label="SoVITS weights")
    cut_method: str = knob("cut1", "How to cut the text: cut0 none, cut1 every 4 sentences, "
                                   "cut2 ~50 chars, cut3 at 。, cut4 at '.', cut5 every mark",
                           choices=CUT_METHODS)
    top_k: int = knob(15, "Sample among the k likeliest tokens", min=1, max=100, label="Top-k")
    top_p: float = knob(1.0, "Sample within this share of probability", min=0.0, max=1.0,
                        label="Top-p")
    temperature: float = knob(1.0, "Randomness of sampling", min=0.01, max=2.0)
    repetition_penalty: float = knob(1.35, "Discourage repeating tokens", min=0.5, max=2.0)
    speed: float = knob(1.0, "Speaking speed", min=0.6, max=1.65)
    pause_s: float = knob(0.3, "Silence between pieces", min=0.01, max=1.0, unit="s",
                          label="Pause between pieces")
    seed: int = knob(-1, "Random seed (-1: a new one each time); piece i uses seed + i",
                     min=-1, max=2**31 - 1)
    # Per-piece re-roll: {"<piece index>": seed}. Other pieces keep seed + i, so they stay
    # the same when one piece is re-rolled.
    piece_seeds: dict = knob({}, "Seeds for single pieces, {index: seed} (re-roll one sentence)",
                             label="Piece seeds")
    device: str = knob("auto", "Where to run", choices=DEVICES)
    precision: str = knob("exact", "CPU speed-up: exact matches upstream; bf16 (GPT ~1.6x, "
                                   "AVX512-BF16 CPUs) and int8 (~2x) round the maths, so "
                                   "tokens may differ",
                          choices=("exact", "bf16", "int8"))
    # GPU decoding (engine.synth.batching, engine.models.gpt.graph): same codes, less time.
    batch_pieces: str = knob("auto", "Decode the text's pieces together, 8 at a time: auto on a "
                                     "GPU (faster there), on also on CPU (not faster), off",
                             choices=("auto", "on", "off"), label="Batch pieces")
    cuda_graphs: bool = knob(True, "On a GPU, replay each GPT decoding step as a CUDA graph "
                                   "(faster); off: the plain loop", label="CUDA graphs")
    bert_dir: str = knob("", "Folder of chinese-roberta-wwm-ext-large (empty: the models folder)",
                         label="BERT folder")
    hubert_dir: str = knob("", "Folder of chinese-hubert-base (empty: the models folder)",
                           label="HuBERT folder")
    allow_download: bool = knob(True, "Download missing BERT/HuBERT from Hugging Face",
                                label="Allow downloads")
    output_name: str = knob("", "File name under output/ (empty: <slug>-<time>.wav)",
                            label="Output file name")
    # The ASR back-check (engine.synth.backcheck): on by default, skipped with a note when
    # no ASR model is installed.
    back_check: bool = knob(True, "Transcribe every piece and re-roll the ones that do not say "
                                  "their text (when an ASR model is installed)",
                            label="ASR back-check")
    max_rerolls: int = knob(2, "Re-rolls of a piece that fails the back-check (the best take "
                               "is kept)", min=0, max=10, label="Re-rolls per piece")
    max_error: float = knob(0.35, "A piece passes when at most this share of its words (en) or "
                                  "characters (zh/ja) is misheard", min=0.0, max=1.0,
                            label="Back-check max error")
    asr_model_dir: str = knob("", "ASR model folder for the back-check (empty: an installed one)",
                              label="Back-check ASR folder")


@dataclass
class ListenCheckpointsRequest:
    """Read one test sentence with every saved weight file, one wav each, to pick by ear."""

    project_root: str
    text: str = knob("", "The test sentence every checkpoint reads", label="Text")
    language: str = knob("zh", "Language of the text", choices=TEXT_LANGS)
    ref_wav: str = knob("", "Reference clip (3–10 s; empty: a proofread clip is picked)",
                        label="Reference clip")
    ref_text: str = knob("", "What the reference says (empty: taken from the proofread list)",
                         label="Reference text")
    ref_language: str = knob("zh", "Language of the reference text", choices=LANGS,
                             label="Reference language")
    pairs: str = knob("each", "each: every SoVITS with the newest GPT and every GPT with the "
                              "newest SoVITS; grid: every combination", choices=("each", "grid"),
                      label="Checkpoint pairs")
    seed: int = knob(1234, "Random seed, the same for every checkpoint so they compare fairly",
                     min=0, max=2**31 - 1)
    device: str = knob("auto", "Where to run", choices=DEVICES)
    bert_dir: str = knob("", "Folder of chinese-roberta-wwm-ext-large (empty: the models folder)",
                         label="BERT folder")
    hubert_dir: str = knob("", "Folder of chinese-hubert-base (empty: the models folder)",
                           label="HuBERT folder")
    allow_download: bool = knob(True, "Download missing BERT/HuBERT from Hugging Face",
                                label="Allow downloads")


@dataclass
class ExportRequest:
    """A take-home bundle: the chosen weights exactly as written (upstream's format), the
    reference clip with its text, and a small settings TOML."""

    project_root: str
    gpt_path: str = knob("", "GPT weights (.ckpt; empty: the newest in GPT_weights/)",
                         label="GPT weights")
    sovits_path: str = knob("", "SoVITS weights (.pth; empty: the newest in SoVITS_weights/)",
                            label="SoVITS weights")
    ref_wav: str = knob("", "Reference clip to ship (empty: a proofread clip is picked)",
                        label="Reference clip")
    ref_text: str = knob("", "What the reference says (empty: taken from the proofread list)",
                         label="Reference text")
    ref_language: str = knob("zh", "Language of the reference text", choices=LANGS,
                             label="Reference language")
    dest: str = knob("", "Bundle folder (empty: output/<slug>-export)", label="Bundle folder")
    make_zip: bool = knob(True, "Also write <bundle>.zip next to the folder",
                          label="Also write a zip")


UNITS = ("paragraph", "chapter")


@dataclass
class ReadRequest(SynthRequest):
    """A long text read as a resumable job (engine.synth.longtext): every synthesis knob,
    plus the file and how to cut it into outputs."""

    text_file: str = knob("", "A UTF-8 text file to read aloud (empty: the text)",
                          label="Text file")
    unit: str = knob("paragraph", "One output file per paragraph (blank-line separated) or "
                                  "per chapter (lines such as 'Chapter 3' or '第三章')",
                     choices=UNITS, label="One file per")


@dataclass
class TryRefsRequest:
    """Rank the proofread clips as references and read one test sentence with the best few."""

    project_root: str
    text: str = knob("", "The test sentence every reference reads", label="Text")
    language: str = knob("zh", "Language of the text", choices=TEXT_LANGS)
    top: int = knob(5, "How many of the best-ranked references read the sentence", min=1,
                    max=20, label="References to try")
    use_asr: bool = knob(True, "Rank by ASR agreement with the clip's text too (when an ASR "
                               "model is installed)", label="Rank with ASR")
    asr_model_dir: str = knob("", "ASR model folder for the ranking (empty: an installed one)",
                              label="Ranking ASR folder")
    gpt_path: str = knob("", "GPT weights (.ckpt; empty: the newest in GPT_weights/)",
                         label="GPT weights")
    sovits_path: str = knob("", "SoVITS weights (.pth; empty: the newest in SoVITS_weights/)",
                            label="SoVITS weights")
    seed: int = knob(1234, "Random seed, the same for every reference so they compare fairly",
                     min=0, max=2**31 - 1)
    device: str = knob("auto", "Where to run", choices=DEVICES)
    bert_dir: str = knob("", "Folder of chinese-roberta-wwm-ext-large (empty: the models folder)",
                         label="BERT folder")
    hubert_dir: str = knob("", "Folder of chinese-hubert-base (empty: the models folder)",
                           label="HuBERT folder")
    allow_download: bool = knob(True, "Download missing BERT/HuBERT from Hugging Face",
                                label="Allow downloads")
