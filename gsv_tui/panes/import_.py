"""Import: files or folders in, decoded copies and a per-file report out."""
from __future__ import annotations

import json
from typing import Any

from textual.app import ComposeResult
from textual.widgets import DataTable, Input, Label

from engine.events import Result, StepError
from gsv_tui.panes.base import StepPane


def _db(v: Any) -> str:
    return "—" if v is None else f"{v:.1f}"


class Pane(StepPane):
    step_id = "import"
    hidden_fields = ("project_root", "sources")

    DEFAULT_CSS = """
    #import-table { height: auto; max-height: 16; margin-top: 1; }
    #import-total { color: $text-muted; }
    """

    def compose_extra(self) -> ComposeResult:
        yield Label("Recordings: files or folders, separated by ';' (sources are never changed)")
        yield Input(placeholder="/data/voice/ ; /data/extra/take2.m4a", id="import-sources", compact=True)

    def compose_results(self) -> ComposeResult:
        yield DataTable(id="import-table", cursor_type="row", zebra_stripes=True)
        yield Label("", id="import-total", markup=False)

    def compose(self) -> ComposeResult:
        yield from super().compose()
        yield from self.compose_results()

    def on_mount(self) -> None:
        super().on_mount()
        table = self.query_one("#import-table", DataTable)
        table.add_columns("file", "status", "length s", "rate", "ch", "peak dBFS", "LUFS",
                          "clipped %", "silence %", "note")
        report = self.project.layout.raw_dir / "report.json"
        if report.exists():
            try:
                doc = json.loads(report.read_text(encoding="utf-8"))
                self._fill(doc.get("files", []) + doc.get("not_imported", []),
                           doc.get("total_s", 0.0), doc.get("guidance", ""))
            except (json.JSONDecodeError, OSError):
                pass

    def fixed_fields(self) -> dict[str, Any]:
        raw = self.query_one("#import-sources", Input).value
        sources = [s.strip() for s in raw.split(";") if s.strip()]
        if not sources:
            raise StepError("Name at least one recording or folder to import.",
                            "Type a path in the Recordings box (separate several with ';').")
        return {"project_root": str(self.project.root), "sources": sources}

    def show_result(self, result: Result) -> None:
        self._fill(result.data.get("files", []), result.data.get("total_s", 0.0),
                   result.data.get("guidance", ""))

    def _fill(self, files: list[dict], total_s: float, guidance: str) -> None:
        table = self.query_one("#import-table", DataTable)
        table.clear()
        for f in files:
            if not isinstance(f, dict):
                continue
            name = f.get("name") or f.get("source", "?")
            note = f.get("reason") or "; ".join(f.get("warnings", []))
            table.add_row(str(name)[-40:], f.get("status", ""), f"{f.get('duration_s', 0):.1f}",
                          str(f.get("sample_rate", "")), str(f.get("channels", "")),
                          _db(f.get("peak_dbfs")), _db(f.get("loudness_lufs")),
                          f"{100 * f.get('clipped_share', 0):.2f}", f"{100 * f.get('silence_share', 0):.0f}",
                          note[:60])
        text = f"Total {total_s / 60:.1f} min (a dataset should hold 1–30 min)."
        self.query_one("#import-total", Label).update(text + (f"  {guidance}" if guidance else ""))
