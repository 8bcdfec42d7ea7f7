"""Fanned-out formatting (``workers``): 2 real worker processes write, byte for byte, the
experiment folder one process writes for the same clips; a worker killed with SIGKILL after
it journaled a clip fails the step with a sentence naming it, and the re-run ends with the
same files; a worker's error (a full disk in one of them) is the step's one sentence, with
every other worker stopped.

The one-process reference runs with the workers' torch thread count: HuBERT's grouped
positional convolution is not bit-identical across thread counts on CPU (1 vs 2 threads
differ by ~1e-5 in 4-cnhubert), so only equal thread counts can be compared byte for byte.
Chinese and Japanese lines only: the workers' fork server then skips English G2P's seconds
of imports."""
from __future__ import annotations

import json
import multiprocessing
import os
import re
import shutil
import signal
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from engine.dataset.format import FormatRequest, fanout, run_format
from engine.diskfull import MB
from engine.events import Failed, Log, Progress, Result
from engine.runner import drive
from tests.engine.format.conftest import write_list
from tests.helpers.tmpfs import tmpfs_factory  # noqa: F401 -- fixture

LINES = [("a1.wav", "ZH", "你好，世界！"), ("b1.wav", "JA", "今日はいい天気です。"),
         ("c1.wav", "zh", "我们去公园吧。"), ("d1.wav", "ZH", "今天天气很不错。"),
         ("e1.wav", "JA", "こんにちは。"), ("f1.wav", "ZH", "一二三四五。"),
         ("quiet.wav", "ZH", "我们。"),  # silent: its audio is skipped, its text row kept
         ("a2.wav", "ZH", "六七八九十。"), ("b2.wav", "JA", "今日は。"),
         ("c2.wav", "ZH", "百分之五十。"), ("d2.wav", "ZH", "你们好。"),
         ("e2.wav", "JA", "いい天気。"), ("f2.wav", "ZH", "零点一。")]


@pytest.fixture(scope="module")
def fan(tmp_path_factory, speech_bank, bert_dir, hubert_dir, sovits_file):
    """One project for the module, and what a single process writes for it."""
    from engine.project import create_project

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GSV_HOME", str(tmp_path_factory.mktemp("fan_home")))
        root = tmp_path_factory.mktemp("fan") / "proj"
        p = create_project(root, "Voice", language="zh")
        slices = root / "audio" / "slices"
        slices.mkdir(parents=True, exist_ok=True)
        sf.write(str(slices / "quiet.wav"), np.zeros(16000, np.int16), 32000)
        write_list(p.layout.list_file, root, speech_bank, LINES)

        def request(**kw) -> FormatRequest:
            return FormatRequest(project_root=str(root), bert_dir=str(bert_dir),
                                 hubert_dir=str(hubert_dir), sovits_path=str(sovits_file),
                                 device="cpu", allow_download=False, **kw)

        import torch

        before = torch.get_num_threads()
        torch.set_num_threads(fanout.threads_per_worker(2))
        try:
            result = list(drive("format", run_format, request()))[-1]
        finally:
            torch.set_num_threads(before)
        assert isinstance(result, Result) and result.data["workers"] == 1, result
        exp = p.layout.exp_dir
        yield {"root": root, "exp": exp, "request": request, "reference": _files(exp)}


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file()}


def _same(got: dict[str, bytes], want: dict[str, bytes]) -> None:
    assert sorted(got) == sorted(want)
    differ = [name for name in want if got[name] != want[name]]
    assert not differ, f"differ from the one-process run: {differ}"


def _shares(events) -> list[tuple[int, int]]:
    line = next(e.line for e in events if isinstance(e, Log) and "worker process" in e.line)
    return [(int(a), int(b)) for a, b in re.findall(r"clips (\d+)-(\d+)", line)]


def _workers_left() -> list:
    return [p for p in multiprocessing.active_children() if p.name.startswith("gsv-format-")]


def _fresh(fan) -> Path:
    shutil.rmtree(fan["exp"], ignore_errors=True)
    return fan["exp"]


