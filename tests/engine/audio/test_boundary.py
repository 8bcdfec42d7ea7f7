"""Forced cuts inside a run of sentences spoken 20 ms apart fall between sentences: the
sentence-boundary model (pitch fall and reset, energy) on espeak-ng speech that the model
was not fitted on (the benchmark's sentences differ from these)."""
from __future__ import annotations

import numpy as np
import pytest

from engine.audio.boundary import NAMES, features, log_odds
from engine.audio.slicer import FrameGrid, SlicerParams, frame_rms, slice_bounds
from engine.audio.splitpoints import choose_cuts_free, feature_scorer, plan_clips
from tests.helpers.speech import have_espeak, join_sentences

SR = 32000
GRID = FrameGrid.of(SlicerParams(), SR)
SLACK = int(0.03 * SR)

pytestmark = pytest.mark.skipif(not have_espeak(), reason="needs espeak-ng")


@pytest.fixture(scope="module")
def run(speech_parts):
    """Ten sentences (the four shared ones, shuffled, each with its own gain) 20 ms apart,
    0.5 s of silence at both ends: one 30+ s clip that upstream's rules cannot cut."""
    rng = np.random.default_rng(0)
    order = [0, 1, 2, 3, 2, 0, 3, 1, 0, 2]
    gains = [rng.uniform(-3, 3) for _ in order]
    return join_sentences(speech_parts, order, [0.02] * len(order), gains, SR)


def test_cuts_fall_between_sentences_and_fit(run):
    x, spans = run
    assert len(slice_bounds(x, SR)) == 1 and x.size > 30 * SR
    bounds = plan_clips(x, SR, SlicerParams(), 12 * SR, scorer=feature_scorer).bounds
    assert len(bounds) >= 3 and all(e - s <= 12 * SR for s, e in bounds)
    for (_, end), (start, _) in zip(bounds, bounds[1:]):
        for p in (end, start):
            assert not any(a + SLACK < p < b - SLACK for a, b in spans), p / SR


def test_model_ranks_sentence_gaps_over_closures(run):
    """Among the valley frames the slicer may cut at, those between sentences score
    higher than those inside them (frame AUC), and digital silence inside a word alone
    does not make a frame look like a sentence gap."""
    x, spans = run
    rms = frame_rms(x, GRID.win, GRID.hop)
    f0, f1 = SR // 2 // GRID.hop, (x.size - SR // 2) // GRID.hop
    cues = features(x, rms, f0, f1, GRID.hop, SR)
    z = log_odds(cues)
    pos = np.arange(f0, f1) * GRID.hop
    between = ~np.any([(pos > a + SLACK) & (pos < b - SLACK) for a, b in spans], axis=0)
    valley = cues[:, NAMES.index("bottom")] <= 3
    s, y = z[valley], between[valley]
    assert y.any() and (~y).any()
    auc = (s[y][:, None] > s[~y][None, :]).mean()
    assert auc > 0.9, auc


def test_free_number_of_cuts_avoids_a_doubtful_one():
    """Two cheap places 8 s apart in 20 s (maximum 12 s): one cut would have to sit at a
    dear frame, two cheap cuts are taken instead; with a dear second place, one cut."""
    length, unit = 20 * SR, SR // 10
    pos = np.arange(0, length, unit)
    cost = np.full(pos.size, 10.0)
    cost[[60, 140]] = 0.1  # 6 s and 14 s: neither alone leaves both pieces under 12 s
    assert choose_cuts_free(length, pos, cost, 12 * SR, SR) == [6 * SR, 14 * SR]
    cost[140] = 10.0
    cost[90] = 0.1  # 9 s: one cut fits
    assert choose_cuts_free(length, pos, cost, 12 * SR, SR) == [9 * SR]
