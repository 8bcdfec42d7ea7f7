"""Both dialects against one real ``gsv serve`` process (127.0.0.1, a free port, queue of 1):
audio that decodes, streaming that starts before the text is spoken, the token, input
limits, a flood of concurrent requests. Synthesis is held at "gate" pieces (see
serve_child.py) so every timing claim is synchronised, never slept on."""
from __future__ import annotations

import http.client
import io
import json
import threading
import time

import av
import numpy as np
import pytest
import soundfile as sf

from tests.engine.serve.conftest import start
from tests.engine.synth.voicekit import EN_REF

PAUSE_BYTES = 2 * int(0.3 * 32000)  # the silence after each piece, 16-bit


@pytest.fixture(scope="module")
def server(served_home, tmp_path_factory):
    project, bundle, home = served_home
    srv = start(project, home, tmp_path_factory.mktemp("gates"), "--bundle", str(bundle),
                "--max-chars", "300", "--queue", "1")
    yield srv
    assert srv.stop() in (0, -15), srv.output()  # uvicorn re-raises the SIGTERM it handled
    assert "Traceback" not in srv.output(), srv.output()


def decoded(data: bytes) -> tuple[int, int]:
    """(samples, rate) of an encoded file, read by FFmpeg."""
    with av.open(io.BytesIO(data)) as box:
        frames = list(box.decode(audio=0))
        return sum(f.samples for f in frames), frames[0].sample_rate


def error_of(code: int, body: bytes) -> str:
    doc = json.loads(body)
    assert doc["error"]["code"] == code and doc["message"] == doc["error"]["message"]
    assert doc["message"].endswith("."), doc  # a sentence
    return doc["message"]


def test_openai_speech_each_format_decodes(server):
    for fmt in ("wav", "mp3", "opus", "flac", "aac"):
        code, headers, body = server.request("POST", "/v1/audio/speech", {
            "model": "tts-1", "input": "Hello there. How are you?", "voice": "alloy",
            "response_format": fmt})
        assert code == 200, body[:300]
        samples, rate = decoded(body)
        assert samples > 0.3 * rate, fmt  # at least the pause after the piece
        assert rate == (48000 if fmt == "opus" else 32000)
        assert headers["x-gsv-voice"] == "voice"
    code, headers, body = server.request("POST", "/v1/audio/speech", {
        "model": "tts-1", "input": "Hello there.", "voice": "alloy", "response_format": "pcm"})
    assert code == 200 and headers["content-type"].startswith("audio/L16; rate=24000")
    assert len(body) % 2 == 0 and len(body) // 2 > 0.3 * 24000
    code, _, body = server.request("GET", "/v1/models")
    assert code == 200 and [m["id"] for m in json.loads(body)["data"]] == ["voice", "voice-2"]


def test_voice_or_model_picks_a_served_voice(server):
    """The bundle (same name as the project: "voice-2") by voice or model; OpenAI's own
    names fall back to the first voice (front ends send them unchanged)."""
    for body, spoke in (({"voice": "voice-2"}, "voice-2"), ({"model": "voice-2"}, "voice-2"),
                        ({"voice": "alloy", "model": "tts-1"}, "voice"), ({}, "voice")):
        code, headers, audio = server.request("POST", "/v1/audio/speech", {
            "input": "Hello there.", "response_format": "wav", **body})
        assert code == 200 and headers["x-gsv-voice"] == spoke, body
        assert len(sf.read(io.BytesIO(audio))[0]) > 0
    # The bundle's reference is Chinese (BERT loaded at start-up), its text may be too.
    code, headers, audio = server.request("POST", "/tts", {
        "voice": "voice-2", "text": "你好，世界！", "text_lang": "zh"})
    assert code == 200 and headers["x-gsv-voice"] == "voice-2"
    assert len(sf.read(io.BytesIO(audio))[0]) > 0


