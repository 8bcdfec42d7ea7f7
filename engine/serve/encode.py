"""Audio out, piece by piece: every format is an :class:`Encoder` that turns float32 pieces
into bytes as they come, so a streamed answer starts with the first piece and a whole one
is the same bytes collected. WAV/FLAC answers that are not streamed are written whole
(sizes in the header); a streamed WAV says "unknown length" (0xFFFFFFFF), as OpenAI's does;
FLAC always goes whole.
Opus is always 48 kHz (the codec's rate), OpenAI's pcm 24 kHz; others keep the voice's rate."""
from __future__ import annotations

import io
import struct
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Format:
    media_type: str
    rate: int = 0  # fixed output rate (0: the voice's)
    container: str = ""  # PyAV muxer ("" = written here)
    codec: str = ""


FORMATS = {
    "wav": Format("audio/wav"),
    "flac": Format("audio/flac"),
    "mp3": Format("audio/mpeg", container="mp3", codec="libmp3lame"),
    "opus": Format("audio/ogg", rate=48000, container="ogg", codec="libopus"),
    "aac": Format("audio/aac", container="adts", codec="aac"),
    "pcm": Format("audio/L16"),
}


def media_type(fmt: str, rate: int) -> str:
    return f"audio/L16; rate={rate}; channels=1" if fmt == "pcm" else FORMATS[fmt].media_type


def out_rate(fmt: str, voice_rate: int, asked: int = 0) -> int:
    return FORMATS[fmt].rate or asked or voice_rate


def int16(audio: np.ndarray) -> np.ndarray:
    return (np.clip(audio, -1.0, 1.0) * 32767.0).astype("<i2")


def wav_header(rate: int, frames: int | None) -> bytes:
    """RIFF header of 16-bit mono; ``frames`` None: unknown length (streamed)."""
    data = 0xFFFFFFFF if frames is None else frames * 2
    riff = 0xFFFFFFFF if frames is None else 36 + data
    return (b"RIFF" + struct.pack("<I", riff) + b"WAVEfmt " +
            struct.pack("<IHHIIHH", 16, 1, 1, rate, rate * 2, 2, 16) + b"data" + struct.pack("<I", data))


class _Resampler:
    """Voice rate -> output rate across piece boundaries (one stream, no clicks)."""

    def __init__(self, rate_in: int, rate_out: int) -> None:
        self.stream = None
        if rate_in != rate_out:
            import soxr

            self.stream = soxr.ResampleStream(rate_in, rate_out, 1, dtype="float32")

    def __call__(self, audio: np.ndarray, last: bool = False) -> np.ndarray:
        audio = np.asarray(audio, dtype=np.float32)
        return audio if self.stream is None else self.stream.resample_chunk(audio, last=last)


class Encoder:
    def __init__(self, fmt: str, rate_in: int, rate_out: int) -> None:
        self.fmt, self.rate = fmt, rate_out
        self._resample = _Resampler(rate_in, rate_out)

    def feed(self, audio: np.ndarray) -> bytes:
        return self._encode(self._resample(audio))

    def close(self) -> bytes:
        return self._encode(self._resample(np.zeros(0, np.float32), last=True)) + self._finish()

    def _encode(self, audio: np.ndarray) -> bytes:
        raise NotImplementedError

    def _finish(self) -> bytes:
        return b""


class PcmEncoder(Encoder):
    def __init__(self, fmt: str, rate_in: int, rate_out: int) -> None:
        super().__init__(fmt, rate_in, rate_out)
        self._header = wav_header(rate_out, None) if fmt == "wav" else b""

    def _encode(self, audio: np.ndarray) -> bytes:
        head, self._header = self._header, b""
        return head + int16(audio).tobytes()


class WholeEncoder(Encoder):
    """WAV/FLAC written once at the end, with their real length."""

    def __init__(self, fmt: str, rate_in: int, rate_out: int) -> None:
        super().__init__(fmt, rate_in, rate_out)
        self._parts: list[np.ndarray] = []

    def _encode(self, audio: np.ndarray) -> bytes:
        self._parts.append(audio)
        return b""

    def _finish(self) -> bytes:
        import soundfile as sf

        buf = io.BytesIO()
        audio = np.concatenate(self._parts) if self._parts else np.zeros(0, np.float32)
        sf.write(buf, int16(audio), self.rate, subtype="PCM_16", format=self.fmt.upper())
        return buf.getvalue()


class _Sink:
    """A write-only file PyAV muxes into; what was written since the last take."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def write(self, b) -> int:
        self.parts.append(bytes(b))
        return len(b)

    def take(self) -> bytes:
        out, self.parts = b"".join(self.parts), []
        return out


class AvEncoder(Encoder):
    """mp3/opus/aac/flac through PyAV (FFmpeg's encoders), muxed into an unseekable sink."""

    def __init__(self, fmt: str, rate_in: int, rate_out: int) -> None:
        import av

        super().__init__(fmt, rate_in, rate_out)
        spec = FORMATS[fmt]
        self._av = av
        self._sink = _Sink()
        # Ogg keeps pages up to 1 s by default; 20 ms pages let each piece leave at once.
        options = {"page_duration": "20000"} if spec.container == "ogg" else {}
        self._box = av.open(self._sink, "w", format=spec.container, options=options)
        self._stream = self._box.add_stream(spec.codec, rate=rate_out, layout="mono")
        self._pts = 0

    def _encode(self, audio: np.ndarray) -> bytes:
        if len(audio):
            frame = self._av.AudioFrame.from_ndarray(audio.reshape(1, -1).astype(np.float32),
                                                     format="flt", layout="mono")
            frame.sample_rate, frame.pts = self.rate, self._pts
            self._pts += len(audio)
            for packet in self._stream.encode(frame):
                self._box.mux(packet)
        return self._sink.take()

    def _finish(self) -> bytes:
        for packet in self._stream.encode(None):
            self._box.mux(packet)
        self._box.close()
        return self._sink.take()


def encoder(fmt: str, rate_in: int, rate_out: int, stream: bool) -> Encoder:
    # FLAC is sent whole even when streaming: decoders (libsndfile) refuse a FLAC stream
    # whose header does not know its length.
    if fmt == "flac" or (fmt == "wav" and not stream):
        return WholeEncoder(fmt, rate_in, rate_out)
    if fmt in ("wav", "pcm"):
        return PcmEncoder(fmt, rate_in, rate_out)
    return AvEncoder(fmt, rate_in, rate_out)
