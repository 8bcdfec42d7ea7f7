"""The HTTP routes (Starlette): the OpenAI dialect, upstream api_v2's ``/tts``, and two
small status routes. Every answer that is not audio is JSON with a sentence
(:class:`~engine.serve.params.ApiError`); every route but ``/health`` wants the token.

A request is checked whole (size, JSON, values, voice) before it is queued, and the answer
waits for the first piece before it starts: an error in the first piece is still a JSON
error with its status; after that, a streamed answer can only end early (and does, on a
timeout or when the client goes away)."""
from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from typing import Any

from engine.serve import encode
from engine.serve.params import ApiError, SpeechJob, openai_job, v2_job
from engine.serve.worker import Busy, Chunk, End, Job, VoiceQueue, produce_audio

log = logging.getLogger("gsv.serve")
_PICK = "serve each voice's exported bundle with --bundle and pick it with voice"
NOT_HERE = {"/control": "restart gsv serve instead",
            "/set_refer_audio": "send ref_audio_path and prompt_text with each /tts request",
            "/set_gpt_weights": _PICK, "/set_sovits_weights": _PICK}


@dataclass
class Served:
    voice: Any  # engine.serve.voices.LoadedVoice (or anything with name, speak(job), rate)
    queue: VoiceQueue


class Service:
    """What the routes share: the voices and their queues, the token, the limits."""

    def __init__(self, voices: list[Any], token: Any, cfg: Any) -> None:
        self.voices = {v.name: Served(v, VoiceQueue(v.name, cfg.queue_size)) for v in voices}
        self.token, self.cfg = token, cfg

    def pick(self, voice: str, model: str = "") -> Served:
        """``voice`` (or OpenAI's ``model``) names a served voice; any other name (OpenAI's
        alloy, tts-1, … that front ends send unchanged) or none means the first voice. The
        answer's X-GSV-Voice header says which one spoke."""
        for name in (voice, model):
            if name and name in self.voices:
                return self.voices[name]
        return next(iter(self.voices.values()))

    def check_token(self, request: Any) -> None:
        if not self.token.accepts(request.headers.get("authorization")):
            raise ApiError(401, "Missing or wrong token.",
                           f"Send the header 'Authorization: Bearer <token>' with the token in "
                           f"{self.token.path} on the server.", kind="authentication_error")

    def stop(self) -> None:
        for s in self.voices.values():
            s.queue.stop()


async def read_json(request: Any, limit: int) -> dict:
    size = request.headers.get("content-length")
    if size and size.isdigit() and int(size) > limit:
        raise _too_big(int(size), limit)
    body = bytearray()
    async for part in request.stream():
        body += part
        if len(body) > limit:
            raise _too_big(len(body), limit)
    try:
        doc = json.loads(body or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "The request body is not JSON.",
                       "Send a JSON object with Content-Type: application/json.")
    if not isinstance(doc, dict):
        raise ApiError(400, "The request body must be a JSON object.", 'Send {"input": "…", …}.')
    return doc


def _too_big(n: int, limit: int) -> ApiError:
    return ApiError(413, f"The request body is {n} bytes; this server takes at most {limit}.",
                    "Send shorter text.", kind="body_too_large")


def error_response(exc: ApiError) -> Any:
    from starlette.responses import JSONResponse

    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
    return JSONResponse(exc.body(), status_code=exc.status, headers=headers)


