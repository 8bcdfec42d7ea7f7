"""The editor's listening actions: play/stop, replay, last 2 s, auto-play, speed, and the
sound set-up panel (why nothing plays over SSH, and the exact tunnel commands).

A mixin of :class:`~gsv_tui.proofread.screen.ProofreadScreen`. Playback itself runs in child
processes (:mod:`engine.audio.playback`); only the play head is polled here.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from textual import work
from textual.message import Message

from engine.audio.playback import choose_backend, diagnose
from engine.audio.playback.diagnose import PlaybackProblem, tunnel_target
from gsv_tui.proofread.dialogs import TextPanel

SPEEDS = (0.5, 2.0)


class ListeningMixin:
    # sound set-up runs in a worker: probing may start child processes
    class SoundProbed(Message):
        def __init__(self, backend: str, problems: list[PlaybackProblem]) -> None:
            super().__init__()
            self.backend, self.problems = backend, problems

    @work(thread=True, exclusive=True, group="sound-probe")
    def _probe_sound(self, preferred: str) -> None:
        backend = choose_backend(preferred)
        problems = diagnose(check_sounddevice=False) if backend == "http" else []
        self.post_message(self.SoundProbed(backend, problems))

    def on_listening_mixin_sound_probed(self, msg: SoundProbed) -> None:
        self.player.set_backend(msg.backend)
        self.problems = msg.problems
        self._update_counter()

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
        self._checked_exit = False
        detail = self.detail
        if ps.url:
            detail.set_play_line(f"No sound output here: open {ps.url} through "
                                 "ssh -L (F2 shows how)")
            if not getattr(self, "_sound_panel_shown", False):
                self._sound_panel_shown = True  # once per session: the user knows then
                self.action_sound()
        else:
            detail.set_play_line(f"▶ {ps.backend} · {ps.speed * 100:.0f}%")

    def _tick(self) -> None:
        pos = self.player.position()
        self.detail.strip.set_head(pos)
        if not getattr(self, "_checked_exit", True):
            code = self.player.exit_code()
            if code is not None:
                self._checked_exit = True
                if code != 0:  # e.g. the ssh tunnel to the laptop's PulseAudio went away
                    self.detail.set_play_line(
                        f"✘ {self.player.backend} could not play (exit {code}): F2 shows why")
                    self.problems = diagnose(check_sounddevice=False)
                    self._update_counter()

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
            port = urlsplit(self.last_url).port
            body += ("\n\nThe clip server is running. On your laptop:\n"
                     f"laptop$ ssh -L {port}:127.0.0.1:{port} {tunnel_target()}\n"
                     f"then open: {self.last_url}")
        self.app.push_screen(TextPanel("Hearing clips over SSH", body))
