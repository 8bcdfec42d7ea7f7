"""G2PW inference: the polyphonic characters of one sentence -> one reading each.

Per sentence (a run of Han characters), as upstream GPT-SoVITS does it:
1. the sentence goes to Taiwan-standard traditional characters (G2PW's tables are
   traditional; OpenCC ``s2tw`` when installed, else zhconv, see ``to_traditional``);
2. each character that is polyphonic for G2PW (minus a fixed exception list) becomes one row
   of a batch; monophonic characters take MONOPHONIC_CHARS.txt's reading; every other
   character takes pypinyin's reading of the whole (simplified) sentence at that position;
3. all rows share the sentence's tokens (the exported model reads only the first row's
   input_ids), and differ in ``char_ids`` (the char's index in the sorted polyphonic chars),
   ``position_ids`` (its token index, counting [CLS]) and ``phoneme_mask`` (1 for the char's
   allowed classes when ``use_mask``);
4. the class with the highest score among the char's allowed ones wins; its bopomofo label
   (``ㄏㄤ2``) becomes pinyin with a tone digit (``hang2``) through the JSON table; a label
   the table lacks leaves the char to pypinyin's own reading of it alone.

Readings are returned in pypinyin's TONE3 spelling with 5 for the neutral tone (``lv4``).
"""
from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path

import numpy as np

from engine.text.g2pw.data import MODEL_FILE, G2PWData
from engine.text.g2pw.tokenizer import BertTokens

log = logging.getLogger(__name__)

MAX_TOKENS = 512  # BERT's limit, [CLS] and [SEP] included
INPUT_NAMES = ("input_ids", "token_type_ids", "attention_mask", "phoneme_mask", "char_ids",
               "position_ids")


@lru_cache(maxsize=1)
def _opencc():
    try:
        from opencc import OpenCC  # upstream's converter; optional here
    except ImportError:
        return None
    return OpenCC("s2tw")


def to_traditional(text: str) -> str:
    """Simplified -> traditional (Taiwan forms), one character for one character."""
    cc = _opencc()
    if cc is not None:
        out = cc.convert(text)
    else:
        from zhconv import convert

        # zh-hant picks characters with phrase context (干 -> 乾/幹); zh-tw per character
        # then gives the Taiwan variant (爲 -> 為) without zh-tw's word replacements.
        out = "".join(_tw_char(c) for c in convert(text, "zh-hant"))
    if len(out) != len(text):
        out = "".join(_tw_char(c) for c in text)
    return out


def _tw_char(c: str) -> str:
    from zhconv import convert

    t = convert(c, "zh-tw")
    return t if len(t) == 1 else c


def tone3(pinyin: str) -> str:
    """Any tone-digit spelling (lv4, lü4, lu:4, de5) -> pypinyin TONE3 with neutral 5."""
    from pypinyin.contrib.tone_convert import to_tone, to_tone3

    return to_tone3(to_tone(pinyin.replace("u:", "v")), neutral_tone_with_five=True)


