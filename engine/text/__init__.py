"""Text frontend: per-language normalisation and G2P to upstream's phone tables."""
from engine.text.cleaner import LANGUAGES, Cleaned, clean_text
from engine.text.symbols import cleaned_text_to_sequence, symbols

__all__ = ["LANGUAGES", "Cleaned", "clean_text", "cleaned_text_to_sequence", "symbols"]