def test_tts_get_and_post_wav_decodes(server):
    code, headers, body = server.request("POST", "/tts", {
        "text": "Good morning. This is a test.", "text_lang": "en", "ref_audio_path": EN_REF[0],
        "prompt_text": EN_REF[2], "prompt_lang": "en", "top_k": 5, "top_p": 1,
        "temperature": 1, "text_split_method": "cut5", "speed_factor": 1.0, "seed": 3,
        "media_type": "wav", "streaming_mode": False, "batch_size": 1})
    assert code == 200, body[:300]
    audio, sr = sf.read(io.BytesIO(body), dtype="float32")
    assert sr == 32000 and len(audio) > 2 * 0.3 * sr  # two pieces, each with its pause
    assert headers["content-length"] == str(len(body))
    # Same seed, same speech: GET with the parameters in the query (upstream's GET /tts).
    code, _, again = server.request(
        "GET", "/tts?text=Good%20morning.%20This%20is%20a%20test.&text_lang=en&ref_audio_path="
        f"{EN_REF[0]}&prompt_text={EN_REF[2].replace(' ', '%20')}&prompt_lang=en&top_k=5"
        "&text_split_method=cut5&seed=3")
    assert code == 200 and np.array_equal(sf.read(io.BytesIO(again), dtype="float32")[0], audio)


def _stream(server, path: str, body: dict, gate: int) -> None:
    """The first piece arrives while the second is held at its gate; then the rest."""
    conn = server.connect(timeout=60)
    conn.request("POST", path, json.dumps(body), {"Authorization": f"Bearer {server.token}",
                                                  "Content-Type": "application/json"})
    resp = conn.getresponse()
    assert resp.status == 200 and resp.getheader("transfer-encoding") == "chunked"
    first = b""
    while len(first) < 44 + PAUSE_BYTES:  # header + at least the first piece's pause
        part = resp.read1(1 << 20)
        assert part, "the stream ended before its first piece"
        first += part
    # Synthesis is held before the second piece: the text is not done, the audio flows.
    server.gate_reached(gate)
    assert not (server.gates / f"open-{gate}").exists()
    server.open_gate(gate)
    data = first + resp.read()
    conn.close()
    audio, sr = sf.read(io.BytesIO(data), dtype="int16")  # header says "unknown length"
    assert sr == 32000 and len(audio) * 2 >= len(first) - 44 + PAUSE_BYTES
    assert data.startswith(first)


def test_streaming_yields_the_first_piece_before_the_text_is_done(server):
    text = "The first piece is short. Then gate1 holds the rest of it."
    _stream(server, "/tts", {"text": text, "text_lang": "en", "text_split_method": "cut5",
                             "streaming_mode": True, "seed": 1}, gate=1)
    # OpenAI's dialect has no cut setting: the voice's own (cut1, four sentences a piece).
    text = "One. Two. Three. Four. Then gate2 holds five. Six. Seven. Eight. Nine."
    _stream(server, "/v1/audio/speech", {"model": "tts-1", "input": text, "voice": "alloy",
                                         "response_format": "wav"}, gate=2)


def test_missing_or_wrong_token_is_401(server):
    for token in (None, "not-the-token", server.token + "x"):
        code, headers, body = server.request("POST", "/v1/audio/speech",
                                             {"input": "Hello.", "voice": "alloy"}, token=token)
        assert code == 401 and headers["www-authenticate"] == "Bearer"
        assert "token" in error_of(401, body)
        code, _, body = server.request("GET", "/tts?text=Hello", token=token)
        assert code == 401
    assert server.request("GET", "/status", token=None)[0] == 401
    assert server.request("GET", "/health", token=None)[0] == 200  # says nothing but "ok"


