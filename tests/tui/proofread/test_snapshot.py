"""What the editor looks like: list, detail pane with energy strip and marker, counter."""
from engine.dataset.proofread.source import open_session
from gsv_tui.proofread.app import ProofreadApp


def test_editor_snapshot(project, snap_compare):
    app = ProofreadApp(open_session(project.root), backend="http")
    assert snap_compare(app, press=["down", "enter"], terminal_size=(100, 24))
