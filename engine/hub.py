"""Find a model folder, or fetch it: one resolver for ASR, BERT, HuBERT and pretrained bases.

Order: an explicit local folder → ``<models_dir>/<name>`` (engine.appconfig) → the Hugging
Face / ModelScope caches → a download into ``<models_dir>/<name>`` with progress events
(huggingface_hub, honouring ``HF_ENDPOINT`` or the app's mirror setting; resumable, as
huggingface_hub keeps partial ``.incomplete`` files; ModelScope for FunASR models). With no
network the error names exactly which files to put in which folder.

A spec may pin a ``revision`` (a commit: the files can then never change under us) and
declare sha256 digests per file (its own, or upstream's published ones in
:data:`PUBLISHED_SHA256`); every downloaded file with a declared digest is checked, and one
that does not match is removed and refused with a sentence.

    spec = ModelSpec("whisper-small", "Systran/faster-whisper-small",
                     files=("model.bin", "config.json", "tokenizer.json", "vocabulary.*"))
    path = yield from ensure_model(spec, explicit=req.model_dir)   # inside a step
"""
from __future__ import annotations

import fnmatch
import os
import queue
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Generator, Iterator

from engine.appconfig import load_config, models_dir
from engine.events import Event, Log, Progress, StepError


@dataclass(frozen=True)
class ModelSpec:
    name: str  # folder name under the models directory
    repo_id: str  # "Systran/faster-whisper-small", "iic/SenseVoiceSmall"
    files: tuple[str, ...]  # what must be present; glob patterns allowed ("vocabulary.*")
    source: str = "hf"  # hf | ms (ModelScope)
    optional: tuple[str, ...] = ()  # fetched when present in the repo, never required
    subfolder: str = ""  # the files live under this folder of the repo
    revision: str | None = None  # a commit sha pins the files; None: the repo's main branch
    sha256: tuple[tuple[str, str], ...] = ()  # (file name in the folder, hex digest)

    def expected_sha256(self, name: str) -> str | None:
        """The digest ``name`` (a file of this spec's folder) must have, if one is known."""
        own = dict(self.sha256).get(name)
        if own:
            return own.lower()
        return PUBLISHED_SHA256.get((self.repo_id, f"{self.subfolder}/{name}" if self.subfolder
                                     else name))

    @property
    def url(self) -> str:
        if self.source == "ms":
            return f"https://modelscope.cn/models/{self.repo_id}/files"
        return f"https://huggingface.co/{self.repo_id}/tree/{self.revision or 'main'}"


# Digests upstream GPT-SoVITS published for its pretrained files (its Docker/links.sha256,
# commit 452e2b5), by (repo, path in the repo). Nobody publishes any for the v2 bases.
PUBLISHED_SHA256: dict[tuple[str, str], str] = {
    ("lj1995/GPT-SoVITS", "s1bert25hz-2kh-longer-epoch=68e-step=50232.ckpt"):
        "b1c1e17e9c99547a89388f72048cd6e1b41b5a18b170e86a46dfde0324d63eb1",
    ("lj1995/GPT-SoVITS", "s2D488k.pth"):
        "fc579c1db3c1e21b721001cf99d7a584214280df19b002e200b630a34fa06eb8",
    ("lj1995/GPT-SoVITS", "s2G488k.pth"):
        "020a014e1e01e550e510f2f61fae5e5f5b6aab40f15c22f1f12f724df507e835",
    ("lj1995/GPT-SoVITS", "chinese-hubert-base/pytorch_model.bin"):
        "24164f129c66499d1346e2aa55f183250c223161ec2770c0da3d3b08cf432d3c",
    ("lj1995/GPT-SoVITS", "chinese-roberta-wwm-ext-large/pytorch_model.bin"):
        "e53a693acc59ace251d143d068096ae0d7b79e4b1b503fa84c9dcf576448c1d8",
}


