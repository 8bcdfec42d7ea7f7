"""The wizard pane opens the editor over itself and records the step when it closes."""
from __future__ import annotations

from textual.app import App, ComposeResult

from engine.project import create_project, load_project
from gsv_tui.panes.proofread import Pane
from gsv_tui.proofread.screen import ProofreadScreen
from tests.engine.proofread.conftest import tone


class Host(App[None]):
    def __init__(self, project) -> None:
        super().__init__()
        self.project = project

    def get_theme_variable_defaults(self) -> dict[str, str]:
        from themes import variable_defaults
        return variable_defaults()  # what the wizard app provides

    def compose(self) -> ComposeResult:
        yield Pane(self.project)


async def test_pane_opens_editor_and_records_step(tmp_path):
    p = create_project(tmp_path / "p", "Pane test")
    lay = p.layout
    wavs = [tone(lay.slices_dir / f"c{i}.wav", 1.0) for i in range(2)]
    lay.list_file.parent.mkdir(parents=True, exist_ok=True)
    lay.list_file.write_text("".join(f"{w}|x|EN|clip {i}\n" for i, w in enumerate(wavs)))
    app = Host(p)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.click("#open-editor")
        await pilot.pause()
        assert isinstance(app.screen, ProofreadScreen)
        await pilot.press("enter", "q")
        await pilot.pause()
        assert not isinstance(app.screen, ProofreadScreen)
        st = load_project(p.root).step("proofread")
        assert st.status == "pending"
        await pilot.click("#open-editor")
        await pilot.pause()
        await pilot.press("n", "enter", "q")
        await pilot.pause()
        st = load_project(p.root).step("proofread")
        assert st.status == "done" and st.artifacts
        assert st.message.startswith("2/2 clips reviewed")


async def test_pane_refuses_a_second_editor_with_a_sentence(tmp_path):
    from engine.dataset.proofread.source import open_session

    p = create_project(tmp_path / "p", "Busy")
    lay = p.layout
    wav = tone(lay.slices_dir / "c0.wav", 1.0)
    lay.list_file.parent.mkdir(parents=True, exist_ok=True)
    lay.list_file.write_text(f"{wav}|x|EN|clip\n")
    held = open_session(p.root)  # another editor holds the list
    try:
        app = Host(p)
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.click("#open-editor")
            await pilot.pause()
            assert not isinstance(app.screen, ProofreadScreen)
            said = [n.message for n in app._notifications]
            assert any("is already open in" in m and "Close that editor" in m for m in said)
    finally:
        held.close()


async def test_wizard_opens_the_editor_from_the_proofread_step(tmp_path):
    """In the real wizard app: the run-step action on Proofread pushes the editor; closing it
    returns to the wizard with the step recorded."""
    from gsv_tui.app import GsvApp

    p = create_project(tmp_path / "w", "Wizard")
    lay = p.layout
    wavs = [tone(lay.slices_dir / f"c{i}.wav", 1.0) for i in range(2)]
    lay.list_file.parent.mkdir(parents=True, exist_ok=True)
    lay.list_file.write_text("".join(f"{w}|x|EN|clip {i}\n" for i, w in enumerate(wavs)))
    app = GsvApp(project=str(p.root))
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        app.goto_step("proofread")
        await pilot.pause()
        app.action_run_step()
        await pilot.pause()
        assert isinstance(app.screen, ProofreadScreen)
        await pilot.press("enter", "enter", "q")
        await pilot.pause()
        assert not isinstance(app.screen, ProofreadScreen)
        assert load_project(p.root).step("proofread").status == "done"
