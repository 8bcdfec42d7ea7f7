"""Loss curves drawn in the terminal: one row per loss term, its name, its newest and lowest
value, and a Sparkline of the whole run so far.

Why Textual's Sparkline (and not textual-plotext): it is built in (no new dependency), it
bins any number of points into the width it has, it redraws one row cheaply (a fast
training loop redraws often), and it takes the theme's colours. One row per term because
the terms live on different scales (mel ~ 20-300, kl ~ 1); a shared plot would flatten all
but one. The points are the fold's (engine.train.progress.Curve): the whole run, averaged
down to at most 512."""
from __future__ import annotations

from statistics import mean

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Label, Sparkline

from engine.train.progress import TERMS, Stage


def _row_id(key: str) -> str:
    return f"curve-{key}"


class LossCurves(Vertical):
    DEFAULT_CSS = """
    LossCurves { height: auto; }
    LossCurves .curve-row { height: 1; }
    LossCurves .curve-row.-empty { display: none; }
    LossCurves .curve-name { width: 40; color: $text-muted; }
    LossCurves Sparkline { width: 1fr; height: 1; }
    """

    def compose(self) -> ComposeResult:
        for stage, terms in TERMS.items():
            for key, label in terms:
                with Horizontal(classes="curve-row -empty", id=_row_id(key)):
                    yield Label(f"{stage} {label}", classes="curve-name", markup=False)
                    yield Sparkline([], summary_function=mean)

    def show(self, stages: dict[str, Stage]) -> None:
        for name, st in stages.items():
            for key, label in TERMS[name]:
                curve = st.curves.get(key)
                row = self.query_one(f"#{_row_id(key)}", Horizontal)
                if curve is None or not curve.points:
                    row.add_class("-empty")
                    continue
                row.remove_class("-empty")
                low = min(curve.points)
                row.query_one(Label).update(f"{name} {label}: {curve.last:.4g} (low {low:.4g})")
                row.query_one(Sparkline).data = list(curve.points)
