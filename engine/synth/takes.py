"""Reading one piece until it says its text: the first take uses the piece's seed; when the
back-check fails it, re-rolls use derived seeds (engine.synth.backcheck.reroll_seed), up to
``max_rerolls``, and the best take is kept. Every take's seed and score are returned, so
the sidecar can list them and the user can pick another take later (same seed, same audio).
A piece whose seed the user pinned (``piece_seeds``) is checked but never re-rolled."""
from __future__ import annotations

from typing import Generator

import numpy as np

from engine.events import Event, Log
from engine.synth.backcheck import Checker, better, reroll_seed
from engine.synth.pipeline import SR, Reference, SpeakOptions, Voice, speak_take


def speak_one(voice: Voice, ref: Reference, text: str, language: str, index: int,
              opts: SpeakOptions, checker: Checker | None = None, *, max_rerolls: int = 0,
              max_error: float = 0.35) -> Generator[Event, None, tuple[np.ndarray, dict]]:
    """Piece ``index`` -> (audio with the pause, its record for the sidecar)."""
    pause = np.zeros(int(opts.pause_s * SR), dtype=np.float32)
    first = opts.seed_for(index)
    tries = 1 if checker is None or index in opts.piece_seeds else 1 + max_rerolls
    best = best_check = None
    takes: list[dict] = []
    for k in range(tries):
        take = speak_take(voice, ref, text, language, reroll_seed(first, k), opts)
        row = {"seed": take.seed, "tokens": take.tokens,
               "seconds": round((len(take.audio) + len(pause)) / SR, 3)}
        if checker is None:
            best = take
            break
        check = checker.check(text, take.audio, take.phones, language, speed=opts.speed,
                              max_error=max_error)
        takes.append(row | check.to_dict())
        if best_check is None or better(check, best_check):
            best, best_check = take, check
        if check.passed:
            break
        if k + 1 < tries:
            yield Log(f"piece {index + 1}: heard {check.heard[:50]!r} (score {check.score:.2f}"
                      + (f", {', '.join(check.flags)}" if check.flags else "")
                      + f"); re-rolling ({k + 2}/{tries})")
    assert best is not None
    record = {"text": text, "seed": best.seed, "tokens": best.tokens,
              "seconds": round((len(best.audio) + len(pause)) / SR, 3)}
    if best_check is not None:
        record |= best_check.to_dict() | {"take": next(i for i, t in enumerate(takes)
                                                       if t["seed"] == best.seed),
                                          "takes": takes}
    return np.concatenate([best.audio, pause]), record
