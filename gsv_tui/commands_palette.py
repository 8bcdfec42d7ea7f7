"""Command palette entries: go to any step, run it, switch theme, open a project."""
from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from engine.steps import STEPS


class WizardCommands(Provider):
    def _commands(self):
        app = self.app
        for s in STEPS:
            yield (f"Go to step: {s.title}", partial(app.goto_step, s.id), s.summary)
        for name in app.theme_names():
            yield (f"Theme: {name}", partial(setattr, app, "theme", name), "switch the colour theme")
        yield ("Open or create a project", app.action_open_project, "project picker")
        yield ("Show keys and help", app.action_help, "help overlay")

    async def discover(self) -> Hits:
        for text, cb, help_text in self._commands():
            yield DiscoveryHit(text, cb, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for text, cb, help_text in self._commands():
            score = matcher.match(text)
            if score > 0:
                yield Hit(score, matcher.highlight(text), cb, help=help_text)
