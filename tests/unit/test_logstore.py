"""The log store: an index of a deployment log that filters the whole log, tails it, saves it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from fedi_tui.core.deploy.history import read_log
from fedi_tui.core.views import logstore
from fedi_tui.core.views.logs import LogFilter, row
from fedi_tui.core.views.logstore import LogStore, step
from tests.fixtures.logs import DEPLOYMENT, line, run_events, started, write_log


@pytest.fixture
def big_log(tmp_path: Path) -> Path:
    return write_log(tmp_path, run_events(3000))


def expected(path: Path, keep: LogFilter) -> list[int]:
    """The reference: every event of the log read back, kept by LogFilter.keeps."""
    return [i for i, event in enumerate(read_log(path)) if keep.keeps(row(event))]


FILTERS = {
    "regex": LogFilter.make("unit-1[0-3]"),
    "invert": LogFilter.make("unit-1[0-3]", invert=True),
    "machine": LogFilter.make(machine="db-1"),
    "level": LogFilter.make(level="info"),
    "errors": LogFilter.make(level="error"),
    "all-of-them": LogFilter.make(r"^\| line \d+5 ", invert=True, machine="web-1", level="debug"),
    "regex+level": LogFilter.make("db-1", level="warning"),
    "unknown machine": LogFilter.make(machine="nope"),
}


@pytest.mark.parametrize("name", FILTERS)
def test_filter_keeps_exactly_the_matching_lines_of_the_whole_log(
    name: str, big_log: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(logstore, "SCAN_LINES", 257)  # many chunks, and a ragged last one
    store = LogStore(big_log, cache_lines=16)
    assert store.read_all() == 3000 + 3 + 6 + 2
    keep = FILTERS[name]
    got = store.select(keep)
    assert got == expected(big_log, keep)
    assert store.cached_rows <= 16
    # the same over a part of the log (what a tick of the screen asks for)
    assert store.select(keep, 1000, 2000) == [i for i in got if 1000 <= i < 2000]


def test_rows_read_back_from_the_file_beyond_the_cache(big_log: Path) -> None:
    store = LogStore(big_log, cache_lines=4)
    store.read_all()
    rows = [row(e) for e in read_log(big_log)]
    for i in (0, 2999, 5, 1500, 3010, 7):
        assert store.row(i) == rows[i]
    assert store.cached_rows == 4
    assert list(store.plain_lines(None))[1500] == rows[1500].plain(store.machine_width())
    assert store.event(1500) == next(e for n, e in enumerate(read_log(big_log)) if n == 1500)


def test_tail_of_a_growing_log_with_a_partial_last_line(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    store = LogStore(path)
    assert not store.poll()  # no file yet: nothing, no error
    first = started().to_json() + "\n" + line(0).to_json() + "\n"
    half = line(1).to_json()
    path.write_text(first + half[:40], encoding="utf-8")
    got = store.poll()
    assert (got.start, got.stop) == (0, 2)
    assert len(store) == 2
    with path.open("a", encoding="utf-8") as f:
        f.write(half[40:])
    assert not store.poll()  # still no newline: the line is not complete
    with path.open("a", encoding="utf-8") as f:
        f.write("\n" + line(2).to_json() + "\n")
    got = store.poll()
    assert (got.start, got.stop) == (2, 4)
    assert store.row(2) == row(line(1))
    assert store.row(3) == row(line(2))
    assert store.growing()  # no RunFinished, and the writer is not known (pid 0)
    assert store.writer_pid == 0


def test_poll_in_small_steps_reads_the_same_lines(big_log: Path) -> None:
    store = LogStore(big_log)
    while store.poll(max_bytes=1000):
        pass
    assert len(store) == len(list(read_log(big_log)))
    assert store.outcome == "failed"
    assert not store.growing()


def test_control_characters_and_bad_lines_are_shown_visibly(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    evil = line(0, text="\x1b]0;pwned\x07 \x1b[2K\u202egnp.exe")
    path.write_text(
        evil.to_json() + "\n" + "not json \x1b[8m hidden\n" + line(1).to_json() + "\n",
        encoding="utf-8",
    )
    store = LogStore(path)
    assert store.read_all() == 3
    text = store.row(0).text
    assert "\x1b" not in text and "\u202e" not in text and "\x07" not in text
    assert "\\x1b]0;pwned\\x07" in text and "\\u202e" in text
    bad = store.row(1)
    assert bad.level == "warning" and "\x1b" not in bad.text
    assert bad.text.startswith("run.jsonl:2: not a deployment event: not json \\x1b[8m")
    assert store.row(2) == row(line(1))  # a bad line does not stop the rest


def test_search_hits_within_the_view_and_steps_wrap_around(big_log: Path) -> None:
    store = LogStore(big_log)
    store.read_all()
    view = store.select(LogFilter.make(machine="web-1"))
    pattern = re.compile(r"unit-16\.service")
    hits = store.hits(pattern, view)
    assert hits
    assert hits == [p for p, i in enumerate(view) if pattern.search(store.row(i).text)]
    assert store.hits(pattern, None) == store.select(LogFilter(pattern))
    assert step(hits, None, forward=True) == (hits[0], False)
    assert step(hits, hits[0], forward=True) == (hits[1], False)
    assert step(hits, hits[-1], forward=True) == (hits[0], True)
    assert step(hits, hits[0], forward=False) == (hits[-1], True)
    assert step(hits, hits[1], forward=False) == (hits[0], False)
    assert step(hits, hits[1] + 1, forward=False) == (hits[1], False)
    assert step([], 3, forward=True) == (None, False)


def test_first_error_of_the_view(big_log: Path) -> None:
    store = LogStore(big_log)
    store.read_all()
    errors = [i for i, e in enumerate(read_log(big_log)) if e.level == "error"]
    assert store.first_error(None) == errors[0]
    view = store.select(LogFilter.make(machine="web-1"))
    assert store.first_error(view) is None  # web-1 did not fail
    db = store.select(LogFilter.make(machine="db-1"))
    assert db[store.first_error(db) or 0] == errors[0]


def test_save_writes_the_filtered_view(big_log: Path, tmp_path: Path) -> None:
    store = LogStore(big_log)
    store.read_all()
    keep = LogFilter.make("unit-3", machine="media-1")
    view = store.select(keep)
    out = tmp_path / "out" / "view.log"
    out.parent.mkdir()
    assert store.save(out, view) == len(view)
    width = store.machine_width()
    want = [row(e).plain(width) for e in read_log(big_log) if keep.keeps(row(e))]
    assert out.read_text(encoding="utf-8").splitlines() == want
    assert not [p for p in out.parent.iterdir() if p.name != "view.log"]  # no temp file left
    with pytest.raises(OSError):
        store.save(tmp_path / "missing-dir" / "x.log", view)


def test_a_closed_store_reads_no_more(big_log: Path) -> None:
    store = LogStore(big_log)
    store.close()
    assert not store.poll()
    assert DEPLOYMENT in big_log.name


def test_bytes_that_are_not_utf8_and_lone_surrogates_keep_the_index_exact(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    good = line(0, text="ok")
    surrogate = line(1, text="\ud800 half a pair")  # json escapes it: \\ud800
    raw = good.to_json().encode() + b"\n" + b'{"type": "LogLine", "bad \xff\xfe"}\n'
    raw += surrogate.to_json().encode("utf-8", "surrogatepass") + b"\n"
    raw += line(2, text="ünïcode ✓").to_json().encode() + b"\n"
    path.write_bytes(raw)
    store = LogStore(path)
    assert store.read_all() == 4
    assert store.row(1).level == "warning" and "bad \ufffd\ufffd" in store.row(1).text
    assert store.row(2).text.endswith("? half a pair")
    assert store.row(3) == row(line(2, text="ünïcode ✓"))
    assert store.event(3) == line(2, text="ünïcode ✓")  # byte offsets still right
    assert store.event(0) == good