def test_two_processes_write_what_one_process_writes(fan):
    exp = _fresh(fan)
    events = list(drive("format", run_format, fan["request"](workers="2")))
    result = events[-1]
    assert isinstance(result, Result), result
    assert result.data["workers"] == 2 and result.data["processed"] == len(LINES)
    shares = _shares(events)
    assert shares[0][0] == 1 and shares[-1][1] == len(LINES) and len(shares) == 2
    assert all(b - a >= 2 for a, b in shares)  # both did real work
    # One combined count over both workers, one step per clip.
    assert [e.done for e in events if isinstance(e, Progress)] == list(
        range(1, len(LINES) + 1))
    _same(_files(exp), fan["reference"])  # text, phones, codes, tensors, wavs, journal
    assert not _workers_left()


def test_a_worker_killed_mid_run_loses_nothing(fan):
    exp = _fresh(fan)
    events, killed = [], None
    for event in drive("format", run_format, fan["request"](workers="2")):
        events.append(event)
        part = exp / "gsv-format-1.jsonl"
        # The second worker has journaled a clip: SIGKILL it, as the OOM killer would.
        if killed is None and isinstance(event, Progress) and part.is_file() \
                and part.read_text(encoding="utf-8").count("\n") >= 1:
            (worker,) = [p for p in _workers_left() if p.name == "gsv-format-1"]
            os.kill(worker.pid, signal.SIGKILL)
            killed = part.read_text(encoding="utf-8").count("\n")
    end = events[-1]
    assert isinstance(end, Failed), end
    assert end.reason == ("Formatting worker 2 of 2 (cpu) ended without finishing "
                          "(killed by SIGKILL).")
    assert "run Format again to resume" in end.hint
    assert not _workers_left()  # the other worker was stopped too
    (a, b), journaled = _shares(events)[1], (exp / "gsv-format-1.jsonl").read_text("utf-8")
    assert 1 <= killed <= journaled.count("\n") < b - a + 1, "killed too late to test"
    names = [json.loads(line)["name"] for path in exp.glob("gsv-format*.jsonl")
             for line in path.read_text(encoding="utf-8").splitlines()]  # every line whole
    assert not (exp / "2-name2text.txt").exists()  # only a complete run writes it

    again = list(drive("format", run_format, fan["request"](workers="2")))[-1]
    assert isinstance(again, Result), again
    assert again.data["processed"] == len(LINES) - len(set(names))
    _same(_files(exp), fan["reference"])


def test_a_workers_error_is_the_steps_one_sentence(fan, tmpfs_factory):
    exp = _fresh(fan)
    # Room for a few clips in logs/: one worker meets the full disk first.
    fs = tmpfs_factory(fan["root"] / "logs", 1200 * 1024)
    events = list(drive("format", run_format, fan["request"](workers="2")))
    end = events[-1]
    assert isinstance(end, Failed), end
    m = re.match(r"^disk full at (.+): free (\d+) MB and run again$", end.reason)
    assert m and m[1] == str(exp), end.reason
    assert not any(isinstance(e, Log) and e.level == "error" for e in events)  # no traceback
    assert not _workers_left()
    assert not [p for p in fs.path.rglob("*") if p.suffix == ".tmp"]
    for path in exp.glob("gsv-format-*.jsonl"):  # what was journaled is complete on disk
        for line in path.read_text(encoding="utf-8").splitlines():
            rec = json.loads(line)
            if not rec["audio_skip"]:
                assert (exp / "4-cnhubert" / f"{rec['name']}.pt").is_file()
                assert (exp / "5-wav32k" / rec["name"]).stat().st_size > 44

    fs.resize(fs.used() + fs.free() + int(m[2]) * MB)
    again = list(drive("format", run_format, fan["request"](workers="2")))[-1]
    assert isinstance(again, Result), again
    _same(_files(exp), fan["reference"])


def test_the_workers_setting_is_checked_before_any_work(fan):
    exp = _fresh(fan)
    end = list(drive("format", run_format, fan["request"](workers="0,1")))[-1]
    assert isinstance(end, Failed)
    assert end.reason == "workers = '0,1': on the CPU it is a number of processes."
    assert not exp.exists()
