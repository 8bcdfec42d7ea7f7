"""The synthesize area (journey steps 9–11). Steps, each ``run_x(request, stop=None)``:

* ``engine.synth.step.run_synthesize(SynthRequest)`` — speak text into ``output/<name>.wav``
  (+ ``<name>.json``: the pinned request and its pieces, for re-rolling one piece).
* ``engine.synth.listen.run_listen_checkpoints(ListenCheckpointsRequest)`` — one test
  sentence per saved weight file into ``output/checkpoints/``.
* ``engine.synth.export.run_export(ExportRequest)`` — the take-home bundle.

Light modules (no torch; the TUI imports them): ``request``, ``reference`` (proofread clips
of 3–10 s), ``weights`` (weight files by epoch), ``split`` (upstream's cut methods).
Heavy ones: ``pipeline`` (reference prompt, per-piece GPT + SoVITS), ``voice`` (loading).
"""
