"""The project model and its one file, ``project.toml``.

Read with tomllib, written with tomli-w, atomically (temp + fsync + rename) under an
inter-process lock, keeping the previous good version as ``project.toml.bak``. Paths inside
are relative to the project root, so a project folder can be moved to another machine.
"""
from __future__ import annotations

import datetime as _dt
import re
import shutil
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

import tomli_w

from engine.atomic import atomic_write_bytes
from engine.errors import ProjectError
from engine.filelock import FileLock, LockTimeout
from engine.hashcache import HashCache, hash_path
from engine.layout import PROJECT_FILE, Layout
from engine.slug import is_valid_slug, slugify
from engine.steps import RUN_IDS, STEP_IDS, later_steps

__all__ = ["ArtifactRecord", "LockTimeout", "Project", "ProjectError", "StepState", "hash_path"]

SCHEMA_VERSION = 1
STATUSES = ("pending", "running", "done", "failed", "stale")
LANGUAGES = {"zh": "Chinese", "en": "English", "ja": "Japanese"}
# v2Pro/v2ProPlus: v2 plus a speaker embedding of the reference (engine.models.sovits.config).
MODEL_VERSIONS = ("v1", "v2", "v2Pro", "v2ProPlus")
# What a new project gets from `gsv new` and the wizard: upstream's recommendation (v2's
# cost, a better likeness). create_project's own default stays v2 for callers that pass none.
NEW_PROJECT_VERSION = "v2ProPlus"
VERSION_NOTES = {
    "v2ProPlus": "recommended: v2 plus the reference voice's speaker embedding, a larger decoder",
    "v2Pro": "the same speaker embedding with v2's decoder size (a little faster)",
    "v2": "the classic model, no speaker embedding (smallest downloads)",
    "v1": "the first model, a smaller phoneme table: only to keep training an old v1 voice",
}
BACKUP_SUFFIX = ".bak"
# Every project.toml write holds the lock only to re-read, change and save (hashing happens
# before), so a wait this long means the holder is stuck, not busy.
LOCK_TIMEOUT_S = 30.0


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
    for sid in RUN_IDS:
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

    def typed(value: Any, key: str, kind: type, expected: str) -> Any:
        if not isinstance(value, kind) or isinstance(value, bool) is not (kind is bool):
            raise bad(f"{key} should be {expected}, not {_describe(value)}.")
        return value

    sv = doc.get("schema_version")
    if not isinstance(sv, int) or isinstance(sv, bool):
        raise bad("schema_version is missing or not an integer")
    if sv > SCHEMA_VERSION:
        raise ProjectError(f"{file} was written by a newer gsv-tui (schema {sv}, this one reads "
                           f"up to {SCHEMA_VERSION}).", "Upgrade gsv-tui to open it.")
    name, slug = doc.get("name"), doc.get("slug")
    if name is None or name == "":
        raise bad("name is missing")
    typed(name, "name", str, "text (a quoted string)")
    typed(slug, "slug", str, "text (a quoted string)")
    if not is_valid_slug(slug):
        raise bad(f"slug {slug!r} is not an ASCII slug (lower-case letters, digits, - and _)")
    language = typed(doc.get("language", "en"), "language", str, "text (a quoted string)")
    if language not in LANGUAGES:
        raise bad(f"language {language!r} is not one of {', '.join(LANGUAGES)}")
    version = typed(doc.get("version", "v2"), "version", str, "text (a quoted string)")
    if version not in MODEL_VERSIONS:
        raise bad(f"version {version!r} is not one of {', '.join(MODEL_VERSIONS)}")
    created = doc.get("created", "")
    if isinstance(created, (_dt.date, _dt.time)):  # an unquoted TOML date is still a date
        created = created.isoformat()
    typed(created, "created", str, "text (a quoted date)")
    settings = typed(doc.get("settings", {}), "settings", dict,
                     "a table ([settings.<step>] sections)")
    for sid, values in settings.items():
        typed(values, f"settings.{sid}", dict, f"a table ([settings.{sid}] with one knob a line)")
    steps: dict[str, StepState] = {}
    for sid, entry in typed(doc.get("steps", {}), "steps", dict,
                            "a table ([steps.<step>] sections)").items():
        if sid not in RUN_IDS:
            continue  # a step this version does not know
        steps[sid] = _step_from_toml(sid, typed(entry, f"steps.{sid}", dict,
                                                f"a table ([steps.{sid}])"), typed, bad)
    known = {"schema_version", "name", "slug", "language", "version", "created", "settings", "steps"}
    return Project(root=root, name=name, slug=slug, language=language, version=version,
                   created=created, settings={k: dict(v) for k, v in settings.items()},
                   steps=steps, extra={k: v for k, v in doc.items() if k not in known})


