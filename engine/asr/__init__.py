"""Speech recognition: one backend interface (``backend``), faster-whisper (``whisper``,
clips packed into 30 s windows and decoded in batches) and FunASR (``funasr_backend``),
the model catalogue and per-language recommendation (``models``), the per-clip records that
double as the cache (``records``), and the step ``step.run_asr(AsrRequest)``.

Nothing here imports faster_whisper, ctranslate2, funasr or torch at module level."""
