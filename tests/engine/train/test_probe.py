"""The batch-size probe's rule on CPU with an injected memory budget: real GPT and SoVITS
training steps on b copies of the longest clip, their held bytes counted (weights,
gradients, optimizer moments, tensors saved for backward), a batch over the budget failing
as the GPU's allocator would. The rule must land on the largest batch that fits 90% of the
budget, from a guess below or above it, in a handful of trials; the answer is remembered
per card and used by the plan and the step."""
from __future__ import annotations

import torch

from engine.project import load_project
from engine.requests import build_request
from engine.train.gpt.request import GptTrainRequest
from engine.train.plan import Device, choose_batch
from engine.train.probe import MARGIN, MAX_TRIALS, Probed, find_batch, read_record, remember
from engine.train.probe_trials import BudgetMeter, gpt_trial, sovits_trial
from engine.train.sovits.request import SovitsTrainRequest
from tests.engine.train.tiny import SLUG, make_project, tiny_gpt, tiny_sovits

CPU = torch.device("cpu")
UNLIMITED = 1 << 60


def _gpt_req(root) -> GptTrainRequest:
    return GptTrainRequest(project_root=str(root), slug=SLUG, device="cpu", **tiny_gpt())


def test_probe_finds_the_largest_gpt_batch_under_an_injected_budget(tmp_path):
    torch.set_num_threads(1)
    root = make_project(tmp_path / "v")
    measure, _ = gpt_trial(_gpt_req(root), CPU, BudgetMeter(UNLIMITED))
    need = {b: measure(b) for b in range(1, 13)}
    assert all(need[b] < need[b + 1] for b in range(1, 12)), need  # grows with the batch
    budget = int(need[6] / MARGIN) + 1  # 6 fits 90% of it, 7 does not
    assert need[7] > MARGIN * budget

    trial, longest_s = gpt_trial(_gpt_req(root), CPU, BudgetMeter(budget))
    for start in (2, 11):  # a guess below the answer grows, one above it backs off
        res = find_batch(trial, budget, start=start, limit=40)
        assert res.batch == 6, res.tried
        assert len(res.tried) <= MAX_TRIALS
        assert any(how != "fits" for _, how in res.tried)  # it did hit the limit
        assert res.peak_bytes <= MARGIN * budget
    assert 2.0 < longest_s < 4.0

    tiny_budget = need[1] // 2  # not even one clip: 0, never a batch that does not fit
    assert find_batch(gpt_trial(_gpt_req(root), CPU, BudgetMeter(tiny_budget))[0],
                      tiny_budget, start=4).batch == 0


def test_sovits_trial_fails_like_the_allocator_over_budget(tmp_path):
    torch.set_num_threads(1)
    root = make_project(tmp_path / "v")
    req = SovitsTrainRequest(project_root=str(root), slug=SLUG, device="cpu", **tiny_sovits())
    measure, _ = sovits_trial(req, CPU, BudgetMeter(UNLIMITED), steps=1)
    one, two = measure(1), measure(2)
    assert two > one
    budget = int(two / MARGIN) + 1
    trial, _ = sovits_trial(req, CPU, BudgetMeter(budget), steps=1)
    res = find_batch(trial, budget, start=4, limit=8)
    assert res.batch == 2, res.tried
    assert (4, "oom") in res.tried or (4, "too big") in res.tried


def test_the_answer_is_remembered_per_card_and_used_by_the_plan(tmp_path):
    root = make_project(tmp_path / "v")
    exp = root / "logs" / SLUG
    remember(exp, "NVIDIA L4", 22.0, "sovits", Probed(9, 19.5, 2.7))
    rec = read_record(exp)
    assert rec.device == "NVIDIA L4" and rec.stages["sovits"].batch == 9
    card = Device("cuda", "NVIDIA L4", 22.0)
    probed = choose_batch("SoVITS", 0, card, exp)
    assert probed.size == 9 and probed.source == "probe"
    assert choose_batch("SoVITS", 4, card, exp).size == 4  # yours wins
    other = choose_batch("SoVITS", 0, Device("cuda", "NVIDIA A100", 40.0), exp)
    assert other.size == 20 and other.why == "half the card's 40 GB (upstream's rule)"
    assert choose_batch("GPT", 0, card, exp).source == "card"  # GPT was not probed
    req = build_request(load_project(root), "train", {"device": "cpu", "probe_batch": True})
    assert req.probe_batch is True
