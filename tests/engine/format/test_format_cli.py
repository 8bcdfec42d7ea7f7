"""``gsv format`` runs the same step headless: exit code, summary and the 1A folder;
a bad transcript exits non-zero with the reason and what to do."""
from __future__ import annotations

from engine.layout import Layout
from gsv_tui.cli import main


def test_gsv_format_cli(project, bert_dir, hubert_dir, sovits_file, capsys):
    args = ["format", "-C", str(project), "--bert-dir", str(bert_dir), "--hubert-dir",
            str(hubert_dir), "--sovits", str(sovits_file), "--device", "cpu", "--offline"]
    assert main(args) == 0
    err = capsys.readouterr().err
    assert "Formatted 4 clips for training" in err
    exp = Layout(project, "voice").exp_dir
    assert (exp / "2-name2text.txt").is_file() and (exp / "6-name2semantic.tsv").is_file()

    Layout(project, "voice").list_file.write_text("only|three|fields\n", encoding="utf-8")
    assert main(args) == 1
    err = capsys.readouterr().err
    assert "voice.list line 1" in err and "what to do:" in err
