"""The step registry is the one table: every entry resolves, no pane or command keeps a
private copy of it, files have one owner, and CLI flags are generated from the knobs."""
from __future__ import annotations

import argparse
import dataclasses
import inspect
import re
from pathlib import Path

import pytest

from engine.settings import default_of, knobs, label_of
from engine.steps import ENTRIES, FIXED_FIELDS, REGISTRY, STEP_IDS, owner_of
from gsv_tui.cli import build_parser

REPO = Path(__file__).resolve().parents[2]
RUNNABLE = [e for e in ENTRIES if e.run]
# registry id -> the sub-command that runs it (listen is `gsv synthesize --checkpoints`)
COMMANDS = {"import": "import", "denoise": "denoise", "slice": "slice", "asr": "asr",
            "format": "format", "train": "train", "synthesize": "synthesize",
            "listen": "synthesize", "export": "export", "convert": "convert"}
COMMANDS["read"] = "synthesize"  # a long text: `gsv synthesize --file F --long`
COMMANDS["refs"] = "synthesize"  # `gsv synthesize --try-refs`


@pytest.mark.parametrize("step", RUNNABLE, ids=lambda e: e.id)
def test_every_entry_resolves_to_a_module_level_request_and_function(step):
    cls, func = step.request_cls(), step.run_func()
    assert dataclasses.is_dataclass(cls) and inspect.isfunction(func)
    assert "." not in cls.__qualname__ and "." not in func.__qualname__  # job children import them
    names = {f.name for f in dataclasses.fields(cls)}
    assert "project_root" in names
    assert set(step.inputs) <= names, set(step.inputs) - names
    knob_names = {f.name for f in knobs(cls)}
    assert {field for field, _ in step.from_project} <= knob_names
    params = inspect.signature(func).parameters
    assert list(params)[0] in ("req", "request") and "stop" in params


def test_every_wizard_step_and_action_has_an_entry():
    assert STEP_IDS == ("project", "import", "denoise", "slice", "asr", "proofread", "format",
                        "train", "synthesize", "convert")
    assert {"export", "listen"} <= set(REGISTRY)
    assert set(COMMANDS) == {e.id for e in RUNNABLE}


def test_no_pane_or_command_keeps_a_private_copy_of_the_registry():
    """Targets and request construction live in the registry and engine.requests only."""
    target = re.compile(r"""["']engine\.[\w.]+:\w+["']""")
    classes = "|".join(e.request_cls().__name__ for e in RUNNABLE)
    request_class = re.compile(rf"\b({classes})\(")
    offenders = []
    for folder in ("gsv_tui/panes", "gsv_tui/commands", "gsv_tui/app.py"):
        paths = [REPO / folder] if folder.endswith(".py") else sorted((REPO / folder).glob("*.py"))
        for path in paths:
            text = path.read_text(encoding="utf-8")
            for m in target.finditer(text):
                offenders.append(f"{path.name}: target string {m.group(0)}")
            for m in request_class.finditer(text):
                offenders.append(f"{path.name}: builds {m.group(1)} itself")
            if "settings import apply" in text or "set_step_settings" in text:
                offenders.append(f"{path.name}: merges settings itself")
    assert offenders == []


def test_each_output_has_one_owner():
    seen: dict[str, str] = {}
    for e in ENTRIES:
        for out in e.owned("voice"):
            assert out not in seen, f"{out} claimed by {seen.get(out)} and {e.id}"
            seen[out] = e.id
    # The .list belongs to proofreading (ASR merges into it through its owner).
    assert owner_of("asr/voice.list", "voice") == "proofread"
    assert owner_of("asr/records.jsonl", "voice") == "asr"
    assert owner_of("output/checkpoints/a.wav", "voice") == "listen"
    assert owner_of("output/voice-export/voice.toml", "voice") == "export"
    assert owner_of("output/voice-1.wav", "voice") == "synthesize"
    assert owner_of("output/converted/take-1.wav", "voice") == "convert"
    assert owner_of("logs/voice/logs_s2_v2/G_1.pth", "voice") == "train"
    assert owner_of("logs/voice/3-bert/a.pt", "voice") == "format"


def _subparser(name: str) -> argparse.ArgumentParser:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return sub.choices[name]


@pytest.mark.parametrize("step", RUNNABLE, ids=lambda e: e.id)
def test_cli_flags_are_generated_from_the_knobs(step):
    """Each knob is a flag (default None, so stored settings apply; the knob's choices);
    no flag invents a setting of its own."""
    parser = _subparser(COMMANDS[step.id])
    actions: dict[str, list[argparse.Action]] = {}
    for a in parser._actions:
        actions.setdefault(a.dest, []).append(a)
    cls = step.request_cls()
    for f in knobs(cls):
        if f.name in step.inputs or f.name in FIXED_FIELDS or isinstance(default_of(f), dict):
            continue
        assert f.name in actions, f"gsv {COMMANDS[step.id]}: no flag for knob {f.name}"
        for a in actions[f.name]:
            assert a.default is None, f"--{f.name} has its own default {a.default!r}"
            if f.metadata.get("choices") and a.choices is not None:
                assert tuple(a.choices) == tuple(f.metadata["choices"])
        assert any(o == "--" + f.name.replace("_", "-") for a in actions[f.name]
                   for o in a.option_strings)


def test_knob_labels_are_human():
    labels = {(e.id, f.name): label_of(f) for e in RUNNABLE for f in knobs(e.request_cls())}
    assert labels[("import", "peak_min_db")] == "Peak min (dBFS)"
    assert labels[("denoise", "mdx_n_fft")] == "MDX FFT size"
    assert labels[("slice", "hop_ms")] == "RMS hop (ms)"
    for (step, name), label in labels.items():
        assert label and label[0].isupper(), (step, name, label)
        assert "_" not in label, (step, name, label)


def test_a_step_goes_stale_only_from_what_it_reads():
    from engine.steps import later_steps

    assert "convert" in later_steps("train") and "convert" in later_steps("import")
    assert "convert" not in later_steps("synthesize")  # Convert reads the weights only
    assert later_steps("format") == ("train", "synthesize", "convert")
    assert later_steps("export") == ()
