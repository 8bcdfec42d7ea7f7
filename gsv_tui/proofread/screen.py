"""The proofreading editor Screen: listen, type, accept, next.

The screen is the controller: it owns the cursor (by clip id, so merges and splits don't lose
it), the view settings and the player; the session does every edit and saves it at once.
Widgets only draw what they are handed.
"""
from __future__ import annotations

import bisect
import gc
from functools import lru_cache
from pathlib import Path

import numpy as np
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Input

from engine.audio.playback import Player, choose_backend, diagnose
from engine.audio.playback.diagnose import PlaybackProblem
from engine.dataset.proofread import view as V
from engine.dataset.proofread.audio_edit import energy_envelope, quietest_point
from engine.dataset.proofread.clips import Clip
from engine.dataset.proofread.edits import Edit, EditError
from engine.dataset.proofread.session import ProofSession
from gsv_tui.proofread import actions
from gsv_tui.proofread.cliplist import ClipList, fmt_duration, status_glyph
from gsv_tui.proofread.detail import DetailPane, TextLines
from gsv_tui.proofread.dialogs import Prompt, ReplaceDialog, TextPanel, help_text

ENV_BUCKETS = 400
SPEEDS = (0.5, 2.0)


class TextEditor(Input):
    """The inline text editor. Escape leaves it; the cursor is remembered for a split."""

    BINDINGS = [Binding("escape", "leave", "Leave the editor", show=False)]

    class Left(Message):
        def __init__(self, cursor: int) -> None:
            super().__init__()
            self.cursor = cursor

    def action_leave(self) -> None:
        self.post_message(self.Left(self.cursor_position))


@lru_cache(maxsize=64)
def _envelope(path: str, mtime: float) -> np.ndarray:
    try:
        return energy_envelope(Path(path), ENV_BUCKETS)
    except Exception:  # unreadable audio: an empty strip, the clip is flagged in the list
        return np.zeros(0, dtype=np.float32)


def fmt_hms(seconds: float) -> str:
    s = int(round(seconds))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


