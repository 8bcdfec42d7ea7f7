"""Slice: upstream's silence slicer with its defaults, plus the maximum clip length rule."""
from __future__ import annotations

import json

from textual.app import ComposeResult
from textual.widgets import Static

from engine.events import Result
from gsv_tui.panes.base import StepPane


class Pane(StepPane):
    step_id = "slice"
    hidden_fields = ("project_root", "source")

    def compose(self) -> ComposeResult:
        yield from super().compose()
        yield Static("", id="slice-summary", markup=False)

    def on_mount(self) -> None:
        super().on_mount()
        manifest = self.project.layout.slices_dir / "manifest.json"
        if manifest.exists():
            try:
                self._summary(json.loads(manifest.read_text(encoding="utf-8")).get("summary", {}))
            except (json.JSONDecodeError, OSError):
                pass

    def show_result(self, result: Result) -> None:
        self._summary(result.data.get("summary", {}))

    def _summary(self, summary: dict) -> None:
        if not summary:
            return
        from engine.audio.clipstats import histogram_lines

        lines = [f"{summary.get('count', '?')} clips, {summary.get('total_s', 0) / 60:.1f} min"]
        lines += histogram_lines(summary.get("histogram", []))
        for o in summary.get("outliers", [])[:10]:
            lines.append(f"  outlier {o.get('name')}: {o.get('seconds')} s, {o.get('why')}")
        self.query_one("#slice-summary", Static).update("\n".join(lines))
