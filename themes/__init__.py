"""Textual themes for gsv-tui. Colours live here only; stylesheets use ``$variables``.

App-specific states (a reviewed clip, an edited one, a step's status) are theme variables
too, so every theme — including the high-contrast one — decides how they look."""
from __future__ import annotations

from textual.theme import Theme

# Every theme must define these; widgets style states with them.
APP_VARIABLES = ("gsv-reviewed", "gsv-edited", "gsv-deleted", "gsv-running", "gsv-done",
                 "gsv-failed", "gsv-stale", "gsv-pending", "gsv-playhead", "gsv-energy")

GSV_DARK = Theme(
    name="gsv-dark", primary="#5FA8D3", secondary="#8E7DBE", accent="#F2A65A",
    foreground="#E0E3E7", background="#15181D", surface="#1D2128", panel="#262B34",
    success="#6BBF59", warning="#E8C547", error="#E4572E", dark=True,
    variables={"gsv-reviewed": "#6BBF59", "gsv-edited": "#F2A65A", "gsv-deleted": "#6C7380",
               "gsv-running": "#5FA8D3", "gsv-done": "#6BBF59", "gsv-failed": "#E4572E",
               "gsv-stale": "#E8C547", "gsv-pending": "#8A919C", "gsv-playhead": "#F2A65A",
               "gsv-energy": "#5FA8D3", "footer-key-foreground": "#F2A65A"},
)

GSV_LIGHT = Theme(
    name="gsv-light", primary="#1F6F9F", secondary="#5B4B8A", accent="#B3541E",
    foreground="#1C1F24", background="#F6F7F9", surface="#FFFFFF", panel="#E6E9EE",
    success="#2E7D32", warning="#A66F00", error="#B3261E", dark=False,
    variables={"gsv-reviewed": "#2E7D32", "gsv-edited": "#B3541E", "gsv-deleted": "#8A919C",
               "gsv-running": "#1F6F9F", "gsv-done": "#2E7D32", "gsv-failed": "#B3261E",
               "gsv-stale": "#A66F00", "gsv-pending": "#5F6670", "gsv-playhead": "#B3541E",
               "gsv-energy": "#1F6F9F", "footer-key-foreground": "#B3541E"},
)

# High contrast: pure black/white with saturated, distinguishable state colours.
GSV_CONTRAST = Theme(
    name="gsv-contrast", primary="#FFFF00", secondary="#00FFFF", accent="#FF00FF",
    foreground="#FFFFFF", background="#000000", surface="#000000", panel="#1A1A1A",
    success="#00FF00", warning="#FFFF00", error="#FF3030", dark=True, luminosity_spread=0.0,
    variables={"gsv-reviewed": "#00FF00", "gsv-edited": "#FF00FF", "gsv-deleted": "#A0A0A0",
               "gsv-running": "#00FFFF", "gsv-done": "#00FF00", "gsv-failed": "#FF3030",
               "gsv-stale": "#FFFF00", "gsv-pending": "#FFFFFF", "gsv-playhead": "#FFFF00",
               "gsv-energy": "#00FFFF", "footer-key-foreground": "#FFFF00"},
)

THEMES: tuple[Theme, ...] = (GSV_DARK, GSV_LIGHT, GSV_CONTRAST)
DEFAULT_THEME = GSV_DARK.name


def variable_defaults() -> dict[str, str]:
    """Fallbacks for the app variables under Textual's built-in themes."""
    return {k: v for k, v in GSV_DARK.variables.items() if k.startswith("gsv-")}
