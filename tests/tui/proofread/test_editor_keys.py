"""The editor driven by keys; after every step the .list and the journal on disk are checked."""
from __future__ import annotations

from pathlib import Path

import soundfile as sf

from engine.dataset.proofread.source import open_session
from engine.dataset.proofread.journal import read_records
from gsv_tui.proofread.app import ProofreadApp
from gsv_tui.proofread.cliplist import ClipList
from gsv_tui.proofread.dialogs import TextPanel
from gsv_tui.proofread.editing import FLUSH_DELAY_S
from tests.tui.proofread.conftest import journal_kinds, list_texts

MALFORMED = "a malformed line | with two pipes |"
SIZE = (110, 32)


async def press(pilot, *keys: str) -> None:
    """Press keys, then wait for the editor's list writer (started FLUSH_DELAY_S after an
    edit, in a worker thread), so the .list on disk is current."""
    await pilot.press(*keys)
    await pilot.pause(FLUSH_DELAY_S + 0.03)
    await pilot.app.workers.wait_for_complete()


def app_for(lay) -> ProofreadApp:
    return ProofreadApp(open_session(lay.root), backend="http")


def cursor_text(app) -> str:
    scr = app.screen
    return scr.current().text


async def test_edit_accept_undo_redo(project):
    app = app_for(project)
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "down", "e", "ctrl+u", *"second clip, fixed", "enter")
        await pilot.pause()
        assert list_texts(project)[1] == "second clip, fixed"
        assert journal_kinds(project) == ["base", "edit"]
        last = read_records(project.proofread_journal)[-1]
        assert last["patches"][0]["new"][0]["reviewed"] is True
        assert cursor_text(app) == MALFORMED  # accepted, moved to the next row
        assert MALFORMED in list_texts(project)  # the malformed line survived the save
        counter = str(app.screen.query_one("#counter").render())
        assert "reviewed 1/5" in counter

        await press(pilot, "down", "enter")  # accept without editing
        assert journal_kinds(project)[-1] == "edit"
        assert app.screen.session.clips[3].reviewed and cursor_text(app) == "fourth"

        await press(pilot, "u")
        assert journal_kinds(project)[-1] == "undo" and not app.screen.session.clips[3].reviewed
        await press(pilot, "u")
        assert list_texts(project)[1] == "second clip" and cursor_text(app) == "second clip"
        await press(pilot, "U")
        assert list_texts(project)[1] == "second clip, fixed"
        assert journal_kinds(project)[-3:] == ["undo", "undo", "redo"]


async def test_delete_merge_split(project):
    app = app_for(project)
    slices = sorted(p.name for p in project.slices_dir.iterdir())
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "d")
        assert "hello there" not in list_texts(project)
        assert (project.slices_dir / "c0.wav").exists()  # soft: the file stays
        assert "deleted 1" not in journal_kinds(project) and journal_kinds(project)[-1] == "edit"
        await press(pilot, "u", "m")  # restore, then merge clip 1 with clip 2
        await pilot.pause()
        texts = list_texts(project)
        assert texts[0] == "hello there second clip" and texts[1] == MALFORMED
        merge = read_records(project.proofread_journal)[-1]
        assert merge["label"] == "merge" and [c["id"] for c in merge["patches"][0]["old"]] == [0, 1]
        merged = project.root / open_session_clip_wav(project, 0)
        assert merged.parent == project.edits_dir
        assert abs(sf.info(str(merged)).duration - 2.5) < 0.01
        assert sorted(p.name for p in project.slices_dir.iterdir()) == slices  # originals kept

        await press(pilot, "u")
        assert list_texts(project)[:2] == ["hello there", "second clip"]
        assert journal_kinds(project)[-1] == "undo"
        # split "third one here" (2.0 s): marker moved to 1.0 s, text cursor after "third"
        await press(pilot, "down", "down", "down", "e", "home", *["right"] * 5, "escape")
        scr = app.screen
        scr.marker = 0.8
        await press(pilot, "full_stop", "full_stop")
        assert abs(scr.marker - 1.0) < 1e-6
        await press(pilot, "s")
        await pilot.pause()
        texts = list_texts(project)
        assert texts[3:5] == ["third", "one here"]
        parts = [project.root / open_session_clip_wav(project, i) for i in (3, 4)]
        assert [round(sf.info(str(p)).duration, 2) for p in parts] == [1.0, 1.0]
        assert journal_kinds(project)[-1] == "edit" and read_records(
            project.proofread_journal)[-1]["label"] == "split"


