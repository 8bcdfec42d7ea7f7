"""Audio preparation: the import, denoise and slice steps, and what they are built from.

- ``decode``: streaming decode (soundfile; PyAV for m4a/aac/opus/video), one-line reasons
- ``report``, ``loudness``: per-file numbers (BS.1770 loudness, peak, clipping, silence)
- ``import_step``: recordings → audio/raw WAV copies + report.json
- ``spectral_gate``, ``mdx``, ``stft``: built-in denoiser, MDX-Net ONNX separation, streaming
- ``denoise_step``: audio/raw → audio/clean
- ``slicer``, ``samplefile``, ``clipstats``, ``gpu_hint``: upstream's slicer, vectorised,
  with a maximum clip length; ``slice_step``: → audio/slices + manifest.json
- ``playback/``: another area (listening to clips)
"""