def _step_from_toml(sid: str, entry: dict[str, Any], typed: Callable[..., Any],
                    bad: Callable[[str], ProjectError]) -> StepState:
    key = f"steps.{sid}"
    status = typed(entry.get("status", "pending"), f"{key}.status", str, "text (a quoted string)")
    if status not in STATUSES:
        raise bad(f"{key}.status {status!r} is not one of {', '.join(STATUSES)}")
    text = {k: typed(entry.get(k, ""), f"{key}.{k}", str, "text (a quoted string)")
            for k in ("updated", "job", "message")}
    arts = []
    for i, a in enumerate(typed(entry.get("artifacts", []), f"{key}.artifacts", list,
                                "a list of tables ([[" + key + ".artifacts]])")):
        where = f"{key}.artifacts[{i}]"
        typed(a, where, dict, "a table with a path")
        if "path" not in a:
            raise bad(f"{where} has no path")
        arts.append(ArtifactRecord(*(typed(a.get(k, ""), f"{where}.{k}", str, "text (a quoted string)")
                                     for k in ("path", "sha256", "kind"))))
    return StepState(status, text["updated"], text["job"], text["message"], arts)


def _describe(value: Any) -> str:
    """A TOML value's type as a user reads the file, with the value itself when short."""
    if isinstance(value, bool):
        kind = "true/false"
    elif isinstance(value, (int, float)):
        kind = "a number"
    elif isinstance(value, str):
        kind = "text"
    elif isinstance(value, list):
        kind = "a list"
    elif isinstance(value, dict):
        return "a table"
    elif value is None:
        return "missing"
    else:
        kind = "a date"
    shown = repr(value) if not isinstance(value, bool) else str(value).lower()
    return f"{kind} ({shown})" if len(shown) <= 40 else kind


def _backup_if_any(file: Path) -> Path | None:
    bak = file.with_name(file.name + BACKUP_SUFFIX)
    return bak if bak.exists() else None


def _restore_hint(file: Path) -> str:
    bak = _backup_if_any(file)
    if bak:
        return (f"The previous good version is {bak}. Fix it in a text editor, or restore it "
                f"with `gsv restore-backup {file.parent}`.")
    return "Fix it in a text editor."


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


def _lock(root: Path, timeout: float | None = None) -> FileLock:
    return FileLock(root / ".project.lock", LOCK_TIMEOUT_S if timeout is None else timeout,
                    what=str(root / PROJECT_FILE),
                    hint=f"Wait for it to finish and try again (`gsv jobs -C {root}` lists "
                         "running jobs); if that process is stuck, stop it.")


def save_project(project: Project, *, timeout: float | None = None) -> None:
    """Atomically replace project.toml, keeping the previous *valid* file as the backup."""
    with _lock(project.root, timeout):
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


def update_project(root: Path | str, change: Callable[[Project], None], *,
                   timeout: float | None = None) -> Project:
    """Lock, re-read, apply ``change``, save: the way concurrent writers (TUI, jobs) edit.
    ``change`` runs under the lock, so it must be quick (no hashing, no I/O on big files).
    A lock held by someone else for ``timeout`` s raises ``LockTimeout`` (a ProjectError)."""
    root = find_root(root)
    with _lock(root, timeout):
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

def record_step(root: Path | str, step_id: str, status: str, *, message: str = "",
                job: str | None = None, artifacts: Iterable[tuple[str, str]] | None = None,
                timeout: float | None = None) -> Project:
    """Set a step's status; on ``done`` store its artefacts' hashes, and if they differ from
    what the step produced before, mark every later finished step stale.

    Hashing happens before the project lock is taken, each path once (a checkpoint reported
    by many events is read once) and through the hash cache (an unchanged file is not read)."""
    if status not in STATUSES:
        raise ValueError(status)
    root = find_root(root)
    new: list[ArtifactRecord] | None = None
    if status == "done" and artifacts is not None:
        new = _hash_artifacts(root, artifacts)

    def change(p: Project) -> None:
        st = p.step(step_id)
        st.status = status
        st.updated = now_iso()
        st.message = message
        if job is not None:
            st.job = job
        if new is not None:
            changed = {(a.path, a.sha256) for a in st.artifacts} != {(a.path, a.sha256) for a in new}
            st.artifacts = new
            if changed:
                mark_stale_after(p, step_id)

    return update_project(root, change, timeout=timeout)


def _hash_artifacts(root: Path, artifacts: Iterable[tuple[str, str]]) -> list[ArtifactRecord]:
    if not (root / PROJECT_FILE).exists():  # fail before reading gigabytes for nothing
        load_project(root)
    layout = Layout(root, "")
    kinds: dict[str, str] = {}
    for path, kind in artifacts:
        kinds.setdefault(layout.rel(path), kind)
    cache = HashCache(root)
    records = [ArtifactRecord(rel, cache.path_hash(layout.abs(rel)), kind) for rel, kind in kinds.items()]
    cache.save()
    return records


def mark_stale_after(project: Project, step_id: str) -> list[str]:
    marked: list[str] = []
    if step_id not in STEP_IDS:  # export and listen runs feed no later step
        return marked
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
