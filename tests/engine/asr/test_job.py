"""ASR as the TUI launches it: a detached child process importing the step by dotted path
from a JSON request (ctranslate2/onnxruntime then write only to the job's log.txt)."""
from __future__ import annotations

import json

from engine.asr.request import AsrRequest
from engine.dataset.listfile import read_list
from engine.jobs import read_events, submit, wait
from engine.events import Result
from engine.project import load_project


def test_asr_runs_as_a_detached_job(project, tiny_whisper):
    req = AsrRequest(project_root=str(project), backend="faster-whisper",
                     model_dir=str(tiny_whisper), beam_size=1, allow_download=False)
    json.dumps(req.__dict__)  # the request is plain JSON
    job = submit(project, "asr", "engine.asr.step:run_asr", req)
    done = wait(job.run_dir, timeout=180)
    assert done.state == "done", (done.reason, (done.run_dir / "log.txt").read_text()[-2000:])
    events = [ev for _, ev in read_events(done.run_dir)[0]]
    assert any(isinstance(ev, Result) and ev.data["new"] == 4 for ev in events)
    assert len(read_list(load_project(project).layout.list_file)) >= 1
