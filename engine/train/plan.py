"""What a training run will do, said before it starts: the data set (clips, minutes, the
longest clips), the device and its memory, the batch sizes and why, and where each stage
resumes ("SoVITS from epoch 3, step 40", "GPT from the pretrained base"). The Train pane and
``gsv status`` show it; the step itself uses the same batch rule (:func:`choose_batch`).

Reads only small files (wav headers, the SoVITS manifest, the GPT state names, the probe
record) and asks nvidia-smi: no torch, so the TUI can call it."""
from __future__ import annotations

import wave
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.layout import Layout

SOVITS, GPT = "SoVITS", "GPT"


@dataclass(frozen=True)
class Clip:
    name: str
    seconds: float


@dataclass
class DataSummary:
    clips: int = 0
    seconds: float = 0.0
    longest: list[Clip] = field(default_factory=list)  # the three longest, longest first

    @property
    def minutes(self) -> float:
        return self.seconds / 60


@dataclass(frozen=True)
class Device:
    kind: str  # "cpu" | "cuda"
    name: str = "CPU"
    memory_gb: float = 0.0


@dataclass(frozen=True)
class Batch:
    size: int
    why: str
    source: str = "card"  # you | probe | card | cpu


@dataclass(frozen=True)
class Resume:
    stage: str
    state: str  # "base": from the pretrained base | "resume" | "finished"
    epoch: int = 0  # the epoch the run continues in (resume) or has finished (finished)
    step: int = 0

    def sentence(self) -> str:
        if self.state == "resume":
            return f"resumes {self.stage} from epoch {self.epoch} (step {self.step})"
        if self.state == "finished":
            return f"{self.stage} has finished its {self.epoch} epochs (step {self.step})"
        return f"{self.stage} starts from the pretrained base"


@dataclass
class TrainPlan:
    data: DataSummary
    device: Device
    stages: tuple[str, ...]
    batches: dict[str, Batch]
    resume: dict[str, Resume]
    epochs: dict[str, int]
    then: list[str] = field(default_factory=list)
    then_on_failure: bool = False

    def lines(self) -> list[str]:
        d = self.data
        longest = ", ".join(f"{c.name} ({c.seconds:.1f} s)" for c in d.longest)
        out = [f"Data set: {d.clips} clips, {d.minutes:.1f} minutes; longest: {longest or '—'}"]
        mem = f", {self.device.memory_gb:.0f} GB" if self.device.memory_gb else ""
        out.append(f"Device: {self.device.name}{mem}")
        for s in self.stages:
            b = self.batches[s]
            out.append(f"{s}: {self.epochs[s]} epochs, batch {b.size} ({b.why}); "
                       f"{self.resume[s].sentence()}")
        if self.then:
            when = "when training ends, also after a failure" if self.then_on_failure else \
                "when both stages have finished (never after a failure)"
            out.append(f"Then: runs `{' '.join(self.then)}` {when}, after a countdown you can cancel")
        return out


def wav_seconds(path: Path) -> float:
    """Length from the header (the Format step writes plain 16-bit PCM wavs)."""
    try:
        with wave.open(str(path), "rb") as w:
            return w.getnframes() / float(w.getframerate())
    except (OSError, EOFError, wave.Error):
        try:
            import soundfile as sf

            return float(sf.info(str(path)).duration)
        except Exception:  # noqa: BLE001 -- unreadable: the trainers skip it and say why
            return 0.0


def data_summary(exp_dir: Path) -> DataSummary:
    """The clips both trainers read: a 5-wav32k wav with a line in 2-name2text.txt."""
    text = exp_dir / "2-name2text.txt"
    try:
        names = {ln.split("\t", 1)[0] for ln in text.read_text(encoding="utf-8").splitlines() if ln}
    except OSError:
        return DataSummary()
    clips = [Clip(n, wav_seconds(exp_dir / "5-wav32k" / n)) for n in sorted(names)
             if (exp_dir / "5-wav32k" / n).is_file()]
    longest = sorted(clips, key=lambda c: (-c.seconds, c.name))[:3]
    return DataSummary(len(clips), sum(c.seconds for c in clips), longest)


def pick_device(requested: str) -> Device:
    from engine.doctor import detect_gpus

    gpus = [] if requested == "cpu" else detect_gpus()
    if not gpus:
        return Device("cpu")
    g = min(gpus, key=lambda x: x.memory_gb)
    return Device("cuda", g.name, g.memory_gb)


