"""Text frontend: agreement with upstream on the public fixture set, start-up cost and
throughput per language. Usage: .venv/bin/python -m bench format_text"""
from __future__ import annotations

import json
import os
import platform
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
FIXTURES = REPO / "tests" / "fixtures"
os.environ.setdefault("OPEN_JTALK_DICT_DIR", "/var/lib/mecab/dic/open-jtalk/naist-jdic")

RESULTS = REPO / "bench" / "results" / "format.md"


def measure() -> list[dict]:
    from engine.text import clean_text, cleaned_text_to_sequence

    rows = [json.loads(line) for line in
            (FIXTURES / "text/frontend_v2_public.jsonl").read_text().splitlines()]
    out = []
    for lang in ("zh", "en", "ja"):
        cases = [r for r in rows if r["lang"] == lang]
        t0 = time.perf_counter()
        clean_text(cases[0]["text"], lang, "v2")
        first = time.perf_counter() - t0
        ok = 0
        t0 = time.perf_counter()
        for _ in range(3):
            for r in cases:
                got = clean_text(r["text"], lang, "v2")
                ok += (got.phones == r["phones"] and got.norm_text == r["norm_text"]
                       and got.word2ph == r["word2ph"]
                       and cleaned_text_to_sequence(got.phones) == r["phone_ids"])
        per = (time.perf_counter() - t0) / (3 * len(cases))
        out.append({"lang": lang, "agree": ok // 3, "n": len(cases), "first_s": first,
                    "ms_per_sentence": per * 1000})
    return out


def main() -> None:
    res = measure()
    lines = ["## Text frontend (clean_text) vs upstream", "",
             f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python "
             f"{platform.python_version()}, load average {os.getloadavg()[0]:.1f}; "
             "`python -m bench format_text`; public set "
             "`tests/fixtures/text/frontend_v2_public.jsonl` (zh via pypinyin, as the fixtures).",
             "", "| Language | Agreement (norm text + phones + word2ph + ids) | First call (loads data) "
             "| Per sentence after |", "|---|---|---|---|"]
    for r in res:
        lines.append(f"| {r['lang']} | **{r['agree']}/{r['n']}** | {r['first_s']:.1f} s "
                     f"| {r['ms_per_sentence']:.1f} ms |")
    text = "\n".join(lines) + "\n"
    print(text)
    _record(text, "## Text frontend")


def _record(section: str, heading: str) -> None:
    old = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# Format (1A) benchmarks\n\n"
    parts = old.split("\n## ")
    kept = [parts[0].rstrip("\n")] + ["## " + p.rstrip("\n") for p in parts[1:]
                                       if not ("## " + p).startswith(heading)]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n\n".join(kept + [section.rstrip("\n")]) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