def verify_download(spec: ModelSpec, folder: Path, names: list[str]) -> None:
    """Check every file in ``names`` (relative to ``folder``) that has a declared digest; a
    mismatch removes the file (a re-run fetches it afresh) and raises a StepError."""
    import hashlib

    for name in names:
        want = spec.expected_sha256(name)
        path = folder / name
        if not want or not path.is_file():
            continue
        h = hashlib.sha256()
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        got = h.hexdigest()
        if got != want:
            path.unlink(missing_ok=True)
            raise StepError(
                f"The download of {name} from {spec.repo_id} is not the published file "
                f"(sha256 {got[:12]}…, expected {want[:12]}…); it was removed.",
                "Run again to fetch it afresh. If it fails again, the hub (or mirror) serves "
                f"another file: fetch it by hand from {spec.url} and check it, or use a mirror "
                "you trust.")


def missing_files(folder: Path, spec: ModelSpec) -> list[str]:
    """Required patterns with no match in ``folder`` (empty: the folder is complete)."""
    folder = Path(folder)
    if not folder.is_dir():
        return list(spec.files)
    present = [p.name for p in folder.iterdir() if p.is_file() and p.stat().st_size > 0]
    return [pat for pat in spec.files if not fnmatch.filter(present, pat)]


def default_dir(spec: ModelSpec) -> Path:
    return models_dir() / spec.name


def offline_hint(spec: ModelSpec, folder: Path | None = None) -> str:
    folder = folder or default_dir(spec)
    files = ", ".join(spec.files)
    return (f"Put {files} from {spec.url}{'/' + spec.subfolder if spec.subfolder else ''} "
            f"into {folder}/ (or point the model folder setting at a folder holding them).")


def _hf_cached(spec: ModelSpec) -> Path | None:
    """The newest complete snapshot in the Hugging Face cache, without any network."""
    try:
        from huggingface_hub import snapshot_download

        path = Path(snapshot_download(spec.repo_id, revision=spec.revision,
                                      cache_dir=os.environ.get("HF_HUB_CACHE") or None,
                                      local_files_only=True))
    except Exception:  # not cached, or a partial cache: huggingface_hub raises various
        return None
    path = path / spec.subfolder if spec.subfolder else path
    return path if not missing_files(path, spec) else None


def _ms_cache_roots() -> list[Path]:
    roots = []
    if os.environ.get("MODELSCOPE_CACHE"):
        roots.append(Path(os.environ["MODELSCOPE_CACHE"]))
    roots.append(Path.home() / ".cache" / "modelscope" / "hub")
    return roots


def _ms_cached(spec: ModelSpec) -> Path | None:
    for root in _ms_cache_roots():  # modelscope ≥1.9 uses hub/models/<id>, older hub/<id>
        for cand in (root / "models" / spec.repo_id, root / spec.repo_id):
            cand = cand / spec.subfolder if spec.subfolder else cand
            if cand.is_dir() and not missing_files(cand, spec):
                return cand
    return None


def resolve_local(spec: ModelSpec, explicit: str | Path | None = None) -> Path | None:
    """A complete local folder for ``spec``, or None. An explicit folder that is incomplete
    is an error (the user asked for it), naming the missing files."""
    if explicit:
        folder = Path(explicit).expanduser()
        missing = missing_files(folder, spec)
        if missing:
            raise StepError(f"The model folder {folder} lacks {', '.join(missing)}.",
                            offline_hint(spec, folder))
        return folder
    own = default_dir(spec)
    if not missing_files(own, spec):
        return own
    return _ms_cached(spec) if spec.source == "ms" else _hf_cached(spec)


def hf_endpoint() -> str | None:
    """``HF_ENDPOINT`` if set, else the app config's mirror, else huggingface_hub's default."""
    return os.environ.get("HF_ENDPOINT") or load_config().hf_endpoint or None


def is_offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes", "on")