def choose_batch(stage: str, explicit: int, device: Device, exp_dir: Path) -> Batch:
    """The batch size a stage trains with, and why: yours, the probe's, or the card's."""
    if explicit:
        return Batch(explicit, "set by you", "you")
    if device.kind != "cuda":
        return Batch(2, "2 on CPU: small steps; CPU training is for trying things out", "cpu")
    from engine.train.probe import read_record

    rec = read_record(exp_dir)
    probed = rec.stages.get(stage.lower()) if rec and rec.device == device.name else None
    if probed and probed.batch:
        return Batch(probed.batch, f"the largest that fitted this card in the probe of {rec.when}",
                     "probe")
    size = max(1, int(device.memory_gb // 2))
    return Batch(size, f"half the card's {device.memory_gb:.0f} GB (upstream's rule)")


def sovits_resume(exp_dir: Path, version: str, epochs: int) -> Resume:
    from engine.train.sovits.checkpoints import candidates, ckpt_dir

    folder = ckpt_dir(exp_dir, version)
    pairs = candidates(folder) if folder.is_dir() else []
    if not pairs:
        return Resume(SOVITS, "base")
    e = pairs[0]
    epoch = e.epoch or _exported_epoch(exp_dir, e.step)
    if not epoch:
        return Resume(SOVITS, "resume", 0, e.step)
    if e.batch_in_epoch == 0 and epoch > epochs:  # saved after the last epoch
        return Resume(SOVITS, "finished", epoch - 1, e.step)
    return Resume(SOVITS, "resume", epoch, e.step)


def _exported_epoch(exp_dir: Path, step: int) -> int:
    """A manifest from before it recorded epochs: the export of that step names the epoch."""
    weights = exp_dir.parent.parent / "SoVITS_weights"
    for p in weights.glob(f"*_e*_s{step}.pth"):
        try:
            return int(p.stem.rsplit("_e", 1)[1].split("_s")[0]) + 1
        except (IndexError, ValueError):
            continue
    return 0


def gpt_resume(exp_dir: Path, version: str, epochs: int) -> Resume:
    from engine.train.gpt.state import saved_states, state_dir

    folder = state_dir(exp_dir, version)
    states = saved_states(folder) if folder.is_dir() else []
    if not states:
        return Resume(GPT, "base")
    done, step = (int(x.split("=")[1]) for x in states[0].stem.split("-"))
    if done >= epochs:
        return Resume(GPT, "finished", done, step)
    return Resume(GPT, "resume", done + 1, step)


def make_plan(layout: Layout, version: str, req: Any) -> TrainPlan:
    """``req`` is the TrainRequest the next run would use (engine.requests.build_request)."""
    exp = layout.exp_dir
    stages = {"both": (SOVITS, GPT), "sovits": (SOVITS,), "gpt": (GPT,)}[req.stages]
    device = pick_device(req.device)
    epochs = {SOVITS: req.sovits_epochs, GPT: req.gpt_epochs}
    batches = {SOVITS: choose_batch(SOVITS, req.sovits_batch_size, device, exp),
               GPT: choose_batch(GPT, req.gpt_batch_size, device, exp)}
    if getattr(req, "probe_batch", False):
        batches = {s: Batch(b.size, b.why + "; probed first on the longest clips", b.source)
                   if b.source == "card" else b for s, b in batches.items()}
    return TrainPlan(
        data=data_summary(exp), device=device, stages=stages,
        batches=batches,
        resume={SOVITS: sovits_resume(exp, version, req.sovits.get("epochs", epochs[SOVITS])),
                GPT: gpt_resume(exp, version, req.gpt.get("epochs", epochs[GPT]))},
        epochs=epochs, then=list(getattr(req, "then", []) or []),
        then_on_failure=bool(getattr(req, "then_on_failure", False)))


def resume_points(project: Any) -> dict[str, Resume]:
    """Where each stage of the next `gsv train` starts (stored settings; no nvidia-smi)."""
    from engine.requests import effective_settings

    s = effective_settings(project, "train")
    exp, version = project.layout.exp_dir, project.version
    return {SOVITS: sovits_resume(exp, version, int(s["sovits_epochs"])),
            GPT: gpt_resume(exp, version, int(s["gpt_epochs"]))}


def resume_line(project: Any) -> str:
    r = resume_points(project)
    text = f"{r[SOVITS].sentence()}; {r[GPT].sentence()}"
    return text[0].upper() + text[1:]
