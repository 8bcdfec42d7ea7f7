"""GPT fine-tuning on the upstream 1A experiment folder. The request class lives in
``request`` (no torch); the step function ``run_gpt_training`` in ``trainer`` (torch)."""