def _download_hf(spec: ModelSpec, dest: Path, report: Callable[[str, float, float | None], None]
                 ) -> None:
    from huggingface_hub import HfApi, hf_hub_download
    from tqdm.auto import tqdm as base_tqdm

    endpoint = hf_endpoint()
    names = HfApi(endpoint=endpoint).list_repo_files(spec.repo_id, revision=spec.revision)
    if spec.subfolder:
        names = [n[len(spec.subfolder) + 1:] for n in names if n.startswith(spec.subfolder + "/")]
    wanted = [n for n in names if any(fnmatch.fnmatch(n, p) for p in spec.files + spec.optional)]
    for name in wanted:
        class _Bar(base_tqdm):  # huggingface_hub draws progress through this class
            def __init__(self, *a, **kw):
                kw["disable"] = True
                super().__init__(*a, **kw)
                self._done = 0.0

            def update(self, n=1):
                self._done += n or 0
                report(name, self._done, self.total)

        hf_hub_download(spec.repo_id, name, subfolder=spec.subfolder or None,
                        revision=spec.revision, local_dir=dest, endpoint=endpoint,
                        tqdm_class=_Bar)
        if spec.subfolder:  # local_dir keeps the repo's sub-path; flatten it
            src = dest / spec.subfolder / name
            if src.exists():
                src.replace(dest / name)
        verify_download(spec, dest, [name])
    if spec.subfolder:
        try:
            (dest / spec.subfolder).rmdir()
        except OSError:
            pass


def _download_ms(spec: ModelSpec, dest: Path, report: Callable[[str, float, float | None], None]
                 ) -> None:
    mirror = load_config().modelscope_endpoint
    if mirror and not (os.environ.get("MODELSCOPE_ENDPOINT")
                       or os.environ.get("MODELSCOPE_DOMAIN")):
        os.environ["MODELSCOPE_ENDPOINT"] = mirror  # modelscope-hub; older modelscope: DOMAIN
        os.environ["MODELSCOPE_DOMAIN"] = mirror.split("://", 1)[-1]
    from modelscope import snapshot_download

    report(spec.repo_id, 0.0, None)
    snapshot_download(spec.repo_id, revision=spec.revision, local_dir=str(dest))
    verify_download(spec, dest, sorted(p.relative_to(dest).as_posix()
                                       for p in dest.rglob("*") if p.is_file()))


def download_model(spec: ModelSpec, dest: Path | None = None, step: str = "download"
                   ) -> Generator[Event, None, Path]:
    """Fetch ``spec`` into ``dest`` (default ``<models_dir>/<name>``), yielding Progress per
    chunk; returns the folder. Re-running after an interruption resumes partial files."""
    dest = Path(dest or default_dir(spec))
    if is_offline():
        raise StepError(f"The model {spec.name} is not on this machine and downloads are off "
                        "(HF_HUB_OFFLINE is set).", offline_hint(spec, dest))
    dest.mkdir(parents=True, exist_ok=True)
    events: queue.Queue = queue.Queue()
    outcome: dict[str, BaseException | None] = {"error": None}

    def report(name: str, done: float, total: float | None) -> None:
        events.put(Progress(step, done, total, message=f"downloading {spec.name}: {name}"))

    def work() -> None:
        try:
            (_download_ms if spec.source == "ms" else _download_hf)(spec, dest, report)
        except BaseException as e:  # noqa: BLE001 -- re-raised in the generator
            outcome["error"] = e

    yield Log(f"Downloading {spec.repo_id} into {dest}")
    thread = threading.Thread(target=work, name=f"download-{spec.name}", daemon=True)
    thread.start()
    last = 0.0
    while thread.is_alive() or not events.empty():
        try:
            ev = events.get(timeout=0.2)
        except queue.Empty:
            continue
        now = time.monotonic()
        if now - last > 0.25 or (ev.total and ev.done >= ev.total):  # coalesce chunk updates
            last = now
            yield ev
    err = outcome["error"]
    if isinstance(err, StepError):  # already a sentence (a digest mismatch)
        raise err
    if err is not None:
        raise StepError(f"Could not download {spec.repo_id}: {err}",
                        "Check the network or set a mirror (HF_ENDPOINT, e.g. "
                        "https://hf-mirror.com); re-running resumes. Or: "
                        + offline_hint(spec, dest)) from err
    missing = missing_files(dest, spec)
    if missing:
        raise StepError(f"The download of {spec.repo_id} lacks {', '.join(missing)}.",
                        offline_hint(spec, dest))
    return dest


