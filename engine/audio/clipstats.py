"""Clip-length summary shown after slicing: histogram and the clips worth a look."""
from __future__ import annotations

import math
from typing import Any


def length_summary(seconds: dict[str, float], *, short_s: float, max_s: float) -> dict[str, Any]:
    """Counts per 1-second bin, plus outliers: too short to train on, or over the maximum."""
    values = sorted(seconds.values())
    if not values:
        return {"count": 0, "total_s": 0.0, "histogram": [], "outliers": []}
    top = max(1, math.ceil(values[-1]))
    bins = [0] * top
    for v in values:
        bins[min(int(v), top - 1)] += 1
    outliers = []
    for name, v in sorted(seconds.items(), key=lambda kv: kv[1]):
        if v < short_s:
            outliers.append({"name": name, "seconds": round(v, 3),
                             "why": f"shorter than {short_s:g} s"})
        elif max_s > 0 and v > max_s + 1e-6:
            outliers.append({"name": name, "seconds": round(v, 3),
                             "why": f"longer than {max_s:g} s"})
    mid = len(values) // 2
    median = values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2
    return {
        "count": len(values),
        "total_s": round(sum(values), 3),
        "min_s": round(values[0], 3),
        "median_s": round(median, 3),
        "max_s": round(values[-1], 3),
        "histogram": [[i, i + 1, c] for i, c in enumerate(bins)],
        "outliers": outliers,
    }


def histogram_lines(hist: list[list[int]], width: int = 30) -> list[str]:
    """Text bars for the CLI and logs: '  3–4 s  ████ 12'."""
    peak = max((c for _, _, c in hist), default=0) or 1
    return [f"{lo:3d}–{hi:<3d}s {'█' * max(1 if c else 0, round(c / peak * width))} {c}"
            for lo, hi, c in hist]
