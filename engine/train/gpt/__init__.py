"""GPT fine-tuning on the upstream 1A experiment folder. The request class lives in
``request`` (no torch); the step function ``run_gpt_training`` in ``trainer`` (torch).

Decisions on upstream's oddities (spec §10.7, §6.2), each explained where it is made:

* Phoneme padding mask: upstream masks as if phonemes were left-padded while its collate
  pads them on the right, so shorter rows see pads and lose real phonemes. We mask the real
  padding, predict each row's first code from its own last phoneme, and leave padded code
  positions out of the loss (``Text2Semantic.forward_train``; ``upstream_mask=True``
  reproduces upstream for the parity test). Identical for a batch of one.
* Learning rate: upstream's schedule is pinned at 0.002, so ours is a constant 0.002
  relative step (ScaledAdam's meaning of lr; ``optim.ScaledAdamLite``).
* ``gradient_clip`` from the YAML is unused upstream and here; ScaledAdam's median-norm
  clipping (2x) is kept.
* Gradient accumulation: upstream steps when ``batch_idx % 4 == 0`` (first step after five
  batches, leftovers carried across epochs); we step every ``accumulate`` batches and at
  each epoch end, so saved states never hold half-accumulated gradients.
* DPO rejected readings: upstream always repeats a span (``randint(0, 1)``) and works on
  padded rows; we repeat or delete a span 50/50 on the real codes (``losses``).
* Dropout 0.1 in positions, attention and FFN during training, as upstream (the config's
  ``dropout: 0`` only covers the token embeddings).
"""
