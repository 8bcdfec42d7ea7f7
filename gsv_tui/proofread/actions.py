"""Every proofreading key, declared once: id, description, default keys.

The screen's bindings, the footer and the help overlay all come from this list. Binding ids
are ``proofread.<id>``; a user remaps them in the app config's ``[keymap]`` table
(``"proofread.accept" = "ctrl+j"``), which the App applies with ``set_keymap``.
"""
from __future__ import annotations

from textual.binding import Binding

from gsv_tui.actions import ActionSpec
from gsv_tui.actions import bindings as _bindings
from gsv_tui.actions import effective_keys

SCOPE = "proofread"


def ProofAction(id: str, description: str, keys: str, footer: bool = False,
                group: str = "Clips") -> ActionSpec:
    """The app's one action type, scoped to the editor (binding ids ``proofread.<id>``)."""
    return ActionSpec(id, description, keys, group, show=footer, scope=SCOPE)


ACTIONS: tuple[ActionSpec, ...] = (
    ProofAction("play", "Play / stop", "space", True, "Listen"),
    ProofAction("replay", "Replay from the start", "r", False, "Listen"),
    ProofAction("replay_tail", "Replay the last 2 s", "b", False, "Listen"),
    ProofAction("autoplay", "Auto-play on move (toggle)", "a", False, "Listen"),
    ProofAction("slower", "Playback speed −10 %", "left_square_bracket", False, "Listen"),
    ProofAction("faster", "Playback speed +10 %", "right_square_bracket", False, "Listen"),
    ProofAction("sound", "Sound set-up (why nothing plays, ssh tunnels)", "f2", False, "Listen"),
    ProofAction("edit", "Edit the text", "e,i", True, "Edit"),
    ProofAction("accept", "Accept (reviewed) and go to next", "enter", True, "Edit"),
    ProofAction("undo", "Undo", "u,ctrl+z", True, "Edit"),
    ProofAction("redo", "Redo", "U,ctrl+r", False, "Edit"),
    ProofAction("delete", "Delete / restore (soft: file kept)", "d,delete", True, "Edit"),
    ProofAction("merge_next", "Merge with next clip", "m", False, "Edit"),
    ProofAction("merge_prev", "Merge with previous clip", "M", False, "Edit"),
    ProofAction("split", "Split at the marker (text at the edit cursor)", "s", False, "Edit"),
    ProofAction("marker_left", "Move split marker −0.1 s", "comma", False, "Edit"),
    ProofAction("marker_right", "Move split marker +0.1 s", "full_stop", False, "Edit"),
    ProofAction("replace", "Search and replace in texts", "R", False, "Edit"),
    ProofAction("prev", "Previous clip", "up,k", False),
    ProofAction("next", "Next clip", "down,j", False),
    ProofAction("page_up", "Page up", "pageup", False),
    ProofAction("page_down", "Page down", "pagedown", False),
    ProofAction("first", "First clip", "home", False),
    ProofAction("last", "Last clip", "end", False),
    ProofAction("next_unreviewed", "Next unreviewed clip", "n", True),
    ProofAction("jump", "Jump to clip number", "g", False),
    ProofAction("search", "Search texts (empty clears)", "slash", True, "View"),
    ProofAction("filter", "Next filter (unreviewed, low confidence, short, long …)", "f", True,
                "View"),
    ProofAction("sort", "Next sort (index, duration, confidence)", "o", False, "View"),
    ProofAction("help", "All keys", "question_mark", True, "View"),
    ProofAction("close", "Close the editor", "q", True, "View"),
)
BY_ID = {a.id: a for a in ACTIONS}


def bindings() -> list[Binding]:
    return _bindings(ACTIONS)


def keys_for(action: ActionSpec, keymap: dict[str, str] | None = None) -> str:
    """The keys in effect: the user's keymap entry, else the default."""
    return effective_keys(action, keymap)
