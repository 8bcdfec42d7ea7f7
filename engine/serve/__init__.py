"""``gsv serve``: the trained voice over HTTP on this machine (loopback unless told
otherwise), behind a bearer token. Two dialects share one synthesis path: OpenAI's
``POST /v1/audio/speech`` and upstream api_v2's ``/tts``.

config  the server's settings and the loopback rule     auth    the 0600 token file
params  request bodies -> one typed SpeechJob           encode  wav/flac/mp3/opus/aac/pcm
voices  the served voices and their references          worker  one bounded queue per voice
app     the Starlette routes                            server  binding and uvicorn

Only ``server`` and ``app`` import the web stack (the ``serve`` extra), inside functions."""
