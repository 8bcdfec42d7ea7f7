"""A small App hosting only the editor: ``gsv proofread`` and the Pilot tests use it."""
from __future__ import annotations

from textual.app import App

from engine.appconfig import load_config
from engine.dataset.proofread.session import ProofSession
from gsv_tui.proofread.screen import ProofreadScreen
from themes import DEFAULT_THEME, THEMES, variable_defaults


class ProofreadApp(App[None]):
    TITLE = "gsv proofread"
    exit_on_close = True  # closing the editor ends this app (the wizard pops it instead)

    def __init__(self, session: ProofSession, *, backend: str | None = None) -> None:
        super().__init__()
        cfg = load_config()
        self.session = session
        self.keymap = dict(cfg.keymap)
        self.backend = backend or cfg.playback_backend
        self.theme_name = cfg.theme

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return variable_defaults()  # $gsv-reviewed etc. under any theme

    def on_mount(self) -> None:
        for theme in THEMES:
            self.register_theme(theme)
        self.theme = self.theme_name if self.theme_name in self.available_themes \
            else DEFAULT_THEME
        self.set_keymap(self.keymap)
        self.push_screen(ProofreadScreen(self.session, backend=self.backend, keymap=self.keymap))

    def on_unmount(self) -> None:
        self.session.close()
