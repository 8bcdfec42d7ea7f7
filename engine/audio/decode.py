"""Decode any recording to float32 blocks, streaming, with one-line reasons on failure.

libsndfile (soundfile) reads wav/flac/ogg/mp3 directly and seeks; everything else (m4a,
aac, opus in mp4/webm, video files) goes through PyAV's FFmpeg. Blocks are (frames,
channels) float32 so a 2-hour file never has to sit in memory at once.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

BLOCK_FRAMES = 1 << 16
AUDIO_EXTS = frozenset({
    ".wav", ".flac", ".ogg", ".oga", ".mp3", ".aif", ".aiff", ".opus", ".m4a", ".aac",
    ".wma", ".webm", ".mp4", ".mkv", ".mov", ".avi", ".3gp", ".amr", ".caf", ".w64",
})


class DecodeError(Exception):
    """A file that cannot be read as audio; ``reason`` is one plain line for the report,
    ``detail`` what the library said (for the job log, never shown as the reason)."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class AudioInfo:
    sample_rate: int
    channels: int
    frames: int | None  # None when the container does not say
    codec: str
    backend: str  # "soundfile" | "av"
    bits: int | None = None  # source bit depth where known (PCM)

    @property
    def duration_s(self) -> float | None:
        return None if self.frames is None else self.frames / self.sample_rate


_SF_BITS = {"PCM_S8": 8, "PCM_U8": 8, "PCM_16": 16, "PCM_24": 24, "PCM_32": 32,
            "FLOAT": 32, "DOUBLE": 64}


UNREADABLE = "not an audio or video file we can read"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _plain(exc: BaseException, seconds: float | None = None) -> DecodeError:
    """One sentence for what FFmpeg or libsndfile said: their error numbers, codes and our
    own path add nothing for the person reading the report. ``seconds``: how much decoded
    before it failed (None: it failed while opening)."""
    if isinstance(exc, IsADirectoryError):
        reason = "a folder, not a file"
    elif isinstance(exc, PermissionError):
        reason = "no permission to read this file"
    elif isinstance(exc, FileNotFoundError):
        reason = "not found"
    elif _is_av(exc, "DecoderNotFoundError"):
        reason = "its audio codec is not supported here: convert it to WAV or FLAC"
    elif _is_av(exc, "EOFError") and seconds is None:
        reason = "the file ends before its audio starts (cut short, or still being copied)"
    elif seconds is None:
        reason = UNREADABLE
    else:
        where = f" after about {seconds:.0f} s" if seconds >= 1 else ""
        reason = (f"the audio data is damaged{where} (the file may be cut short): "
                  "re-export or re-copy it")
    return DecodeError(reason, f"{type(exc).__name__}: {_first_line(exc)}")


def _is_av(exc: BaseException, name: str) -> bool:
    try:
        import av.error
    except ImportError:
        return False
    cls = getattr(av.error, name, None)
    return cls is not None and isinstance(exc, cls)


def _sf_info(path: Path) -> AudioInfo | None:
    import soundfile as sf

    try:
        info = sf.info(str(path))
    except Exception:  # noqa: BLE001 - libsndfile does not know it; let FFmpeg try
        return None
    if info.samplerate <= 0 or info.channels <= 0:
        return None
    return AudioInfo(info.samplerate, info.channels, int(info.frames),
                     f"{info.format}/{info.subtype}", "soundfile", _SF_BITS.get(info.subtype))


def _av_info(path: Path) -> AudioInfo:
    import av

    try:
        with av.open(str(path)) as container:
            if not container.streams.audio:
                raise DecodeError("no audio stream in this file")
            st = container.streams.audio[0]
            frames = None
            if st.duration is not None and st.time_base is not None:
                frames = int(round(float(st.duration * st.time_base) * st.rate))
            elif container.duration:
                frames = int(round(container.duration / 1_000_000 * st.rate))
            channels = st.codec_context.channels or len(st.layout.channels)
            return AudioInfo(int(st.rate), int(channels), frames, st.codec_context.name, "av")
    except DecodeError:
        raise
    except Exception as exc:  # noqa: BLE001 - every FFmpeg error becomes one line
        raise _plain(exc) from exc