async def speak(service: Service, job_spec: SpeechJob) -> Any:
    """Queue the job on its voice and answer with its audio (streamed or whole)."""
    from starlette.responses import Response, StreamingResponse

    served = service.pick(job_spec.voice, job_spec.model)
    rate = encode.out_rate(job_spec.fmt, served.voice.rate, job_spec.rate)
    def make() -> encode.Encoder:
        return encode.encoder(job_spec.fmt, served.voice.rate, rate, job_spec.stream)

    job = Job(produce_audio(lambda: served.voice.speak(job_spec), make), service.cfg.timeout_s,
              asyncio.get_running_loop())
    try:
        served.queue.submit(job)
    except Busy:
        raise ApiError(429, f"The voice {served.voice.name} is busy: {served.queue.size} "
                            "request(s) are already waiting.",
                       "Try again in a moment.", kind="queue_full") from None
    headers = {"X-GSV-Voice": served.voice.name}
    first = await job.next()
    if isinstance(first, ApiError):
        job.cancel()
        raise first
    media = encode.media_type(job_spec.fmt, rate)
    if not job_spec.stream:
        parts = [first.data] if isinstance(first, Chunk) else []
        while not isinstance(first, End):
            first = await job.next()
            if isinstance(first, ApiError):
                raise first
            if isinstance(first, Chunk):
                parts.append(first.data)
        return Response(b"".join(parts), media_type=media, headers=headers)

    async def body():
        try:
            item = first
            while isinstance(item, Chunk):
                yield item.data
                item = await job.next()
            if isinstance(item, ApiError):  # headers are sent: all we can do is end early
                log.warning("stream of %s ended early: %s", served.voice.name, item.message)
        finally:
            job.cancel()  # the client left, or we are done: either way stop speaking

    return StreamingResponse(body(), media_type=media, headers=headers)


def build_app(service: Service) -> Any:
    from starlette.applications import Starlette
    from starlette.exceptions import HTTPException
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    cfg = service.cfg

    async def health(request: Request) -> Any:
        return JSONResponse({"status": "ok"})

    async def status(request: Request) -> Any:
        service.check_token(request)
        return JSONResponse({"voices": {
            name: {"waiting": s.queue.waiting(), "busy": s.queue.running is not None,
                   "queue_size": s.queue.size, "served": s.queue.served}
            for name, s in service.voices.items()}})

    async def models(request: Request) -> Any:
        service.check_token(request)
        return JSONResponse({"object": "list", "data": [
            {"id": name, "object": "model", "created": 0, "owned_by": "gsv-tui"}
            for name in service.voices]})

    async def openai_speech(request: Request) -> Any:
        service.check_token(request)
        return await speak(service, openai_job(await read_json(request, cfg.max_body_bytes),
                                               cfg.max_chars))

    async def tts(request: Request) -> Any:
        service.check_token(request)
        if request.method == "GET":
            if len(str(request.url)) > cfg.max_body_bytes:
                raise _too_big(len(str(request.url)), cfg.max_body_bytes)
            body: dict = dict(request.query_params)
        else:
            body = await read_json(request, cfg.max_body_bytes)
        return await speak(service, v2_job(body, cfg.max_chars))

    async def not_here(request: Request) -> Any:
        service.check_token(request)
        raise ApiError(501, f"{request.url.path} is not offered by gsv serve.",
                       NOT_HERE[request.url.path].capitalize() + ".", kind="not_implemented")

    async def on_api_error(request: Request, exc: ApiError) -> Any:
        return error_response(exc)

    async def on_http(request: Request, exc: HTTPException) -> Any:
        sentence = {404: f"There is no {request.url.path} here.",
                    405: f"{request.url.path} does not take {request.method}."}.get(
            exc.status_code, str(exc.detail))
        return error_response(ApiError(exc.status_code, sentence,
                                       "Use POST /v1/audio/speech or GET/POST /tts."))

    async def on_error(request: Request, exc: Exception) -> Any:
        log.exception("request failed")
        return error_response(ApiError(500, f"The server failed: {type(exc).__name__}: {exc}.",
                                       "This is a bug; the server log has the details.",
                                       kind="server_error"))

    routes = [Route("/health", health), Route("/status", status), Route("/v1/models", models),
              Route("/v1/audio/speech", openai_speech, methods=["POST"]),
              Route("/tts", tts, methods=["GET", "POST"])]
    routes += [Route(path, not_here, methods=["GET", "POST"]) for path in NOT_HERE]
    return Starlette(routes=routes, exception_handlers={
        ApiError: on_api_error, HTTPException: on_http, Exception: on_error})
