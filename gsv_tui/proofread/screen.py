"""The proofreading editor Screen: listen, type, accept, next.

The screen is the controller: it owns the cursor (by clip id, so merges and splits don't lose
it), the view settings and the player; the session does every edit and saves it at once.
Widgets only draw what they are handed. Edit actions live in :mod:`.editing`, listening
actions in :mod:`.listening`.
"""
from __future__ import annotations

import gc
from functools import lru_cache
from pathlib import Path

import numpy as np
from textual import on
from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer

from engine.audio.playback import Player
from engine.audio.playback.diagnose import PlaybackProblem
from engine.dataset.proofread import view as V
from engine.dataset.proofread.audio_edit import energy_envelope, quietest_point
from engine.dataset.proofread.clips import Clip
from engine.dataset.proofread.session import ProofSession
from gsv_tui.proofread import actions
from gsv_tui.proofread.cliplist import ClipList, fmt_duration, status_glyph
from gsv_tui.proofread.detail import DetailPane, TextLines
from gsv_tui.proofread.dialogs import Prompt, TextPanel, help_text
from gsv_tui.proofread.editing import EditingMixin, TextEditor
from gsv_tui.proofread.listening import ListeningMixin

ENV_BUCKETS = 400
OUTSIDE_CHECK_S = 1.0  # how often an idle editor looks for someone else's write


@lru_cache(maxsize=64)
def _envelope(path: str, mtime: float) -> np.ndarray:
    try:
        return energy_envelope(Path(path), ENV_BUCKETS)
    except Exception:  # unreadable audio: an empty strip, the clip is flagged in the list
        return np.zeros(0, dtype=np.float32)


def fmt_hms(seconds: float) -> str:
    s = int(round(seconds))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


class ProofreadScreen(EditingMixin, ListeningMixin, Screen[None]):
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
        self.editing_id: int | None = None
        self._detail: DetailPane | None = None
        self._seen_reloads = session.reloads

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
        self.set_interval(OUTSIDE_CHECK_S, self._check_outside)
        if self.player._backend is None:
            self._probe_sound(self.player.preferred)

    def _check_outside(self) -> None:
        """An ASR run may finish while the editor is open: show its clips (a stat, no read,
        unless something changed). Not while the person types: the next edit merges."""
        if not self.editing and self.session.changed_outside():
            self._merge_outside()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """While the text editor is open, only it takes keys: arrows must not move the
        list under a half-typed text (Input leaves them unbound)."""
        if self.editing and action in actions.BY_ID:
            return False
        return True

    def on_unmount(self) -> None:
        self.player.close()
        self.session.flush()
        self.session.deferred = False

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
                     "✎": "edited, not accepted", "·": "not reviewed"}[status_glyph(clip, info)]
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
