"""GPT text-to-semantic model (upstream ``Text2SemanticDecoder``-compatible), decoding and
weight files. Imports torch: never import this package at module level from ``gsv_tui``."""
from engine.models.gpt.batch import BatchResult, decode_batch
from engine.models.gpt.config import GptConfig, upstream_config
from engine.models.gpt.decode import DecodeOptions, DecodeResult, decode
from engine.models.gpt.model import KVCache, Text2Semantic
from engine.models.gpt.sampling import Sampling
from engine.models.gpt.weights import GptWeights, export_gpt, load_gpt, weights_name

__all__ = ["BatchResult", "decode_batch", "GptConfig", "upstream_config", "DecodeOptions", "DecodeResult", "decode", "KVCache",
           "Text2Semantic", "Sampling", "GptWeights", "export_gpt", "load_gpt", "weights_name"]
