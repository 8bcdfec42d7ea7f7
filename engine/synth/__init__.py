"""The synthesize area (journey steps 9–11). Steps, each ``run_x(request, stop=None)``:

* ``engine.synth.step.run_synthesize(SynthRequest)`` — speak text into ``output/<name>.wav``
  (+ ``<name>.json``: the pinned request and its pieces, for re-rolling one piece).
* ``engine.synth.listen.run_listen_checkpoints(ListenCheckpointsRequest)`` — one test
  sentence per saved weight file into ``output/checkpoints/``.
* ``engine.synth.export.run_export(ExportRequest)`` — the take-home bundle.
* ``engine.synth.longtext.run_read(ReadRequest)`` — a long text as a resumable job into
  ``output/long/<name>/`` (a file per paragraph or chapter, and the joined file).
* ``engine.synth.refrank.run_try_refs(TryRefsRequest)`` — the best-ranked proofread clips
  each read one test sentence into ``output/references/``.

Each spoken piece may be back-checked (``backcheck``: ASR transcript vs text, duration per
phone) and re-rolled until it passes (``takes``); every take is listed in the sidecar.

Light modules (no torch; the TUI imports them): ``request``, ``reference`` (proofread clips
of 3–10 s), ``weights`` (weight files by epoch), ``split`` (upstream's cut methods),
``backcheck`` (scores, the ASR opener, the table).
Heavy ones: ``pipeline`` (reference prompt, per-piece GPT + SoVITS), ``voice`` (loading).
"""
