"""The step as a detached job (what `gsv format --detach` and the wizard start), killed with
SIGKILL after its first progress event; the next run does only the clips the journal lacks."""
from __future__ import annotations

import os
import signal
import time

import pytest

from engine import jobs
from engine.dataset.format import FormatRequest, run_format
from engine.events import Progress, Result
from engine.layout import Layout
from tests.engine.format.conftest import LINES, write_list


def _journal_lines(exp) -> int:
    path = exp / "gsv-format.jsonl"
    return len(path.read_text(encoding="utf-8").splitlines()) if path.exists() else 0


@pytest.mark.slow
def test_detached_job_killed_mid_run_resumes(project, speech_bank, bert_dir, hubert_dir,
                                            sovits_file):
    lay = Layout(project, "voice")
    lines = LINES + [("e.wav", "ZH", "一二三四五。"), ("f.wav", "JA", "今日は。")]
    write_list(lay.list_file, project, speech_bank, lines)
    req = FormatRequest(project_root=str(project), bert_dir=str(bert_dir),
                        hubert_dir=str(hubert_dir), sovits_path=str(sovits_file),
                        device="cpu", allow_download=False)
    job = jobs.submit(project, "format", run_format, req)
    deadline = time.monotonic() + 240
    # Kill right after the job reports its first finished clip.
    while not any(isinstance(ev, Progress) for _, ev in jobs.read_events(job.run_dir)[0]):
        info = jobs.load_job(job.run_dir)
        assert info.state in ("starting", "running"), (info.state, info.reason)
        assert time.monotonic() < deadline
        time.sleep(0.02)
    pid = jobs.load_job(job.run_dir, settle=False).pid
    os.killpg(pid, signal.SIGKILL)  # the whole job process group, as a lost machine would
    jobs.wait(job.run_dir, timeout=30)
    done_before = _journal_lines(lay.exp_dir)
    assert 1 <= done_before < len(lines), "killed too late to test resuming"
    assert not (lay.exp_dir / "2-name2text.txt").exists()  # only a complete run writes it

    result = next(e for e in run_format(req) if isinstance(e, Result))
    assert result.data["processed"] == len(lines) - done_before
    assert result.data["semantic"] == len(lines)
    rows = (lay.exp_dir / "2-name2text.txt").read_text(encoding="utf-8").splitlines()
    assert [r.split("\t")[0] for r in rows] == [n for n, _, _ in lines]
    sem = (lay.exp_dir / "6-name2semantic.tsv").read_text(encoding="utf-8").splitlines()
    assert len(sem) == len(lines) + 1
    assert _journal_lines(lay.exp_dir) == len(lines)  # compacted: one record per clip
