"""The editor's edit actions: text, accept, undo/redo, delete, merge, split, replace.

A mixin of :class:`~gsv_tui.proofread.screen.ProofreadScreen` (it uses the screen's session,
clip list and cursor). Every edit goes through the session, which journals it at once; the
list is rewritten by a worker thread started after the repaint.
"""
from __future__ import annotations

import bisect

from textual import work
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Input

from engine.dataset.proofread import view as V
from engine.dataset.proofread.edits import Edit, EditError
from gsv_tui.proofread.dialogs import ReplaceDialog


FLUSH_DELAY_S = 0.05  # the journal already holds the edit; the list follows this much later


class TextEditor(Input):
    """The inline text editor. Escape leaves it; the cursor is remembered for a split."""

    BINDINGS = [Binding("escape", "leave", "Leave the editor", show=False)]

    class Left(Message):
        def __init__(self, cursor: int) -> None:
            super().__init__()
            self.cursor = cursor

    def action_leave(self) -> None:
        self.post_message(self.Left(self.cursor_position))


class EditingMixin:
    def _after_edit(self, edit: Edit | None, *, next_row: bool = False,
                    next_id: int | None = None) -> None:
        if edit is not None:
            # start the list writer once this repaint is on the terminal: a thread started
            # earlier competes for the GIL with the repaint and the driver's writer thread
            # (measured: +20 ms per accept). Quick edits in a row share one rewrite.
            self.set_timer(FLUSH_DELAY_S, self._flush)
        self._refresh_stats()
        focus = next_id if next_row else (edit.focus if edit is not None else self.cursor_id)
        reloaded = self._seen_reloads != self.session.reloads  # merged someone else's write
        # the accepted clip may leave the view (filter "unreviewed"): then go to the one after
        if not reloaded and (edit is None or self._patch_rows(edit)):  # patched in place
            self._place(focus)
            return
        if reloaded:
            self._note_reload()
        self._reload_rows(focus_id=focus)

    def _note_reload(self) -> None:
        self._seen_reloads = self.session.reloads
        taken = self.session.taken_in
        self.notify("The list changed outside the editor (a transcribe run or a text editor) "
                    "and was merged: your edits kept"
                    + (f"; {taken} line(s) changed by hand taken in" if taken else ""))

    def _merge_outside(self) -> None:
        """Someone else wrote the list: take it in on the UI thread (it owns the clips),
        then write ours on top."""
        if self.session.sync():
            self._refresh_stats()
            self._note_reload()
            self._reload_rows(focus_id=self.cursor_id)
        self._flush()

    @work(thread=True, group="list-writer")
    def _flush(self) -> None:
        """Rewrite the list off the UI thread (the edit is already in the journal)."""
        try:
            if not self.session.flush():
                self.app.call_from_thread(self._merge_outside)
        except OSError as e:
            self.app.call_from_thread(
                self.notify, f"Could not rewrite the list (your edits are safe in the "
                f"journal): {e}", severity="error")

    def _patch_rows(self, edit: Edit) -> bool:
        """Update the shown rows for an edit that swaps clips one for one (text, accept,
        delete, replace): no pass over every clip. False when a full reload is needed."""
        if self.sort != "index" or not all(len(p.old) == len(p.new) == 1 for p in edit.patches):
            return False
        cl = self.clip_list
        rows = cl.rows
        clips = self.session.clips
        changed: list[int] = []
        reshaped = False
        for p in edit.patches:
            c = clips[p.at]
            shown = V.matches(c, self.session.info(c), self.filter, self.query_text)
            i = bisect.bisect_left(rows, p.at)
            present = i < len(rows) and rows[i] == p.at
            if present != shown:
                if not reshaped:
                    rows, reshaped = list(rows), True
                rows.pop(i) if present else rows.insert(i, p.at)
            elif present:
                changed.append(i)
        if reshaped:
            cl.set_rows(rows, min(self.row, max(len(rows) - 1, 0)))
        else:
            for i in changed:  # same rows: repaint only the lines that changed
                cl.refresh_row(i)
        return True

    def _place(self, focus_id: int | None) -> None:
        if focus_id is not None:
            rows = self.clip_list.rows
            try:
                pos = self.session.position(focus_id)
            except EditError:
                pos = None
            if pos is not None:
                i = bisect.bisect_left(rows, pos)
                if i < len(rows) and rows[i] == pos:
                    self.clip_list.move_cursor(i)
        self._show_current(force=True)

    def _next_id(self) -> int | None:
        rows, row = self.clip_list.rows, self.row
        if row + 1 < len(rows):
            return self.session.clips[rows[row + 1]].id
        return self.cursor_id

    def _guard(self, fn, *args):  # type: ignore[no-untyped-def]
        try:
            return fn(*args)
        except (EditError, ValueError, OSError, RuntimeError) as e:  # soundfile: RuntimeError
            self.notify(str(e), severity="error", title="Not done")
            return None

    def action_edit(self) -> None:
        clip = self.current()
        if clip is None:
            return
        ed = self.editor
        self.editing_id = clip.id  # Enter saves to this clip, whatever happens meanwhile
        ed.value = clip.text
        ed.add_class("editing")
        ed.focus()
        ed.cursor_position = self.text_cursor.get(clip.id, len(clip.text))

    def _leave_editor(self) -> None:
        self.editing_id = None
        self.editor.remove_class("editing")
        self.clip_list.focus()

    @property
    def editing(self) -> bool:
        return getattr(self, "editing_id", None) is not None

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id != "editor":
            return
        event.stop()
        clip_id = self.editing_id
        self._leave_editor()
        if clip_id is None:
            return
        try:
            pos = self.session.position(clip_id)
        except EditError:
            return
        self.text_cursor[clip_id] = self.editor.cursor_position
        next_id = self._next_id()
        edit = self._guard(self.session.set_text, pos, event.value, True)
        self._after_edit(edit, next_row=True, next_id=next_id)

    def on_text_editor_left(self, msg: TextEditor.Left) -> None:
        if self.cursor_id is not None:
            self.text_cursor[self.cursor_id] = msg.cursor
        self._leave_editor()

    def action_accept(self) -> None:
        pos = self.current_pos()
        if pos is None:
            return
        next_id = self._next_id()
        edit = self._guard(self.session.accept, pos)
        self._after_edit(edit, next_row=True, next_id=next_id)

    def action_undo(self) -> None:
        edit = self.session.undo()
        if edit is None:
            self.notify("Nothing to undo")
            return
        self._after_edit(edit)

    def action_redo(self) -> None:
        edit = self.session.redo()
        if edit is None:
            self.notify("Nothing to redo")
            return
        self._after_edit(edit)

    def action_delete(self) -> None:
        pos = self.current_pos()
        if pos is None:
            return
        next_id = self._next_id()
        edit = self._guard(self.session.toggle_delete, pos)
        self._after_edit(edit, next_row=True, next_id=next_id)

    def _merge(self, step: int) -> None:
        pos = self.current_pos()
        if pos is not None:
            self.player.stop()
            self._after_edit(self._guard(self.session.merge, pos, step))

    def action_merge_next(self) -> None:
        self._merge(+1)

    def action_merge_prev(self) -> None:
        self._merge(-1)

    def action_split(self) -> None:
        pos, clip = self.current_pos(), self.current()
        if pos is None or clip is None or self.marker is None:
            self.notify("Nothing to split here", severity="warning")
            return
        info = self.session.info(clip)
        cursor = self.text_cursor.get(clip.id)
        if cursor is None:  # proportional, snapped to a space when there is one nearby
            text = clip.text
            cursor = int(len(text) * self.marker / (info.duration or 1.0))
            spaces = [i for i, ch in enumerate(text) if ch == " "]
            if spaces:
                cursor = min(spaces, key=lambda i: abs(i - cursor))
        self.player.stop()
        self._after_edit(self._guard(self.session.split, pos, self.marker, cursor))

    def _move_marker(self, delta: float) -> None:
        clip = self.current()
        if clip is None or self.marker is None:
            return
        dur = self.session.info(clip).duration or 0.0
        self.marker = max(0.01, min(dur - 0.01, self.marker + delta))
        self.detail.strip.set_marker(self.marker)

    def on_energy_strip_clicked(self, msg) -> None:  # type: ignore[no-untyped-def]
        """Clicking the strip puts the split marker there."""
        clip = self.current()
        if clip is not None and clip.entry is not None:
            self.marker = msg.seconds
            self._move_marker(0.0)

    def action_marker_left(self) -> None:
        self._move_marker(-0.1)

    def action_marker_right(self) -> None:
        self._move_marker(+0.1)

    def action_replace(self) -> None:
        def done(result: tuple[str, str] | None) -> None:
            if not result or not result[0]:
                return
            find, repl = result
            edit = self._guard(self.session.replace_all, self.clip_list.rows, find, repl)
            n = len(edit.patches) if edit else 0
            self.notify(f"Replaced in {n} clip{'s' if n != 1 else ''}")
            self._after_edit(edit)

        self.app.push_screen(ReplaceDialog(self.query_text), done)
