"""The project model and its one file, ``project.toml``.

Read with tomllib, written with tomli-w, atomically (temp + fsync + rename) under an
inter-process lock, keeping the previous good version as ``project.toml.bak``. Paths inside
are relative to the project root, so a project folder can be moved to another machine.
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import re
import shutil
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

import tomli_w

from engine.atomic import atomic_write_bytes
from engine.filelock import FileLock
from engine.layout import PROJECT_FILE, Layout
from engine.slug import is_valid_slug, slugify
from engine.steps import STEP_IDS, later_steps

SCHEMA_VERSION = 1
STATUSES = ("pending", "running", "done", "failed", "stale")
LANGUAGES = {"zh": "Chinese", "en": "English", "ja": "Japanese"}
MODEL_VERSIONS = ("v1", "v2")
BACKUP_SUFFIX = ".bak"


class ProjectError(Exception):
    """A problem with a project folder or file, phrased for the user, with what to do."""

    def __init__(self, message: str, hint: str = "", backup: Path | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.backup = backup

    def __str__(self) -> str:
        return f"{self.message}\n{self.hint}" if self.hint else self.message


@dataclass
class ArtifactRecord:
    path: str  # relative to the project root
    sha256: str
    kind: str = ""


@dataclass
class StepState:
    status: str = "pending"
    updated: str = ""
    job: str = ""  # run folder of the last job, relative
    message: str = ""  # last summary or failure reason
    artifacts: list[ArtifactRecord] = field(default_factory=list)


@dataclass
class Project:
    root: Path
    name: str
    slug: str
    language: str = "en"
    version: str = "v2"
    created: str = ""
    settings: dict[str, dict[str, Any]] = field(default_factory=dict)
    steps: dict[str, StepState] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)  # unknown keys, kept on save

    @property
    def layout(self) -> Layout:
        return Layout(self.root, self.slug)

    @property
    def file(self) -> Path:
        return self.root / PROJECT_FILE

    def step(self, step_id: str) -> StepState:
        return self.steps.setdefault(step_id, StepState())

    def step_settings(self, step_id: str) -> dict[str, Any]:
        return dict(self.settings.get(step_id, {}))


def now_iso() -> str:
    return _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat()


# --- (de)serialisation -------------------------------------------------------------------

def _to_toml(p: Project) -> dict[str, Any]:
    doc: dict[str, Any] = dict(p.extra)
    doc.update({"schema_version": SCHEMA_VERSION, "name": p.name, "slug": p.slug,
                "language": p.language, "version": p.version, "created": p.created})
    if p.settings:
        doc["settings"] = {k: v for k, v in p.settings.items() if v}
    steps = {}
    for sid in STEP_IDS:
        st = p.steps.get(sid)
        if st is None or (st.status == "pending" and not (st.artifacts or st.job or st.message)):
            continue
        entry: dict[str, Any] = {"status": st.status}
        for key in ("updated", "job", "message"):
            if getattr(st, key):
                entry[key] = getattr(st, key)
        if st.artifacts:
            entry["artifacts"] = [{k: v for k, v in vars(a).items() if v} for a in st.artifacts]
        steps[sid] = entry
    if steps:
        doc["steps"] = steps
    return doc


def _from_toml(root: Path, doc: dict[str, Any], file: Path) -> Project:
    def bad(msg: str) -> ProjectError:
        return ProjectError(f"{file}: {msg}", _restore_hint(file), _backup_if_any(file))

    sv = doc.get("schema_version")
    if not isinstance(sv, int):
        raise bad("schema_version is missing or not an integer")
    if sv > SCHEMA_VERSION:
        raise ProjectError(f"{file} was written by a newer gsv-tui (schema {sv}, this one reads "
                           f"up to {SCHEMA_VERSION}).", "Upgrade gsv-tui to open it.")
    name, slug = doc.get("name"), doc.get("slug")
    if not isinstance(name, str) or not name:
        raise bad("name is missing")
    if not isinstance(slug, str) or not is_valid_slug(slug):
        raise bad(f"slug {slug!r} is not an ASCII slug (lower-case letters, digits, - and _)")
    language = doc.get("language", "en")
    if language not in LANGUAGES:
        raise bad(f"language {language!r} is not one of {', '.join(LANGUAGES)}")
    version = doc.get("version", "v2")
    if version not in MODEL_VERSIONS:
        raise bad(f"version {version!r} is not one of {', '.join(MODEL_VERSIONS)}")
    steps: dict[str, StepState] = {}
    for sid, entry in (doc.get("steps") or {}).items():
        if sid not in STEP_IDS or not isinstance(entry, dict):
            continue
        status = entry.get("status", "pending")
        if status not in STATUSES:
            raise bad(f"steps.{sid}.status {status!r} is not one of {', '.join(STATUSES)}")
        arts = [ArtifactRecord(a["path"], a.get("sha256", ""), a.get("kind", ""))
                for a in entry.get("artifacts", []) if isinstance(a, dict) and "path" in a]
        steps[sid] = StepState(status, entry.get("updated", ""), entry.get("job", ""),
                               entry.get("message", ""), arts)
    known = {"schema_version", "name", "slug", "language", "version", "created", "settings", "steps"}
    return Project(root=root, name=name, slug=slug, language=language, version=version,
                   created=doc.get("created", ""), settings=dict(doc.get("settings") or {}),
                   steps=steps, extra={k: v for k, v in doc.items() if k not in known})


def _backup_if_any(file: Path) -> Path | None:
    bak = file.with_name(file.name + BACKUP_SUFFIX)
    return bak if bak.exists() else None


def _restore_hint(file: Path) -> str:
    bak = _backup_if_any(file)
    if bak:
        return (f"The previous good version is {bak}. Fix the line shown, or restore it with "
                f"`gsv restore-backup {file.parent}`.")
    return "Fix the line shown in a text editor."


_WHERE = re.compile(r"\s*\(at (?:line (\d+), column (\d+)|end of document)\)")


def parse_project_text(root: Path, text: str, file: Path) -> Project:
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = _WHERE.search(str(exc))
        if m and m.group(1):
            where = f"line {m.group(1)}, column {m.group(2)}"
        else:  # "at end of document": point at the last line
            lines = text.splitlines() or [""]
            where = f"line {len(lines)}, column {len(lines[-1]) + 1} (the end of the file)"
        reason = _WHERE.sub("", str(exc)).strip()
        raise ProjectError(f"{file} is not valid TOML at {where}: {reason}.",
                           _restore_hint(file), _backup_if_any(file)) from None
    return _from_toml(root, doc, file)


# --- public API ---------------------------------------------------------------------------

def find_root(path: Path | str) -> Path:
    """A project folder or its project.toml → the root folder."""
    p = Path(path).expanduser()
    if p.name == PROJECT_FILE:
        p = p.parent
    return p.resolve()


def load_project(path: Path | str) -> Project:
    root = find_root(path)
    file = root / PROJECT_FILE
    try:
        raw = file.read_bytes()
    except FileNotFoundError:
        raise ProjectError(f"No project at {root} (no {PROJECT_FILE}).",
                           "Create one with `gsv new NAME`, or open another folder.") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ProjectError(f"{file} is not UTF-8 text (byte {exc.start}).",
                           _restore_hint(file), _backup_if_any(file)) from None
    return parse_project_text(root, text, file)


def _lock(root: Path) -> FileLock:
    return FileLock(root / ".project.lock")


def save_project(project: Project) -> None:
    """Atomically replace project.toml, keeping the previous *valid* file as the backup."""
    with _lock(project.root):
        _save_locked(project)


def _save_locked(project: Project) -> None:
    file = project.file
    data = tomli_w.dumps(_to_toml(project)).encode("utf-8")
    if file.exists():
        old = file.read_bytes()
        if old == data:
            return
        try:
            parse_project_text(project.root, old.decode("utf-8"), file)
            atomic_write_bytes(file.with_name(file.name + BACKUP_SUFFIX), old)
        except (ProjectError, UnicodeDecodeError):
            pass  # never let a broken file overwrite the last good backup
    atomic_write_bytes(file, data)


def update_project(root: Path | str, change: Callable[[Project], None]) -> Project:
    """Lock, re-read, apply ``change``, save: the way concurrent writers (TUI, jobs) edit."""
    root = find_root(root)
    with _lock(root):
        project = load_project(root)
        change(project)
        _save_locked(project)
        return project


def create_project(root: Path | str, name: str, *, language: str = "en", version: str = "v2",
                   slug: str | None = None) -> Project:
    root = Path(root).expanduser().resolve()
    if (root / PROJECT_FILE).exists():
        raise ProjectError(f"{root} already holds a project.", "Open it instead, or pick another folder.")
    if not name.strip():
        raise ProjectError("A project needs a name.", "Give any name, in any script.")
    if language not in LANGUAGES:
        raise ProjectError(f"Language {language!r} is not supported.",
                           f"Use one of: {', '.join(LANGUAGES)}.")
    if version not in MODEL_VERSIONS:
        raise ProjectError(f"Model version {version!r} is not supported.",
                           f"Use one of: {', '.join(MODEL_VERSIONS)}.")
    slug = slug or slugify(name)
    if not is_valid_slug(slug):
        raise ProjectError(f"{slug!r} is not a valid slug.",
                           "Use lower-case ASCII letters, digits, - and _ (it names files and models).")
    root.mkdir(parents=True, exist_ok=True)
    project = Project(root=root, name=name.strip(), slug=slug, language=language,
                      version=version, created=now_iso())
    project.step("project").status = "done"
    project.step("project").updated = project.created
    save_project(project)
    return project


def restore_backup(root: Path | str) -> Project:
    """Put the last good version back (the broken file is kept as project.toml.broken)."""
    root = find_root(root)
    file = root / PROJECT_FILE
    bak = file.with_name(file.name + BACKUP_SUFFIX)
    if not bak.exists():
        raise ProjectError(f"No backup next to {file}.", "Fix the file by hand.")
    project = parse_project_text(root, bak.read_text(encoding="utf-8"), bak)
    with _lock(root):
        if file.exists():
            shutil.copy2(file, file.with_name(file.name + ".broken"))
        atomic_write_bytes(file, bak.read_bytes())
    return project


# --- step bookkeeping ---------------------------------------------------------------------

def hash_path(path: Path) -> str:
    """Content hash of a file; for a folder, of its files' names, sizes and contents."""
    h = hashlib.sha256()
    if path.is_file():
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        return h.hexdigest()
    if path.is_dir():
        for p in sorted(q for q in path.rglob("*") if q.is_file()):
            h.update(p.relative_to(path).as_posix().encode("utf-8") + b"\0")
            h.update(hash_path(p).encode("ascii"))
        return h.hexdigest()
    return ""


