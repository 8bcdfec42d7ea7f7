"""The phoneme tables (v1: 322 symbols, v2: 732), stored as data files in upstream's exact
order, because a phone id is its position in the table and the models' embeddings are
indexed by it."""
from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources

VERSIONS = ("v1", "v2")
UNK = "UNK"


def _table_version(version: str) -> str:
    # Every model version after v1 (v2, v2Pro, v2ProPlus, v3, v4) uses the v2 table.
    return "v1" if version == "v1" else "v2"


@lru_cache(maxsize=None)
def symbols(version: str = "v2") -> tuple[str, ...]:
    name = f"symbols_{_table_version(version)}.json"
    text = resources.files("engine.text").joinpath("data", name).read_text(encoding="utf-8")
    return tuple(json.loads(text))


@lru_cache(maxsize=None)
def symbol_to_id(version: str = "v2") -> dict[str, int]:
    return {s: i for i, s in enumerate(symbols(version))}


def cleaned_text_to_sequence(phones: list[str], version: str = "v2") -> list[int]:
    """Phone ids; a phone missing from the table (never produced by clean_text) raises."""
    table = symbol_to_id(version)
    try:
        return [table[p] for p in phones]
    except KeyError as exc:
        raise ValueError(f"phone {exc.args[0]!r} is not in the {version} symbol table") from None
