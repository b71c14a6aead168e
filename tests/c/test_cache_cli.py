"""``python -m theanolab.cache list|clear|stats`` on a temporary compiledir with real builds."""

import io
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from theanolab.backends.c import build
from theanolab.cache import cli, store
from theanolab.config import change_flags

ROOT = Path(__file__).resolve().parents[2]
CDEF = "int value(void);"
MODULES = [  # (description, source); the last one does not compile
    ("Elemwise{add}", "int value(void) { return 1; }"),
    ("Sum{axis=0}", "int value(void) { return 2; }"),
    ("Elemwise{broken}", "int value(void) { return not_declared_anywhere; }"),
]


@pytest.fixture
def compiledir(tmp_path):
    """A compiledir holding two complete entries and one failed build; yields {description: entry}."""
    path = tmp_path / "compiledir"
    with change_flags(compiledir=str(path)):
        build.forget_loaded()
        for description, source in MODULES:
            try:
                build.load_module(CDEF, source, description)
            except build.CompileError:
                pass
        yield path
    build.forget_loaded()


def entries_by_description():
    return {info.description: info for info in store.entries("c")}


def run(*argv):
    out = io.StringIO()
    assert cli.main(list(argv), out=out) == 0
    return out.getvalue()


def disk_bytes(folder):
    return sum(f.stat().st_size for f in Path(folder).rglob("*") if f.is_file())


def test_list_shows_key_status_size_date_and_description(compiledir):
    lines = run("list").splitlines()
    assert lines[0].startswith("3 compiled modules in ") and str(compiledir / "c") in lines[0]
    rows = {line.split()[-1]: line for line in lines[2:]}
    assert set(rows) == {"Elemwise{add}", "Sum{axis=0}", "Elemwise{broken}"}
    found = entries_by_description()
    for description, line in rows.items():
        info = found[description]
        assert line.startswith(info.key[:12])
        assert ("failed" if description == "Elemwise{broken}" else "complete") in line
        assert time.strftime("%Y-%m-%d", time.localtime(info.last_used)) in line
        assert re.search(r"\d+\.\d KiB", line)
        assert info.size == disk_bytes(info.path)


def test_list_prints_one_line_per_entry_whatever_the_description(tmp_path):
    with change_flags(compiledir=str(tmp_path)):
        build.load_module(CDEF, "int value(void) { return 3; }", "Elemwise{a\nb}")
        with pytest.raises(build.CompileError):
            build.load_module(CDEF, "int value(void) { return nope; }", "Elemwise{c\r\nd}")
        lines = run("list").splitlines()
    assert len(lines) == 4 and lines[2].endswith("Elemwise{a b}") and lines[3].endswith("Elemwise{c d}")


def test_stats_reports_disk_facts(compiledir):
    text = run("stats")
    assert re.search(r"^entries\s+3 \(2 complete, 1 failed\)$", text, re.M)
    assert re.search(rf"^total size\s+{disk_bytes(compiledir / 'c') / 1024:.1f} KiB$", text, re.M)
    assert re.search(r"^C compiler\s+\S+.* \(found\)$", text, re.M)
    assert str(compiledir / "c") in text


def test_a_disk_hit_counts_as_a_use(compiledir):
    entry = entries_by_description()["Elemwise{add}"].path
    os.utime(entry / "complete", (0, 0))
    build.forget_loaded()
    build.load_module(CDEF, MODULES[0][1], MODULES[0][0])
    assert entries_by_description()["Elemwise{add}"].last_used > time.time() - 60


def test_clear_older_than_removes_only_old_entries(compiledir):
    old = entries_by_description()["Sum{axis=0}"].path
    ten_days_ago = time.time() - 10 * 86400
    os.utime(old / "complete", (ten_days_ago, ten_days_ago))
    size = disk_bytes(old)
    assert run("clear", "--older-than", "5") == \
        f"removed 1 compiled module unused for 5 days ({size / 1024:.1f} KiB) from {compiledir / 'c'}\n"
    assert not old.exists() and set(entries_by_description()) == {"Elemwise{add}", "Elemwise{broken}"}
    assert run("clear").startswith("removed 2 compiled modules (")
    assert run("list") == f"no compiled modules in {compiledir / 'c'}\n"
    assert list((compiledir / "c").iterdir()) == []
    before = build.stats.compiler_runs
    build.forget_loaded()
    assert build.load_module(CDEF, MODULES[1][1], MODULES[1][0]).lib.value() == 2  # builds again
    assert build.stats.compiler_runs == before + 1


def test_clear_keeps_an_entry_in_use(compiledir):
    busy = entries_by_description()["Elemwise{add}"].path
    with store.locked(busy):
        text = run("clear")
    assert "removed 2 compiled modules" in text and "kept 1 in use by a running process" in text
    assert busy.exists() and store.read_marker(busy) is not None


def test_a_linked_entry_shows_as_foreign_and_clear_removes_only_the_link(compiledir, tmp_path):
    linked = entries_by_description()["Sum{axis=0}"].path
    elsewhere = tmp_path / "elsewhere"
    os.replace(linked, elsewhere)
    linked.symlink_to(elsewhere, target_is_directory=True)
    assert entries_by_description()["Sum{axis=0}"].status == "foreign"
    assert "removed 3 compiled modules" in run("clear")
    assert not linked.is_symlink() and (elsewhere / "complete").is_file()


def test_commands_create_nothing_in_a_missing_compiledir(tmp_path):
    missing = tmp_path / "never-made"
    with change_flags(compiledir=str(missing)):
        assert run("list") == f"no compiled modules in {missing / 'c'}\n"
        assert run("clear").startswith("removed 0 compiled modules")
        assert re.search(r"^entries\s+0$", run("stats"), re.M)
    assert not missing.exists()


@pytest.mark.parametrize("argv, message", [
    ([], "required: command"),
    (["frobnicate"], "invalid choice: 'frobnicate'"),
    (["clear", "--older-than", "-1"], "number of days >= 0"),
    (["clear", "--older-than", "soon"], "invalid float value: 'soon'"),
])
def test_bad_command_lines(argv, message, capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(argv)
    assert info.value.code == 2 and message in capsys.readouterr().err


def test_python_dash_m_entry_point(compiledir):
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
               THEANOLAB_FLAGS=f"compiledir={compiledir}")
    result = subprocess.run([sys.executable, "-m", "theanolab.cache", "list"], env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("3 compiled modules in ") and "Sum{axis=0}" in result.stdout


def test_a_reader_that_stops_early_is_no_error(compiledir):
    """``python -m theanolab.cache list | head -1``: the closed pipe ends the listing quietly."""
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
               THEANOLAB_FLAGS=f"compiledir={compiledir}")
    listing = subprocess.Popen([sys.executable, "-m", "theanolab.cache", "list"], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    listing.stdout.close()  # the reader is gone before the first line is written
    assert listing.wait(timeout=120) == 0
    assert b"Traceback" not in listing.stderr.read()