def open_session_clip_wav(project, line: int) -> Path:
    from engine.dataset.listfile import read_document
    return Path(read_document(project.list_file).lines[line].entry.wav)


async def test_filters_search_replace_jump(project):
    app = app_for(project)
    async with app.run_test(size=SIZE) as pilot:
        scr = app.screen
        cl = scr.query_one(ClipList)
        assert len(cl.rows) == 6
        await press(pilot, "f")  # unreviewed
        assert scr.filter == "unreviewed" and len(cl.rows) == 5
        await press(pilot, "enter", "enter")  # accept two: they leave this view
        assert len(cl.rows) == 3 and cursor_text(app) == "third one here"
        assert [c.reviewed for c in scr.session.clips[:2]] == [True, True]
        assert journal_kinds(project) == ["base", "edit", "edit"]
        await press(pilot, "f")  # low confidence: avg_logprob < -1
        assert [scr.session.clips[p].text for p in cl.rows] == ["third one here", "fourth",
                                                               "the last clip"]
        for _ in range(6):
            await press(pilot, "f")  # cycles back to all
        assert scr.filter == "all" and len(cl.rows) == 6

        await press(pilot, "slash", *"clip", "enter")
        assert [scr.session.clips[p].text for p in cl.rows] == ["second clip", "the last clip"]
        await press(pilot, "R", *"clip", "enter", *"take", "enter")
        await pilot.pause()
        assert list_texts(project)[1] == "second take" and list_texts(project)[5] == "the last take"
        assert read_records(project.proofread_journal)[-1]["label"].startswith("replace")
        await press(pilot, "u")
        assert list_texts(project)[5] == "the last clip" and journal_kinds(project)[-1] == "undo"
        await press(pilot, "slash", "ctrl+u", "enter")  # empty search: everything again
        assert len(cl.rows) == 6
        await press(pilot, "g", "5", "enter")
        assert cursor_text(app) == "fourth"  # line 5 of the list
        await press(pilot, "n")  # next unreviewed after "fourth"
        assert cursor_text(app) == "the last clip"
        await press(pilot, "o")
        assert scr.sort == "duration"


async def test_help_overlay_and_keymap(project, gsv_home):
    from engine.appconfig import AppConfig, save_config
    save_config(AppConfig(keymap={"proofread.accept": "x"}))
    app = app_for(project)
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "x")
        assert app.screen.session.clips[0].reviewed
        await press(pilot, "question_mark")
        assert isinstance(app.screen, TextPanel)
        body = str(app.screen.query_one("#panel-body").render())
        assert "Merge with next clip" in body and "x " in body and "Replay the last 2 s" in body
        await press(pilot, "escape", "q")
    assert app.return_code == 0


async def test_malformed_line_can_be_fixed_in_place(project):
    app = app_for(project)
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "down", "down", "e", "ctrl+u", *"audio/slices/c0.wav|voice|EN|fixed",
                          "enter")
        await pilot.pause()
        assert list_texts(project)[2] == "fixed"
        assert app.screen.session.clips[2].entry is not None


async def test_space_plays_the_clip_into_a_real_pulse_sink(project, tmp_path, pulse):
    """The editor's play key, through the app's player, into a private PulseAudio null sink."""
    from tests.engine.proofread.pulse import Recorder, rms
    from tests.helpers.speech import speak

    speak("the editor plays this clip", project.slices_dir / "c0.wav")
    app = ProofreadApp(open_session(project.root), backend="pulse")
    async with app.run_test(size=SIZE) as pilot:
        scr = app.screen
        await pilot.pause()
        rec = Recorder(tmp_path / "ui")
        await press(pilot, "space")
        await pilot.pause(0.4)
        head = scr.query_one("#detail-strip").head
        assert scr.player.backend == "pulse" and scr.player.playing
        assert head is not None and head > 0  # the play head moves
        scr.player.wait(10)  # the clip played to its end
        await pilot.pause(0.3)
        heard = rec.stop()
    assert rms(heard) > 0.02


