"""Our text frontend against upstream GPT-SoVITS's own output on the public sentence set
(tests/fixtures/text/frontend_v2_public.jsonl): normalised text, phones, word2ph and ids,
every sentence (English with the shipped upstream dictionaries: 54/54)."""
from __future__ import annotations

import json

import pytest

from engine.text import clean_text, cleaned_text_to_sequence
from engine.text.chinese import PINYIN_BACKEND
from tests.helpers.fixtures import TEXT


def _cases(lang):
    path = TEXT / "frontend_v2_public.jsonl"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    return [r for r in rows if r["lang"] == lang]


def _agree(row) -> bool:
    got = clean_text(row["text"], row["lang"], "v2")
    return (got.norm_text == row["norm_text"] and got.phones == row["phones"]
            and got.word2ph == row["word2ph"]
            and cleaned_text_to_sequence(got.phones, "v2") == row["phone_ids"])


@pytest.mark.parametrize("lang", ["zh", "en", "ja"])
def test_agreement_with_upstream(lang, capsys):
    rows = _cases(lang)
    failed = [r["id"] for r in rows if not _agree(r)]
    with capsys.disabled():
        print(f"\n[{lang}] agreement with upstream: {len(rows) - len(failed)}/{len(rows)}"
              + (f" (pinyin backend: {PINYIN_BACKEND})" if lang == "zh" else ""))
    assert not failed, f"{lang}: differ from upstream on {failed}"