class ProofreadScreen(Screen[None]):
    BINDINGS = actions.bindings()
    DEFAULT_CSS = """
    ProofreadScreen { layout: vertical; }
    ProofreadScreen > #counter { height: 1; background: $panel; color: $text; padding: 0 1; }
    ProofreadScreen > TextEditor { display: none; }
    ProofreadScreen > TextEditor.editing { display: block; }
    """

    def __init__(self, session: ProofSession, *, player: Player | None = None,
                 backend: str = "auto", keymap: dict[str, str] | None = None) -> None:
        super().__init__()
        self.session = session
        self.player = player or Player(backend)
        self.keymap = keymap or {}
        self.filter = "all"
        self.query_text = ""
        self.sort = "index"
        self.speed = 1.0
        self.autoplay = False
        self.cursor_id: int | None = None
        self.marker: float | None = None
        self.text_cursor: dict[int, int] = {}  # clip id -> last edit cursor, for splits
        self.problems: list[PlaybackProblem] = []
        self.last_url: str | None = None
        self._stats = (0, 0, 0.0)
        self._clip_list: ClipList | None = None
        self._detail: DetailPane | None = None

    # ---- layout ----------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield TextLines(id="counter")
        yield ClipList(lambda: self.session.clips, self.session.info, id="clips")
        yield DetailPane(id="detail")
        yield TextEditor(id="editor", placeholder="text of this clip")
        yield Footer()

    @property
    def clip_list(self) -> ClipList:
        if self._clip_list is None:  # looked up once: this runs several times per key
            self._clip_list = self.query_one(ClipList)
        return self._clip_list

    @property
    def editor(self) -> TextEditor:
        return self.query_one(TextEditor)

    @property
    def detail(self) -> DetailPane:
        if self._detail is None:
            self._detail = self.query_one(DetailPane)
        return self._detail

    def on_mount(self) -> None:
        # journal at once, rewrite the list just after the repaint (see ProofSession.flush)
        self.session.deferred = True
        self._refresh_stats()
        # 10,000 clips are ~100k long-lived objects: keep them out of every GC pass, which
        # otherwise lands in the middle of a repaint
        gc.freeze()
        self._reload_rows(keep_row=0)
        self.clip_list.focus()
        self.set_interval(1 / 15, self._tick)
        if self.player._backend is None:
            self._probe_sound(self.player.preferred)

    def on_unmount(self) -> None:
        self.player.close()
        self.session.flush()
        self.session.deferred = False

    # ---- sound set-up (a worker: probing may start child processes) -------------------
    class SoundProbed(Message):
        def __init__(self, backend: str, problems: list[PlaybackProblem]) -> None:
            super().__init__()
            self.backend, self.problems = backend, problems

    @work(thread=True, exclusive=True, group="sound-probe")
    def _probe_sound(self, preferred: str) -> None:
        backend = choose_backend(preferred)
        problems = diagnose(check_sounddevice=False) if backend == "http" else []
        self.post_message(self.SoundProbed(backend, problems))

    def on_proofread_screen_sound_probed(self, msg: SoundProbed) -> None:
        self.player.set_backend(msg.backend)
        self.problems = msg.problems
        self._update_counter()

    # ---- the current clip ------------------------------------------------------------
    @property
    def row(self) -> int:
        return self.clip_list.cursor

    def current_pos(self) -> int | None:
        rows = self.clip_list.rows
        return rows[self.row] if rows else None

    def current(self) -> Clip | None:
        pos = self.current_pos()
        return None if pos is None else self.session.clips[pos]

    def _reload_rows(self, *, focus_id: int | None = None, keep_row: int | None = None) -> None:
        """Recompute the rows shown (after an edit or a view change) and place the cursor
        on ``focus_id`` when it is shown, else on the same row number."""
        clips = self.session.clips
        rows = V.visible(clips, self.session.info, filter=self.filter, query=self.query_text,
                         sort=self.sort)
        row = self.row if keep_row is None else keep_row
        if focus_id is not None:
            for i, pos in enumerate(rows):
                if clips[pos].id == focus_id:
                    row = i
                    break
        self.clip_list.set_rows(rows, min(row, max(len(rows) - 1, 0)))
        self._show_current(force=True)

    def _go(self, row: int) -> None:
        self.clip_list.move_cursor(row)
        self._show_current()

    def _show_current(self, force: bool = False) -> None:
        clip = self.current()
        new_id = None if clip is None else clip.id
        if new_id == self.cursor_id and not force:
            return
        moved = new_id != self.cursor_id
        self.cursor_id = new_id
        detail = self.detail
        if clip is None:
            detail.show("No clips match this view (f: next filter, / then Enter: clear search)",
                        "")
            detail.strip.show(np.zeros(0, dtype=np.float32), 0.0, None)
            self._update_counter()
            return
        pos = self.current_pos()
        assert pos is not None
        info = self.session.info(clip)
        if clip.malformed:
            facts = (f"line {pos + 1}: does not split into wav|speaker|LANG|text; kept as is "
                     "(e: edit the raw line to fix it)")
        else:
            conf = "" if info.confidence is None else f"  conf {info.confidence * 100:.0f}%"
            state = {"✓": "reviewed", "x": "deleted", "?": "audio missing",
                     "·": "not reviewed"}[status_glyph(clip, info)]
            facts = (f"#{pos + 1}  {clip.wav}  {fmt_duration(info.duration).strip()} s"
                     f"{conf}  {clip.lang}  {state}")
        detail.show(facts, clip.text)
        if moved or force:
            env = np.zeros(0, dtype=np.float32)
            if clip.entry is not None and info.duration:
                p = self.session.wav_path(clip)
                try:
                    env = _envelope(str(p), p.stat().st_mtime)
                except OSError:
                    pass
            if moved or self.marker is None:
                self.marker = quietest_point(env, info.duration or 0.0) if len(env) else None
            detail.strip.show(env, info.duration or 0.0, self.marker)
        self._update_counter()
        if moved and self.autoplay and clip.entry is not None and not clip.deleted:
            self._play(0.0)

    def _refresh_stats(self) -> None:
        self._stats = self.session.stats()

    def _update_counter(self) -> None:
        reviewed, total, secs = self._stats
        parts = [f"reviewed {reviewed}/{total}", f"kept {fmt_hms(secs)}",
                 V.FILTERS[self.filter][0], f"by {self.sort}"]
        if self.query_text:
            parts.append(f"search {self.query_text!r}")
        parts += [f"speed {self.speed * 100:.0f}%", f"auto-play {'on' if self.autoplay else 'off'}",
                  f"sound {self.player._backend or '…'}"]
        if self.problems:
            parts.append("F2: sound set-up")
        self.query_one("#counter", TextLines).set(" · ".join(parts))

    # ---- edits -----------------------------------------------------------------------
    def _after_edit(self, edit: Edit | None, *, next_row: bool = False,
                    next_id: int | None = None) -> None:
        if edit is not None:
            # start the list writer only after this repaint: a thread started now would
            # compete for the GIL with the repaint itself (measured: +20 ms per accept)
            self.call_after_refresh(self._flush)
        self._refresh_stats()
        focus = next_id if next_row else (edit.focus if edit is not None else self.cursor_id)
        # the accepted clip may leave the view (filter "unreviewed"): then go to the one after
        if edit is not None and self._patch_rows(edit):
            self._place(focus)
            return
        self._reload_rows(focus_id=focus)

    @work(thread=True, group="list-writer")
    def _flush(self) -> None:
        """Rewrite the list off the UI thread (the edit is already in the journal)."""
        try:
            self.session.flush()
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
        except (EditError, ValueError, OSError) as e:
            self.notify(str(e), severity="error", title="Not done")
            return None

    def action_edit(self) -> None:
        clip = self.current()
        if clip is None:
            return
        ed = self.editor
        ed.value = clip.text
        ed.add_class("editing")
        ed.focus()
        ed.cursor_position = self.text_cursor.get(clip.id, len(clip.text))

    def _leave_editor(self) -> None:
        self.editor.remove_class("editing")
        self.clip_list.focus()

    @on(Input.Submitted, "#editor")
    def _editor_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        pos = self.current_pos()
        self._leave_editor()
        if pos is None:
            return
        clip = self.session.clips[pos]
        self.text_cursor[clip.id] = self.editor.cursor_position
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

    # ---- moving and viewing ----------------------------------------------------------
    def action_prev(self) -> None:
        self._go(self.row - 1)

    def action_next(self) -> None:
        self._go(self.row + 1)

    def action_page_up(self) -> None:
        self._go(self.row - max(1, self.clip_list.size.height - 1))

    def action_page_down(self) -> None:
        self._go(self.row + max(1, self.clip_list.size.height - 1))

    def action_first(self) -> None:
        self._go(0)

    def action_last(self) -> None:
        self._go(len(self.clip_list.rows) - 1)

    def action_next_unreviewed(self) -> None:
        row = V.next_unreviewed(self.session.clips, self.clip_list.rows, self.row)
        if row is None:
            self.notify("Every clip in this view is reviewed")
        else:
            self._go(row)

    @on(ClipList.Clicked)
    def _clicked(self, msg: ClipList.Clicked) -> None:
        self._go(msg.row)

    def action_jump(self) -> None:
        def done(value: str | None) -> None:
            if not value:
                return
            target = int(value) - 1
            rows = self.clip_list.rows
            row = next((i for i, p in enumerate(rows) if p >= target), len(rows) - 1)
            self._go(row)

        self.app.push_screen(Prompt("Go to clip number", restrict=r"[0-9]*"), done)

    def action_search(self) -> None:
        def done(value: str | None) -> None:
            if value is None:
                return
            self.query_text = value
            self._reload_rows(focus_id=self.cursor_id)

        self.app.push_screen(Prompt("Search texts (empty: show all)", self.query_text), done)

    def action_filter(self) -> None:
        order = V.FILTER_ORDER
        self.filter = order[(order.index(self.filter) + 1) % len(order)]
        self._reload_rows(focus_id=self.cursor_id, keep_row=0)

    def action_sort(self) -> None:
        self.sort = V.SORTS[(V.SORTS.index(self.sort) + 1) % len(V.SORTS)]
        self._reload_rows(focus_id=self.cursor_id)

    def action_help(self) -> None:
        self.app.push_screen(TextPanel("Proofreading keys", help_text(self.keymap)))

    def action_close(self) -> None:
        self.player.stop()
        if getattr(self.app, "exit_on_close", False):
            self.app.exit()
        else:
            self.dismiss(None)

    # ---- listening -------------------------------------------------------------------
    def _play(self, start: float, end: float | None = None) -> None:
        clip = self.current()
        if clip is None or clip.entry is None:
            return
        try:
            ps = self.player.play(self.session.wav_path(clip), start=start, end=end,
                                  speed=self.speed)
        except (OSError, RuntimeError, ValueError) as e:
            self.notify(f"Cannot play {clip.wav}: {e}", severity="error")
            return
        self.last_url = ps.url
        detail = self.detail
        if ps.url:
            detail.set_play_line(f"No sound output here: open {ps.url} through "
                                 "ssh -L (F2 shows how)")
        else:
            detail.set_play_line(f"▶ {ps.backend} · {ps.speed * 100:.0f}%")

    def _tick(self) -> None:
        pos = self.player.position()
        self.detail.strip.set_head(pos)

    def action_play(self) -> None:
        if self.player.playing:
            self.player.stop()
            self.detail.strip.set_head(None)
        else:
            self._play(0.0)

    def action_replay(self) -> None:
        self._play(0.0)

    def action_replay_tail(self) -> None:
        clip = self.current()
        if clip is None:
            return
        end = self.player.position() or self.session.info(clip).duration or 0.0
        self._play(max(0.0, end - 2.0), end)

    def action_autoplay(self) -> None:
        self.autoplay = not self.autoplay
        self._update_counter()

    def _set_speed(self, speed: float) -> None:
        self.speed = round(max(SPEEDS[0], min(SPEEDS[1], speed)), 2)
        self._update_counter()

    def action_slower(self) -> None:
        self._set_speed(self.speed - 0.1)

    def action_faster(self) -> None:
        self._set_speed(self.speed + 0.1)

    def action_sound(self) -> None:
        problems = self.problems or diagnose(check_sounddevice=False)
        if not problems:
            body = f"Playback works through: {self.player.backend}."
        else:
            body = "\n\n".join(p.summary + ("\n" + p.detail if p.detail else "") + "\n\n"
                               + "\n".join(p.fixes) for p in problems)
        if self.last_url:
            body += f"\n\nLast clip: {self.last_url}"
        self.app.push_screen(TextPanel("Hearing clips over SSH", body))
