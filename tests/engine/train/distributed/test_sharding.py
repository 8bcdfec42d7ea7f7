"""The distributed sampler that keeps upstream's length bucketing, the GPU placement rule and
the failure sentence, without processes (the real torchrun runs are in test_torchrun.py)."""
from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from engine.events import StepError
from engine.train import distributed as dd
from engine.train.gpt import data as gpt_data
from engine.train.launch import Placement, halves, placement
from engine.train.sovits import data as sovits_data
from engine.train.sovits.data import BUCKETS, Clip


def _clips(frames: list[int]) -> list[Clip]:
    return [Clip(f"c{i}", [1], Path("x"), Path("y"), f) for i, f in enumerate(frames)]


def _bucket(frames: int) -> int:
    return next(j for j in range(len(BUCKETS) - 1) if frames < BUCKETS[j + 1])


def test_share_pads_each_bucket_to_the_world_and_deals_it_round_robin():
    assert dd.share([5, 6, 7], dd.SINGLE) == [5, 6, 7]
    parts = [dd.share([5, 6, 7], dd.Dist(r, 2)) for r in range(2)]
    assert parts == [[5, 7], [6, 5]]  # padded with the bucket's first item, as upstream
    assert [dd.share([9], dd.Dist(r, 3)) for r in range(3)] == [[9], [9], [9]]


@pytest.mark.parametrize("world", [2, 3])
def test_sovits_ranks_get_their_share_of_every_bucket_in_lockstep(world):
    frames = [40, 50, 60, 70, 350, 360, 370, 450, 460, 1200]  # 4 buckets, uneven sizes
    clips = _clips(frames)
    single = sovits_data.epoch_batches(clips, 2, 3, 7, min_items=0)
    ranks = [sovits_data.epoch_batches(clips, 2, 3, 7, 0, dd.Dist(r, world)) for r in range(world)]
    assert len({len(b) for b in ranks}) == 1  # same number of steps on every rank
    for k in range(len(ranks[0])):  # the k-th batch of every rank: one bucket, one size
        assert len({_bucket(frames[i]) for r in ranks for i in r[k]}) == 1
        assert len({len(r[k]) for r in ranks}) == 1
    seen = Counter(i for r in ranks for b in r for i in b)
    assert set(seen) == set(range(len(clips)))  # every clip; a bucket pads fewer than world
    assert max(seen.values()) <= world and sum(seen.values()) - len(clips) < world * 4
    # the same call again gives the same batches (a resumed rank sees what it would have)
    assert ranks[0] == sovits_data.epoch_batches(clips, 2, 3, 7, 0, dd.Dist(0, world))
    assert single == sovits_data.epoch_batches(clips, 2, 3, 7, 0, dd.SINGLE)


def test_gpt_ranks_share_each_length_window_and_cover_the_epoch():
    items = [gpt_data.Item(f"u{i}", [1] * 5, [2] * (10 + (i * 7) % 50)) for i in range(37)]
    ranks = [gpt_data.epoch_batches(items, 4, 11, 2, dd.Dist(r, 2)) for r in range(2)]
    assert len(ranks[0]) == len(ranks[1])
    assert {i for r in ranks for b in r for i in b} == set(range(37))
    for b0, b1 in zip(*ranks):  # a sorted window dealt round robin: equal sizes
        assert len(b0) == len(b1)
    assert gpt_data.epoch_batches(items, 4, 11, 2) == gpt_data.epoch_batches(items, 4, 11, 2,
                                                                             dd.SINGLE)


def test_a_mid_epoch_resume_point_keeps_its_share_of_the_epoch_across_world_sizes():
    assert dd.rescale(6, 1, dd.Dist(0, 2), 7) == 3  # 6 of 13 batches alone -> 3 of 7 each
    assert dd.rescale(3, 2, dd.SINGLE, 13) == 6
    assert dd.rescale(5, 2, dd.Dist(1, 2), 7) == 5  # same world: unchanged
    assert dd.rescale(7, 1, dd.Dist(0, 4), 2) == 2  # never past the epoch


def test_placement_picks_the_named_gpus_or_all_visible_ones():
    vis = ["0", "1", "2", "3"]
    assert placement("cuda", "", 1, vis) == Placement(4, ("0", "1", "2", "3"))
    assert placement("cuda", " 2,0 ", 1, vis) == Placement(2, ("2", "0"))
    assert placement("cuda", "3", 1, vis).distributed  # one named GPU: torchrun, that GPU
    assert not placement("cuda", "", 1, ["0"]).distributed  # one GPU: in this process
    assert placement("cpu", "0,1", 3, []) == Placement(3)  # CPU: processes, GPUs ignored
    assert not placement("cpu", "", 1, []).distributed
    with pytest.raises(StepError, match=r"GPU 7 is not among the visible GPUs \(0, 1, 2, 3\)"):
        placement("cuda", "0,7", 1, vis)
    with pytest.raises(StepError, match="named twice"):
        placement("cuda", "1,1", 1, vis)


def test_side_by_side_splits_the_gpus_into_disjoint_halves():
    assert halves(Placement(3, ("0", "1", "2"))) == (Placement(2, ("0", "1")), Placement(1, ("2",)))
    assert halves(Placement(1, ("5",))) is None  # one GPU: SoVITS then GPT, never both at once
    assert halves(Placement(1)) is None
    assert halves(Placement(2)) == (Placement(1), Placement(1))


_SUMMARY = """torch.distributed.elastic.multiprocessing.errors.ChildFailedError:
============================================================
engine.train.distributed FAILED
------------------------------------------------------------
Failures:
[1]:
  time      : 2026-12-07_06:09:02
  host      : localhost
  rank      : {a} (local_rank: {a})
  exitcode  : {ca} (pid: 20583)
  error_file: <N/A>
  traceback : To enable traceback see: https://pytorch.org/docs/stable/elastic/errors.html
------------------------------------------------------------
Root Cause (first observed failure):
[0]:
  time      : 2026-12-07_06:09:02
  host      : localhost
  rank      : {b} (local_rank: {b})
  exitcode  : {cb} (pid: 20584)
  error_file: <N/A>
  traceback : Signal 9 (SIGKILL) received by PID 20584
============================================================
"""


def test_the_rank_that_died_is_named_whichever_order_torchrun_lists_the_failures_in():
    from engine.train.launch import _first_cause

    # torchrun's summary as it prints it (torch 2.13); rank 0 fails a moment after rank 1
    # dies (its collective loses the peer) and may be listed as the root cause
    assert _first_cause(_SUMMARY.format(a=0, ca=1, b=1, cb=-9)) == (1, -9)
    assert _first_cause(_SUMMARY.format(a=1, ca=-9, b=0, cb=1)) == (1, -9)
    assert _first_cause(_SUMMARY.format(a=0, ca=1, b=2, cb=1)) == (2, 1)
    assert _first_cause("no summary") is None
