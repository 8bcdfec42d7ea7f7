"""One bounded queue and one worker thread per voice: a voice's models speak one request at
a time (they are not shared across threads), and a full queue is a 429 at once rather than
a request that waits for ever. A job's deadline counts its time in the queue; the worker
checks it (and whether the client went away) before starting and between pieces.

A job hands its bytes to the asyncio side through ``call_soon_threadsafe``: the event loop
never blocks on synthesis, and a streamed answer gets each piece as soon as it is encoded."""
from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterator

from engine.events import StepError
from engine.serve.params import ApiError

log = logging.getLogger("gsv.serve")


@dataclass(frozen=True)
class Chunk:
    data: bytes


@dataclass(frozen=True)
class End:
    pass


def timed_out(limit_s: float) -> ApiError:
    return ApiError(504, f"The request took longer than this server's limit of {limit_s:g} s.",
                    "Send shorter text, try again when the server is less busy, or start "
                    "gsv serve with a larger --timeout.", kind="timeout")


class Job:
    """One request on its way through a voice's queue."""

    def __init__(self, produce: Callable[[], Iterator[bytes]], limit_s: float,
                 loop: asyncio.AbstractEventLoop) -> None:
        self.produce = produce  # runs in the worker thread
        self.limit_s = limit_s
        self.deadline = time.monotonic() + limit_s
        self.cancelled = threading.Event()
        self._loop = loop
        self._items: asyncio.Queue = asyncio.Queue()

    def expired(self) -> bool:
        return time.monotonic() > self.deadline

    def cancel(self) -> None:
        self.cancelled.set()

    def push(self, item: Chunk | End | ApiError) -> None:
        try:
            self._loop.call_soon_threadsafe(self._items.put_nowait, item)
        except RuntimeError:  # the loop closed (server shutting down): nobody is listening
            self.cancel()

    async def next(self) -> Chunk | End | ApiError:
        """The next item, or a timeout error once the deadline passed."""
        left = self.deadline - time.monotonic()
        try:
            return await asyncio.wait_for(self._items.get(), timeout=max(left, 0.001))
        except (asyncio.TimeoutError, TimeoutError):
            self.cancel()
            return timed_out(self.limit_s)


class Busy(Exception):
    pass


class VoiceQueue:
    def __init__(self, name: str, size: int) -> None:
        self.name = name
        self.size = size
        self._q: queue.Queue[Job | None] = queue.Queue(maxsize=size)
        self.running: Job | None = None
        self.served = 0
        self._thread = threading.Thread(target=self._loop, name=f"voice-{name}", daemon=True)
        self._thread.start()

    def submit(self, job: Job) -> None:
        try:
            self._q.put_nowait(job)
        except queue.Full:
            raise Busy from None

    def waiting(self) -> int:
        return self._q.qsize()

    def stop(self) -> None:
        while True:  # drop what waits; the sentinel must fit
            try:
                job = self._q.get_nowait()
            except queue.Empty:
                break
            if job is not None:
                job.push(ApiError(503, "The server is shutting down.", "Try again when it is back."))
        self._q.put(None)

    def _loop(self) -> None:
        while True:
            job = self._q.get()
            if job is None:
                return
            if job.cancelled.is_set():
                continue
            self.running = job
            try:
                self._run(job)
            finally:
                self.running = None
                self.served += 1

    def _run(self, job: Job) -> None:
        import torch

        try:
            with torch.inference_mode():
                if job.expired():
                    raise timed_out(job.limit_s)
                for data in job.produce():
                    if data:
                        job.push(Chunk(data))
                    if job.cancelled.is_set():
                        return  # the client left or its time ran out: stop speaking
                    if job.expired():
                        raise timed_out(job.limit_s)
            job.push(End())
        except ApiError as exc:
            job.push(exc)
        except StepError as exc:
            job.push(ApiError(422, exc.reason, exc.hint or "", kind="synthesis_error"))
        except Exception as exc:  # noqa: BLE001 -- one request's bug must not stop the voice
            log.exception("synthesis failed")
            job.push(ApiError(500, f"Synthesis failed: {type(exc).__name__}: {exc}.",
                              "This is a bug; the server log has the details.", kind="server_error"))


def produce_audio(speak: Callable[[], Iterator[Any]], make_encoder: Callable[[], Any]
                  ) -> Callable[[], Iterator[bytes]]:
    """Pieces of audio -> encoded bytes (one chunk per piece, the container's tail last)."""

    def run() -> Iterator[bytes]:
        enc = make_encoder()
        for audio in speak():
            yield enc.feed(audio)
        yield enc.close()

    return run
