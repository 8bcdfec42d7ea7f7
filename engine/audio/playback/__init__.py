"""Hearing clips from a terminal, locally and over SSH.

Every player runs in a child process with its output discarded: ALSA and PortAudio write to
the terminal's file descriptors and would wreck a Textual screen. Backends are tried in order
(see :mod:`.backends`); :func:`.diagnose.diagnose` says what to do when none can reach a sink.
"""
from engine.audio.playback.backends import BACKEND_ORDER, choose_backend
from engine.audio.playback.diagnose import PlaybackProblem, diagnose
from engine.audio.playback.player import Player, PlayStart

__all__ = ["BACKEND_ORDER", "choose_backend", "diagnose", "PlaybackProblem", "Player",
           "PlayStart"]
