"""Set-up helper: put the NLTK data English G2P needs into <app data>/nltk_data, once.

Taken from a local copy when one is beside the checkout (../shared/data/nltk_data, as on the
project's CI machines), otherwise downloaded with nltk's own downloader. Nothing is fetched at
run time afterwards (engine/text/english.py only looks)."""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

from engine.appconfig import data_dir

NEEDS = ("taggers/averaged_perceptron_tagger.zip", "taggers/averaged_perceptron_tagger_eng",
         "corpora/cmudict.zip")
PACKAGES = ("averaged_perceptron_tagger", "averaged_perceptron_tagger_eng", "cmudict")


def main() -> int:
    dest = data_dir() / "nltk_data"
    if all((dest / n).exists() for n in NEEDS):
        return 0
    local = Path(__file__).resolve().parents[2] / "shared" / "data" / "nltk_data"
    if all((local / n).exists() for n in NEEDS):
        for n in NEEDS:
            src, out = local / n, dest / n
            out.parent.mkdir(parents=True, exist_ok=True)
            if src.is_dir():
                shutil.copytree(src, out, dirs_exist_ok=True)
            else:
                shutil.copy2(src, out)
        print(f"setup: NLTK data copied to {dest}")
        return 0
    import nltk

    ok = all(nltk.download(p, download_dir=str(dest), quiet=True) for p in PACKAGES)
    if not ok:
        print(f"setup: could not download NLTK data; English text will ask for it "
              f"(python -m nltk.downloader -d {dest} {' '.join(PACKAGES)})", file=sys.stderr)
    return 0  # never fail set-up over it: only English text needs it, and it says so


if __name__ == "__main__":
    sys.exit(main())