class G2PWConverter:
    def __init__(self, data: G2PWData, tokenizer_path: Path, providers: list[str] | None = None):
        self.data = data
        self.tokenizer_path = Path(tokenizer_path)
        self.providers = providers or ["CPUExecutionProvider"]
        self._session = None
        self._tokens: BertTokens | None = None
        self._char_index = data.char_index

    # -- lazily built resources ---------------------------------------------------------
    @property
    def session(self):
        if self._session is None:
            import onnxruntime as ort

            opts = ort.SessionOptions()
            opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
            opts.log_severity_level = 3
            self._session = ort.InferenceSession(str(self.data.folder / MODEL_FILE),
                                                 sess_options=opts, providers=self.providers)
            log.info("G2PW model loaded from %s", self.data.folder)
        return self._session

    @property
    def tokens(self) -> BertTokens:
        if self._tokens is None:
            self._tokens = BertTokens(self.tokenizer_path)
        return self._tokens

    # -- model input ----------------------------------------------------------------------
    def feeds(self, text: str, queries: list[int]) -> list[tuple[list[int], dict[str, np.ndarray]]]:
        """Model inputs for the characters ``text[q]`` (``text`` in traditional characters),
        as (query rows, feed dict) groups. Rows share one token window; only a sentence over
        510 tokens needs more than one window (upstream would reuse the first row's)."""
        tokens, char_to_token, spans = self.tokens.encode(text)
        text = text.lower()
        n_labels = len(self.data.labels)
        groups: dict[tuple[int, int], list[int]] = {}
        for row, q in enumerate(queries):
            if char_to_token[q] is None:
                raise ValueError(f"no token for {text[q]!r} in {text!r}")
            groups.setdefault(self._window(len(tokens), char_to_token[q]), []).append(row)
        out = []
        for (start, end), rows in groups.items():
            ids = [self.tokens.cls] + self.tokens.ids(tokens[start:end]) + [self.tokens.sep]
            masks, char_ids, positions = [], [], []
            for row in rows:
                char = text[queries[row]]
                mask = np.zeros(n_labels, np.float32)
                if self.data.use_mask:
                    mask[self.data.char2labels[char]] = 1.0
                else:
                    mask[:] = 1.0
                masks.append(mask)
                char_ids.append(self._char_index[char])
                positions.append(char_to_token[queries[row]] - start + 1)  # +1: [CLS]
            n = len(rows)
            feed = {
                "input_ids": np.tile(np.asarray(ids, np.int64), (n, 1)),
                "token_type_ids": np.zeros((n, len(ids)), np.int64),
                "attention_mask": np.ones((n, len(ids)), np.int64),
                "phoneme_mask": np.stack(masks),
                "char_ids": np.asarray(char_ids, np.int64),
                "position_ids": np.asarray(positions, np.int64),
            }
            out.append((rows, feed))
        return out

    @staticmethod
    def _window(n_tokens: int, at: int) -> tuple[int, int]:
        keep = MAX_TOKENS - 2
        if n_tokens <= keep:
            return 0, n_tokens
        start = min(max(at - keep // 2, 0), n_tokens - keep)
        return start, start + keep

    # -- prediction -----------------------------------------------------------------------
    def predict(self, text: str, queries: list[int]) -> list[str]:
        """The winning bopomofo label for each ``text[q]``."""
        labels: list[str] = [""] * len(queries)
        if not queries:
            return labels
        wanted = {i.name for i in self.session.get_inputs()}
        for rows, feed in self.feeds(text, queries):
            scores = np.asarray(self.session.run(None, {k: v for k, v in feed.items()
                                                        if k in wanted})[0], np.float64)
            scores = np.where(feed["phoneme_mask"] > 0, scores, -np.inf)
            for row, best in zip(rows, scores.argmax(axis=1)):
                label = self.data.labels[int(best)]
                labels[row] = label.split(" ")[1] if self.data.use_char_phoneme else label
        return labels

    def bopomofo_to_pinyin(self, label: str) -> str | None:
        tone, syllable = label[-1:], label[:-1]
        if tone not in "12345" or not tone:
            return None
        pinyin = self.data.bopomofo_to_pinyin.get(syllable)
        return tone3(pinyin + tone) if pinyin else None

    def sentence(self, han: str) -> list[str]:
        """TONE3 readings, one per character of ``han`` (a run of Han characters in
        simplified form, as the normaliser leaves them)."""
        from pypinyin import Style, pinyin

        trad = to_traditional(han)
        fallback = pinyin(han, style=Style.TONE3, neutral_tone_with_five=True)
        if len(fallback) != len(han):  # rare chars without readings merge into one item
            fallback = [pinyin(c, style=Style.TONE3, neutral_tone_with_five=True)[0] for c in han]
        readings: list[str | None] = [None] * len(han)
        queries = []
        for i, c in enumerate(trad):
            if c in self.data.polyphonic:
                queries.append(i)
            elif c in self.data.monophonic:
                readings[i] = self.bopomofo_to_pinyin(self.data.monophonic[c])
            else:
                readings[i] = fallback[i][0]
        for i, label in zip(queries, self.predict(trad, queries)):
            readings[i] = self.bopomofo_to_pinyin(label)
        out = []
        for c, r in zip(han, readings):
            if r is None:  # G2PW could not spell it: pypinyin's reading of the char alone
                r = pinyin(c, style=Style.TONE3, neutral_tone_with_five=True)[0][0]
            out.append(tone3(r) if r[:1].isascii() and r[:1].isalpha() else r)
        return out
