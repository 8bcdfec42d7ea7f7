"""The format step (upstream's 1A): transcript -> upstream's experiment folder."""
from engine.dataset.format.request import FormatRequest
from engine.dataset.format.step import run_format

__all__ = ["FormatRequest", "run_format"]
