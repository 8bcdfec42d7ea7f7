"""BERT word-piece tokens for G2PW's input, with the map from characters to tokens.

G2PW was trained on Google's Chinese BERT vocabulary; upstream GPT-SoVITS feeds it the
``chinese-roberta-wwm-ext-large`` tokenizer (same vocabulary). The text is lower-cased and cut
into "words": runs of ASCII letters/digits, or single other characters; spaces are dropped
(they map to no token). Each word is word-pieced; a word that yields nothing or only [UNK]
becomes one [UNK]. The sequence fed to the model is [CLS] tokens [SEP].
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

_WORD = re.compile(r" +|[a-zA-Z0-9]+|.", re.S)
TOKENIZER_FILES = ("tokenizer.json", "vocab.txt")


def tokenizer_file(folder: Path | None) -> Path | None:
    """``tokenizer.json`` (preferred) or ``vocab.txt`` in ``folder``, if either is there."""
    if folder is None:
        return None
    for name in TOKENIZER_FILES:
        if (Path(folder) / name).is_file():
            return Path(folder) / name
    return None


@dataclass
class Tokenized:
    ids: list[int]  # with [CLS] and [SEP]
    char_to_token: list[int | None]  # per character of the text: its token's index in ids


class BertTokens:
    def __init__(self, path: Path):
        from tokenizers import Tokenizer

        path = Path(path)
        if path.name == "vocab.txt":
            from tokenizers.implementations import BertWordPieceTokenizer

            self._tok = BertWordPieceTokenizer(str(path), lowercase=True)
        else:
            self._tok = Tokenizer.from_file(str(path))
        self._tok.no_truncation()
        self._tok.no_padding()
        self.path = path
        self.unk = self._id("[UNK]")
        self.cls = self._id("[CLS]")
        self.sep = self._id("[SEP]")

    def _id(self, token: str) -> int:
        i = self._tok.token_to_id(token)
        if i is None:
            raise ValueError(f"{self.path} has no {token} token; G2PW needs a BERT vocabulary")
        return i

    def pieces(self, word: str) -> list[str]:
        return self._tok.encode(word, add_special_tokens=False).tokens

    def encode(self, text: str) -> tuple[list[str], list[int | None], list[tuple[int, int]]]:
        """Tokens (no specials), char -> token index, token -> (start, end) char span."""
        text = text.lower()
        tokens: list[str] = []
        char_to_token: list[int | None] = [None] * len(text)
        spans: list[tuple[int, int]] = []
        for m in _WORD.finditer(text):
            word, start = m.group(), m.start()
            if word.startswith(" "):
                continue
            pieces = self.pieces(word)
            if not pieces or pieces == ["[UNK]"]:
                pieces, lengths = ["[UNK]"], [len(word)]
            else:
                lengths = [len(p[2:] if p.startswith("##") else p) for p in pieces]
            for piece, n in zip(pieces, lengths):
                spans.append((start, start + n))
                for k in range(start, min(start + n, len(text))):
                    char_to_token[k] = len(tokens)
                tokens.append(piece)
                start += n
        return tokens, char_to_token, spans

    def ids(self, tokens: list[str]) -> list[int]:
        out = []
        for t in tokens:
            i = self._tok.token_to_id(t)
            out.append(self.unk if i is None else i)
        return out
