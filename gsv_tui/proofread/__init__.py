"""The proofreading editor: a Screen usable standalone (``gsv proofread``) or pushed by the
wizard. ``ProofreadScreen(session)`` is the entry point."""