def record_step(root: Path | str, step_id: str, status: str, *, message: str = "",
                job: str | None = None, artifacts: Iterable[tuple[str, str]] | None = None) -> Project:
    """Set a step's status; on ``done`` store its artefacts' hashes, and if they differ from
    what the step produced before, mark every later finished step stale."""
    if status not in STATUSES:
        raise ValueError(status)

    def change(p: Project) -> None:
        st = p.step(step_id)
        st.status = status
        st.updated = now_iso()
        st.message = message
        if job is not None:
            st.job = job
        if status == "done" and artifacts is not None:
            layout = p.layout
            new = [ArtifactRecord(layout.rel(path), hash_path(layout.abs(layout.rel(path))), kind)
                   for path, kind in artifacts]
            old = {(a.path, a.sha256) for a in st.artifacts}
            changed = old != {(a.path, a.sha256) for a in new}
            st.artifacts = new
            if changed:
                mark_stale_after(p, step_id)

    return update_project(root, change)


def mark_stale_after(project: Project, step_id: str) -> list[str]:
    marked = []
    for later in later_steps(step_id):
        st = project.steps.get(later)
        if st and st.status == "done":
            st.status = "stale"
            st.message = f"inputs changed when '{step_id}' re-ran"
            marked.append(later)
    return marked


def set_step_settings(root: Path | str, step_id: str, values: dict[str, Any]) -> Project:
    """Store only knobs that differ from defaults (callers pass ``settings.non_defaults``)."""
    def change(p: Project) -> None:
        if values:
            p.settings[step_id] = dict(values)
        else:
            p.settings.pop(step_id, None)

    return update_project(root, change)