def probe(path: Path | str) -> AudioInfo:
    """What the file holds, or :class:`DecodeError` with the reason."""
    path = Path(path)
    try:
        size = os.path.getsize(path)
    except OSError as exc:
        raise _plain(exc) from exc
    if path.is_dir():
        raise DecodeError("a folder, not a file")
    if size == 0:
        raise DecodeError("empty file (0 bytes)")
    return _sf_info(path) or _av_info(path)


def iter_blocks(path: Path | str, info: AudioInfo | None = None,
                block_frames: int = BLOCK_FRAMES) -> Iterator[np.ndarray]:
    """(frames, channels) float32 blocks at the file's own rate and channel count."""
    path = Path(path)
    info = info or probe(path)
    if info.backend == "soundfile":
        yield from _sf_blocks(path, block_frames)
    else:
        yield from _av_blocks(path, info)


def _sf_blocks(path: Path, block_frames: int) -> Iterator[np.ndarray]:
    import soundfile as sf

    frames, rate = 0, 0
    try:
        with sf.SoundFile(str(path)) as f:
            rate = f.samplerate
            while True:
                block = f.read(block_frames, dtype="float32", always_2d=True)
                if block.shape[0] == 0:
                    return
                frames += block.shape[0]
                yield block
    except DecodeError:
        raise
    except Exception as exc:  # noqa: BLE001
        raise _plain(exc, frames / rate if rate else None) from exc


def _av_blocks(path: Path, info: AudioInfo) -> Iterator[np.ndarray]:
    import av

    layout = "mono" if info.channels == 1 else "stereo"  # more than two are folded to two
    n_ch = 1 if layout == "mono" else 2
    frames = 0
    opened = False
    try:
        with av.open(str(path)) as container:
            opened = True
            stream = container.streams.audio[0]
            resampler = av.AudioResampler(format="flt", layout=layout, rate=info.sample_rate)
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    block = out.to_ndarray().reshape(-1, n_ch)
                    frames += block.shape[0]
                    yield block
            for out in resampler.resample(None):
                yield out.to_ndarray().reshape(-1, n_ch)
    except Exception as exc:  # noqa: BLE001
        raise _plain(exc, frames / info.sample_rate if opened else None) from exc


def to_mono(block: np.ndarray) -> np.ndarray:
    return block[:, 0] if block.shape[1] == 1 else block.mean(axis=1, dtype=np.float32)


def iter_mono(path: Path | str, sr: int | None = None, info: AudioInfo | None = None,
              block_frames: int = BLOCK_FRAMES) -> Iterator[np.ndarray]:
    """Mono float32 blocks, resampled to ``sr`` (soxr, streaming) when it differs."""
    info = info or probe(path)
    blocks = (to_mono(b) for b in iter_blocks(path, info, block_frames))
    if sr is None or sr == info.sample_rate:
        yield from blocks
        return
    import soxr

    rs = soxr.ResampleStream(info.sample_rate, sr, 1, dtype="float32", quality="HQ")
    for block in blocks:
        out = rs.resample_chunk(block)
        if out.size:
            yield out
    tail = rs.resample_chunk(np.zeros(0, np.float32), last=True)
    if tail.size:
        yield tail


def load_mono(path: Path | str, sr: int | None = None) -> tuple[np.ndarray, int]:
    """The whole file as mono float32 (for clips and files the caller knows are bounded)."""
    info = probe(path)
    parts = list(iter_mono(path, sr, info))
    x = np.concatenate(parts) if parts else np.zeros(0, np.float32)
    return x.astype(np.float32, copy=False), sr or info.sample_rate
