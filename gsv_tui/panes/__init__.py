"""Step panes. ``pane_for(step_id)`` finds ``gsv_tui/panes/<step_id>.py``'s ``Pane`` class
(``import_`` for the import step), or a generic pane when a step has none yet."""
from __future__ import annotations

import importlib
import keyword


def module_name(step_id: str) -> str:
    return step_id + "_" if keyword.iskeyword(step_id) else step_id


def pane_class(step_id: str) -> tuple[type, str]:
    """The pane class for a step, and an error text if its module failed to load."""
    from gsv_tui.panes.generic import GenericPane

    try:
        module = importlib.import_module(f"gsv_tui.panes.{module_name(step_id)}")
    except ModuleNotFoundError as exc:
        if exc.name == f"gsv_tui.panes.{module_name(step_id)}":
            return GenericPane, ""
        return GenericPane, f"This step's screen could not load: {exc}"
    except Exception as exc:  # a broken pane must not take the wizard down
        return GenericPane, f"This step's screen could not load: {exc}"
    return getattr(module, "Pane"), ""
