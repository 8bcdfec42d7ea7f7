"""`gsv models` lists the separation model files with family, source and licence; the
fetchable ones land in <models>/uvr5/ where Clean and its presets look; a file we cannot
fetch is refused with where to get it. (No test touches the network.)"""
from __future__ import annotations

from engine.audio.separation import presets
from engine.audio.separation.catalog import SEPARATION
from engine.audio.separation.chain import uvr_dir
from engine.hub import default_dir
from engine.model_catalog import DownloadRequest, catalog, run_download
from engine.runner import drive
from engine.events import Failed
from gsv_tui.cli import main


def test_listing_names_family_source_and_licence(gsv_home, capsys):
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    for m in SEPARATION:
        line = next(ln for ln in out.splitlines() if f" {m.name} " in ln)
        assert m.family in line and m.licence in line and m.files[0] in line
    assert "uvr5-deecho-aggressive" in catalog() and "bs-roformer-vocals" not in catalog()


def test_fetched_files_land_where_presets_look(gsv_home):
    for m in SEPARATION:
        if m.fetch is not None:
            assert (default_dir(m.fetch) / m.files[0]).is_relative_to(uvr_dir())
    wanted = {s.fetch for p in presets.PRESETS.values() for s in p.slots if s.fetch}
    assert wanted <= set(catalog())  # every hint `gsv models get NAME` names a real entry


def test_a_by_hand_model_is_refused_with_where_to_get_it(gsv_home):
    ev = list(drive("models", run_download, DownloadRequest("bs-roformer-vocals")))
    assert isinstance(ev[-1], Failed) and "by hand" in ev[-1].reason
    assert "model_bs_roformer_ep_317_sdr_12.9755.yaml" in ev[-1].hint
