from pathlib import Path

from engine.dataset.listfile import (ListEntry, parse_document, parse_line, read_document,
                                     read_list, write_document, write_list)

UGLY = ("\ufeffa.wav|s|EN|one\r\n"
        "broken line\n"
        "\n"
        "   \n"
        "b.wav|s|ZH|two|with pipe\r"
        "c.wav|s|JA|three").encode("utf-8") + b"|bad \xff byte\n" + b"only|three|fields"


def test_round_trip_byte_for_byte(tmp_path: Path):
    doc = parse_document(UGLY)
    assert doc.to_bytes() == UGLY
    p = tmp_path / "x.list"
    p.write_bytes(UGLY)
    write_document(p, read_document(p))
    assert p.read_bytes() == UGLY


def test_malformed_flagged_and_kept():
    doc = parse_document(UGLY)
    assert [n for n, _ in doc.malformed] == [2, 7]
    assert doc.lines[4].entry == ListEntry("b.wav", "s", "ZH", "two|with pipe")
    assert doc.lines[5].entry.text == "three|bad \udcff byte"
    assert doc.bom and len(doc.entries) == 3


def test_simple_api_still_works(tmp_path: Path):
    p = tmp_path / "y.list"
    write_list(p, [ListEntry("a.wav", "s", "EN", "hi"), ListEntry("b.wav", "s", "EN", "yo")])
    assert p.read_text() == "a.wav|s|EN|hi\nb.wav|s|EN|yo\n"
    assert [e.text for e in read_list(p)] == ["hi", "yo"]
    assert parse_line("x|y|z") is None and parse_line("a|b|c|d\n").text == "d"


def test_edited_line_keeps_its_terminator():
    doc = parse_document(b"a.wav|s|EN|one\r\nb.wav|s|EN|two")
    doc.lines[0] = doc.lines[0].with_entry(ListEntry("a.wav", "s", "EN", "ONE"))
    assert doc.to_bytes() == b"a.wav|s|EN|ONE\r\nb.wav|s|EN|two"
