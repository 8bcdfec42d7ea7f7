"""Resume after a real kill: a child process runs the step, is SIGKILLed after its first
finished clip, and the next run does only the clips the journal does not hold."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from engine.dataset.format import FormatRequest, run_format
from engine.events import Result
from engine.layout import Layout
from tests.engine.format.conftest import LINES, write_list

CHILD = """
import sys
from engine.dataset.format import FormatRequest, run_format
req = FormatRequest(project_root=sys.argv[1], bert_dir=sys.argv[2], hubert_dir=sys.argv[3],
                    sovits_path=sys.argv[4], device="cpu", allow_download=False)
for ev in run_format(req):
    print(ev, flush=True)
"""


def _journal_lines(exp) -> int:
    path = exp / "gsv-format.jsonl"
    return len(path.read_text(encoding="utf-8").splitlines()) if path.exists() else 0


@pytest.mark.slow
def test_resume_after_kill(project, speech_bank, bert_dir, hubert_dir, sovits_file):
    lay = Layout(project, "voice")
    lines = LINES + [("e.wav", "ZH", "一二三四五。"), ("f.wav", "JA", "今日は。")]
    write_list(lay.list_file, project, speech_bank, lines)
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(project), str(bert_dir), str(hubert_dir),
         str(sovits_file)], cwd=repo, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 240
    while _journal_lines(lay.exp_dir) < 1:
        assert child.poll() is None, "the child ended before finishing a clip"
        assert time.monotonic() < deadline
        time.sleep(0.02)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    done_before = _journal_lines(lay.exp_dir)
    assert 1 <= done_before < len(lines), "killed too late to test resuming"
    assert not (lay.exp_dir / "2-name2text.txt").exists()  # only a complete run writes it

    req = FormatRequest(project_root=str(project), bert_dir=str(bert_dir),
                        hubert_dir=str(hubert_dir), sovits_path=str(sovits_file),
                        device="cpu", allow_download=False)
    result = next(e for e in run_format(req) if isinstance(e, Result))
    assert result.data["processed"] == len(lines) - done_before
    assert result.data["semantic"] == len(lines)
    rows = (lay.exp_dir / "2-name2text.txt").read_text(encoding="utf-8").splitlines()
    assert [r.split("\t")[0] for r in rows] == [n for n, _, _ in lines]
    sem = (lay.exp_dir / "6-name2semantic.tsv").read_text(encoding="utf-8").splitlines()
    assert len(sem) == len(lines) + 1
    assert _journal_lines(lay.exp_dir) == len(lines)  # compacted: one record per clip