async def test_long_list_moves_the_cursor_not_just_the_view(tmp_path):
    """With more clips than lines, arrows and page keys move the cursor and the view follows
    (ScrollView's own scroll bindings must not shadow the editor's)."""
    from tests.engine.proofread.conftest import tone
    wav = tone(tmp_path / "one.wav", 0.5)
    (tmp_path / "long.list").write_text("".join(f"{wav}|s|EN|clip {i}\n" for i in range(300)))
    app = ProofreadApp(open_session(tmp_path / "long.list"), backend="http")
    async with app.run_test(size=(80, 24)) as pilot:
        cl = app.screen.query_one(ClipList)
        await press(pilot, *["down"] * 30)
        assert cl.cursor == 30 and cursor_text(app) == "clip 30"
        assert cl.scroll_offset.y > 0 and cl.cursor - cl.scroll_offset.y < cl.size.height
        await press(pilot, "pagedown")
        assert cl.cursor == 30 + cl.size.height - 1
        await press(pilot, "end")
        assert cursor_text(app) == "clip 299" and cl.scroll_offset.y >= 300 - cl.size.height
        await press(pilot, "home", "up")
        assert cl.cursor == 0 and cl.scroll_offset.y == 0


async def test_listening_keys_and_sound_panel(project):
    """Speed, auto-play, play without a sink (HTTP link shown) and the sound set-up panel."""
    import urllib.request
    app = app_for(project)
    async with app.run_test(size=SIZE) as pilot:
        scr = app.screen
        await press(pilot, "right_square_bracket", "right_square_bracket", "left_square_bracket")
        assert abs(scr.speed - 1.1) < 1e-9
        assert "speed 110%" in str(scr.query_one("#counter").render())
        await press(pilot, "a")
        assert scr.autoplay and "auto-play on" in str(scr.query_one("#counter").render())
        await press(pilot, "down")  # auto-play: moving plays the new clip (here: a link)
        assert scr.last_url and scr.last_url.startswith("http://127.0.0.1:")
        assert isinstance(app.screen, TextPanel)  # no sink: the set-up panel opens, once
        await press(pilot, "escape")
        body = urllib.request.urlopen(scr.last_url, timeout=5).read()
        assert body[:4] == b"RIFF"
        play_line = scr.query_one("#detail-play").text
        assert "ssh -L" in play_line and scr.last_url in play_line
        await press(pilot, "b")  # replay the last 2 s: a new segment is served
        assert not isinstance(app.screen, TextPanel)
        await press(pilot, "f2")
        assert isinstance(app.screen, TextPanel)
        panel = str(app.screen.query_one("#panel-body").render())
        port = scr.last_url.split(":")[2].split("/")[0]
        assert f"ssh -L {port}:127.0.0.1:{port}" in panel and scr.last_url in panel
        await press(pilot, "escape")
        await press(pilot, "space")  # stops (or plays again): never raises


async def test_click_on_the_strip_sets_the_split_marker(project):
    app = app_for(project)
    async with app.run_test(size=SIZE) as pilot:
        scr = app.screen
        strip = scr.query_one("#detail-strip")
        await pilot.click("#detail-strip", offset=(strip.size.width // 4, 1))
        assert scr.marker is not None and abs(scr.marker - 0.25) < 0.02  # clip 1 is 1.0 s
        assert strip.marker == scr.marker
        await press(pilot, "s")  # split at the marker; text at a space near 25 %
        parts = [scr.session.clips[i] for i in (0, 1)]
        assert [p.text for p in parts] == ["hello", "there"]
        assert list_texts(project)[:2] == ["hello", "there"]


async def test_keys_while_editing_stay_in_the_editor(project):
    """Arrows and letters while typing never move the list or fire actions; Enter saves to
    the clip that was opened."""
    app = app_for(project)
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "e", "end", "down", "down", *" d m s", "pagedown", "enter")
        assert list_texts(project)[0] == "hello there d m s"
        assert journal_kinds(project) == ["base", "edit"]
        assert cursor_text(app) == "second clip"  # accepted and moved on only once