def ensure_model(spec: ModelSpec, explicit: str | Path | None = None, *,
                 allow_download: bool = True, step: str = "download"
                 ) -> Generator[Event, None, Path]:
    """The folder for ``spec``: local if anywhere on this machine, else downloaded.
    Use as ``path = yield from ensure_model(...)`` inside a step."""
    found = resolve_local(spec, explicit)
    if found is not None:
        return found
    if not allow_download:
        raise StepError(f"The model {spec.name} is not on this machine.", offline_hint(spec))
    return (yield from download_model(spec, step=step))


def iter_ready(specs: list[ModelSpec]) -> Iterator[tuple[ModelSpec, Path | None]]:
    """Each spec with its local folder (or None): for a 'models' screen."""
    for spec in specs:
        try:
            yield spec, resolve_local(spec)
        except StepError:
            yield spec, None


# Upstream GPT-SoVITS's pretrained files (hub repo lj1995/GPT-SoVITS, spec §8), one folder
# each, for the format/train/synth steps: ``path = yield from ensure_model(PRETRAINED[k])``.
_GSV = "lj1995/GPT-SoVITS"
PRETRAINED: dict[str, ModelSpec] = {
    "bert": ModelSpec("chinese-roberta-wwm-ext-large", _GSV,
                      ("config.json", "pytorch_model.bin", "tokenizer.json"),
                      subfolder="chinese-roberta-wwm-ext-large"),
    "hubert": ModelSpec("chinese-hubert-base", _GSV,
                        ("config.json", "preprocessor_config.json", "pytorch_model.bin"),
                        subfolder="chinese-hubert-base"),
    "v2-base": ModelSpec("gsv-v2final-pretrained", _GSV,
                         ("s1bert25hz-5kh-longer-epoch=12-step=369668.ckpt", "s2G2333k.pth",
                          "s2D2333k.pth"), subfolder="gsv-v2final-pretrained"),
    # v2Pro and v2ProPlus share upstream's pretrained_models/v2Pro/ folder (spec upstream-v2pro
    # §9); each spec fetches only its own G/D pair. The G files are plain "PK" zips (no header).
    "v2Pro-base": ModelSpec("v2Pro", _GSV, ("s2Gv2Pro.pth", "s2Dv2Pro.pth"), subfolder="v2Pro"),
    "v2ProPlus-base": ModelSpec("v2Pro", _GSV, ("s2Gv2ProPlus.pth", "s2Dv2ProPlus.pth"),
                                subfolder="v2Pro"),
    # The GPT base of both Pro versions, at the root of upstream's pretrained_models/. It has
    # v2's GPT architecture (upstream loads it strictly with s1longer-v2.yaml, 732 phonemes),
    # so the v2 GPT manifest (tests/fixtures/manifests/gpt_v2_export.json) applies unchanged.
    "s1v3": ModelSpec("gsv-s1v3-pretrained", _GSV, ("s1v3.ckpt",)),
    # v2Pro/v2ProPlus speaker model (ERes2NetV2, 215 MB), engine.models.sv; upstream's path
    # is pretrained_models/sv/ and its sha256 is published nowhere.
    "sv": ModelSpec("sv", _GSV, ("pretrained_eres2netv2w24s4ep4.ckpt",), subfolder="sv"),
}