def test_input_limits_are_sentences(server):
    code, _, body = server.request("POST", "/tts", {"text": "word " * 100, "text_lang": "en"})
    assert code == 413 and "500 characters long" in error_of(413, body)
    assert "at most 300" in error_of(413, body)
    code, _, body = server.request("POST", "/v1/audio/speech", {"input": "x" * 301})
    assert code == 413
    code, _, body = server.request("POST", "/tts", {"text": "Hi.", "prompt_text": "x" * 301})
    assert code == 413 and "prompt_text" in error_of(413, body)
    code, _, body = server.request("POST", "/v1/audio/speech", {"input": "x" * 400_000})
    assert code == 413 and "request body" in error_of(413, body)
    cases = [  # (body, status, words the sentence must hold)
        ({"text": "Hi there.", "top_k": 500}, 422, "top_k"),
        ({"text": "Hi there.", "speed_factor": "fast"}, 422, "speed_factor"),
        ({"text": "Hi there.", "text_lang": "ko"}, 422, "text_lang"),
        ({"text": "Hi there.", "text_split_method": "cut9"}, 422, "text_split_method"),
        ({"text": "Hi there.", "media_type": "mkv"}, 400, "media_type"),
        ({"text": "   "}, 422, "no text"),
        ({"text": "Hi there.", "ref_audio_path": "/etc/passwd.wav"}, 403, "outside"),
        ({"text": "Hi there.", "ref_audio_path": "project.toml"}, 415, "not an audio file"),
        ({"text": "Hi there.", "ref_audio_path": "audio/slices/short.wav", "prompt_text": "Hi."},
         422, "3 to 10 s"),
        ({"text": "?!."}, 422, "text"),
    ]
    for body, status, words in cases:
        code, _, answer = server.request("POST", "/tts", body)
        assert code == status, (body, answer)
        assert words in error_of(status, answer), (body, answer)
    code, _, answer = server.request("POST", "/v1/audio/speech", {"input": "Hi.", "speed": 3.0})
    assert code == 422 and "speed" in error_of(422, answer)
    conn = server.connect()
    conn.request("POST", "/tts", "{not json", {"Authorization": f"Bearer {server.token}"})
    resp = conn.getresponse()
    assert resp.status == 400 and "not JSON" in error_of(400, resp.read())
    code, _, answer = server.request("GET", "/nowhere")
    assert code == 404 and "/nowhere" in error_of(404, answer)


def test_a_flood_gets_429_and_the_server_keeps_serving(server):
    answers: dict[str, tuple] = {}

    def call(key: str, path: str, body: dict) -> None:
        answers[key] = server.request("POST", path, body, timeout=120)

    held = threading.Thread(target=call, args=("held", "/tts", {
        "text": "This gate3 piece holds the voice.", "text_lang": "en"}))
    held.start()
    server.gate_reached(3)  # the voice is busy speaking
    waiting = threading.Thread(target=call, args=("waiting", "/tts", {"text": "My turn next."}))
    waiting.start()
    end = time.monotonic() + 60
    while server.status()["voices"]["voice"]["waiting"] != 1:  # its queue (of 1) is full
        assert time.monotonic() < end
    barrier = threading.Barrier(16)

    def flood(i: int) -> None:
        barrier.wait()
        if i % 4 == 3:  # some clients hang up without reading
            conn = server.connect()
            conn.request("POST", "/v1/audio/speech", json.dumps({"input": "Hello."}),
                         {"Authorization": f"Bearer {server.token}"})
            conn.close()
            return
        call(f"flood{i}", "/v1/audio/speech" if i % 2 else "/tts",
             {"input": "Hello.", "text": "Hello."})

    floods = [threading.Thread(target=flood, args=(i,)) for i in range(16)]
    for t in floods:
        t.start()
    for t in floods:
        t.join(120)
    flooded = [v for k, v in answers.items() if k.startswith("flood")]
    assert len(flooded) == 12 and all(code == 429 for code, _, _ in flooded), flooded
    assert "busy" in error_of(429, flooded[0][2])
    # Queues are per voice: the other voice speaks while this one is held and full.
    code, headers, body = server.request("POST", "/tts", {"text": "Hello.", "voice": "voice-2"})
    assert code == 200 and headers["x-gsv-voice"] == "voice-2"
    assert not (server.gates / "open-3").exists()
    server.open_gate(3)
    held.join(120)
    waiting.join(120)
    for key in ("held", "waiting"):
        code, _, body = answers[key]
        assert code == 200, body[:300]
        assert len(sf.read(io.BytesIO(body))[0]) > 0
    assert server.proc.poll() is None
    code, _, body = server.request("POST", "/tts", {"text": "Still here."})
    assert code == 200 and len(sf.read(io.BytesIO(body))[0]) > 0


def test_a_client_leaving_mid_stream_does_not_hurt_the_server(server):
    conn = server.connect(timeout=60)
    conn.request("POST", "/tts", json.dumps({"text": "First piece here. Then gate4 waits. Last.",
                                             "text_split_method": "cut5", "streaming_mode": 1}),
                 {"Authorization": f"Bearer {server.token}"})
    resp = conn.getresponse()
    assert resp.status == 200 and resp.read1(1 << 16)
    server.gate_reached(4)
    conn.close()  # gone before the rest is spoken
    server.open_gate(4)
    code, _, body = server.request("POST", "/tts", {"text": "Next one.", "media_type": "mp3"})
    assert code == 200 and decoded(body)[0] > 0
    assert server.proc.poll() is None
