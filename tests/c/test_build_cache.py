"""The C build cache (theanolab.backends.c.build on theanolab.cache.store).

Issue 4, acceptance 3: a cold build, a warm hit with no compiler run (same
process and a second one), two processes building one module at once, a
damaged entry, a compile error; and from issue 9: a build killed mid-way,
private folders, foreign entries, an unusable compiledir, no compiler.
Every test builds into its own temporary compiledir.
"""

import json
import os
import resource
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import warnings
from pathlib import Path

import numpy as np
import pytest

import theanolab
import theanolab.tensor as T
from theanolab.backends.c import build, linker
from theanolab.cache import store
from theanolab.config import change_flags

ROOT = Path(__file__).resolve().parents[2]
CDEF = "int twice_plus(int x);"
SOURCE = "int twice_plus(int x) { return 2 * x + OFFSET; }"
OPTIONS = {"define_macros": [("OFFSET", "1")]}
IS_ROOT = os.geteuid() == 0


def load(source=SOURCE, description="Elemwise{twice_plus}", **options):
    return build.load_module(CDEF, source, description, **(options or OPTIONS))


def counts():
    return build.stats.compiler_runs, build.stats.disk_hits, build.stats.memory_hits


def delta(before):
    """(compiler runs, disk hits, memory hits) since ``before``."""
    return tuple(now - then for now, then in zip(counts(), before))


def the_entry(compiledir):
    """The one entry of ``compiledir``."""
    found = sorted(Path(compiledir, "c").glob("??/*"))
    assert len(found) == 1, found
    return found[0]


def leftovers(entry):
    return sorted(p.name for p in entry.iterdir() if p.name.startswith(".tmp-"))


@pytest.fixture
def compiledir(tmp_path, monkeypatch):
    """A fresh compiledir, nothing of it loaded yet, and private fallbacks kept inside tmp_path."""
    fallback_base = tmp_path / "tmp"
    fallback_base.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(fallback_base))
    path = tmp_path / "compiledir"
    with change_flags(compiledir=str(path)):
        build.forget_loaded()
        yield path
    build.forget_loaded()


def child_env(compiledir, **flags):
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env["THEANOLAB_FLAGS"] = ",".join(f"{k}={v}" for k, v in {"compiledir": compiledir, **flags}.items())
    return env


# A child process loading the module, optionally after a start signal, printing its counters.
CHILD = textwrap.dedent(f"""
    import json, os, sys, time
    from theanolab.backends.c import build
    ready, go = sys.argv[1:3]
    if ready:
        open(ready, "w").close()
        while not os.path.exists(go):
            time.sleep(0.002)
    module = build.load_module({CDEF!r}, {SOURCE!r}, "Elemwise{{twice_plus}}", **{OPTIONS!r})
    s = build.stats
    print(json.dumps({{"value": module.lib.twice_plus(20), "runs": s.compiler_runs, "disk": s.disk_hits}}))
""")


def start_child(compiledir, ready="", go="", **flags):
    return subprocess.Popen([sys.executable, "-c", CHILD, ready, go], env=child_env(compiledir, **flags),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)


def child_result(process):
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    return json.loads(out)


def test_session_compiledir_is_temporary(private_compiledir, tmp_path_factory):
    """The conftest fixture: this process and the processes it starts build under pytest's temp dir."""
    base = tmp_path_factory.getbasetemp()
    assert Path(private_compiledir).is_relative_to(base)
    assert os.environ["THEANOLAB_FLAGS"].endswith(f"compiledir={private_compiledir}")


def test_cold_build_then_memory_and_disk_hits(compiledir):
    before = counts()
    module = load()
    assert module.lib.twice_plus(20) == 41
    assert delta(before) == (1, 0, 0)
    entry = the_entry(compiledir)
    names = {p.name for p in entry.iterdir()}
    library = store.read_marker(entry)
    assert library is not None and library.name in names
    assert {"lock", "complete", library.name, library.name.split(".")[0] + ".c"} == names
    marker = json.loads((entry / "complete").read_text())
    assert marker["description"] == "Elemwise{twice_plus}" and marker["size"] == library.stat().st_size
    assert "return 2 * x + OFFSET;" in (entry / marker["source"]).read_text()

    assert load() is module
    assert delta(before) == (1, 0, 1)
    build.forget_loaded()
    assert load().lib.twice_plus(1) == 3
    assert delta(before) == (1, 1, 1)


def test_warm_hit_in_a_second_process(compiledir):
    load()
    assert child_result(start_child(compiledir)) == {"value": 41, "runs": 0, "disk": 1}


def race(tmp_path, start):
    """Start two children with ``start(ready_file, go_file)``, release them at once; their results."""
    go = tmp_path / "go"
    ready = [tmp_path / "ready-0", tmp_path / "ready-1"]
    children = [start(str(r), str(go)) for r in ready]
    deadline = time.monotonic() + 60
    while not all(r.exists() for r in ready):
        assert time.monotonic() < deadline and all(c.poll() is None for c in children), "children did not start"
        time.sleep(0.005)
    go.touch()
    return [child_result(c) for c in children]


def test_two_processes_building_at_once_run_the_compiler_once(compiledir, tmp_path):
    results = race(tmp_path, lambda ready, go: start_child(compiledir, ready, go))
    assert [r["value"] for r in results] == [41, 41]
    assert sum(r["runs"] for r in results) == 1 and sum(r["disk"] for r in results) == 1
    entry = the_entry(compiledir)
    assert leftovers(entry) == [] and not (entry / "compile-error.txt").exists()
    assert store.read_marker(entry) is not None
    before = counts()
    load()
    assert delta(before) == (0, 1, 0)


def test_entry_removed_while_waiting_for_its_lock_is_built_again(compiledir):
    """``clear`` removes an entry under its lock; a loader waiting on that lock must not use the dead one."""
    load()
    entry = the_entry(compiledir)
    build.forget_loaded()
    results = []
    with store.locked(entry):
        worker = threading.Thread(target=lambda: results.append(load().lib.twice_plus(3)))
        worker.start()
        time.sleep(0.3)  # the worker now waits for the lock
        shutil.rmtree(entry)
    worker.join(60)
    assert results == [7] and store.read_marker(entry) is not None


def _replace(path, data):
    """Put ``data`` at ``path`` as a new file: the loaded library's pages stay mapped (no SIGBUS)."""
    fresh = path.with_name(path.name + ".new")
    fresh.write_bytes(data)
    os.replace(fresh, path)


def _marker_fields(entry, **changes):
    fields = json.loads((entry / "complete").read_text())
    fields.update(changes)
    return json.dumps(fields).encode()


def _half(path):
    data = path.read_bytes()
    return data[:len(data) // 2]


def _killed_build(entry):
    """What a build killed by SIGKILL leaves: scratch, a partial library, no marker."""
    scratch = entry / ".tmp-killed"
    scratch.mkdir()
    library = store.read_marker(entry)
    (scratch / library.name).write_bytes(_half(library))
    (entry / "complete").unlink()


DAMAGE = {
    "marker missing": lambda entry: (entry / "complete").unlink(),
    "marker garbled": lambda entry: _replace(entry / "complete", b"\x00\xffnot json"),
    "marker empty": lambda entry: _replace(entry / "complete", b""),
    "marker of another format": lambda entry: _replace(entry / "complete", _marker_fields(entry, format=0)),
    "marker naming a file elsewhere": lambda entry: _replace(
        entry / "complete", _marker_fields(entry, library="../../" + store.read_marker(entry).name)),
    "library cut in half": lambda entry: _replace(store.read_marker(entry), _half(store.read_marker(entry))),
    "library altered, same size": lambda entry: _replace(
        store.read_marker(entry), store.read_marker(entry).read_bytes()[:-1] + b"\x01"),
    "library missing": lambda entry: store.read_marker(entry).unlink(),
    "build killed": _killed_build,
}


@pytest.mark.parametrize("damage", DAMAGE, ids=list(DAMAGE))
def test_damaged_entry_is_detected_and_rebuilt(compiledir, damage):
    load()
    entry = the_entry(compiledir)
    DAMAGE[damage](entry)
    assert store.read_marker(entry) is None
    build.forget_loaded()
    before = counts()
    assert load().lib.twice_plus(5) == 11
    assert delta(before) == (1, 0, 0)
    assert store.read_marker(entry) is not None and leftovers(entry) == []


def test_build_killed_by_sigkill_leaves_nothing_half_done(compiledir, tmp_path):
    """A compiler that hangs, its process killed: the lock is released and the next build completes."""
    slow = tmp_path / "slow"
    started = tmp_path / "started"
    compiler = tmp_path / "slowcc"
    compiler.write_text(textwrap.dedent(f"""\
        #!/bin/sh
        if [ "$1" != --version ] && [ -e {slow} ]; then touch {started}; sleep 60; fi
        exec gcc "$@"
    """))
    compiler.chmod(0o700)
    slow.touch()
    child = start_child(compiledir, cxx=compiler)
    try:
        deadline = time.monotonic() + 60
        while not started.exists():
            assert time.monotonic() < deadline and child.poll() is None, child.communicate()
            time.sleep(0.01)
    finally:
        os.killpg(child.pid, signal.SIGKILL)
        child.communicate()
    entry = the_entry(compiledir)
    assert store.read_marker(entry) is None and leftovers(entry) != []
    slow.unlink()
    before = counts()
    with change_flags(cxx=str(compiler)):
        assert load().lib.twice_plus(0) == 1
    assert delta(before) == (1, 0, 0)
    assert store.read_marker(entry) is not None and leftovers(entry) == []


def test_failing_write_leaves_no_half_entry(compiledir):
    """A full disk, simulated by a file-size limit on the building process: the next build completes."""
    child = subprocess.run([sys.executable, "-c", CHILD, "", ""], env=child_env(compiledir), capture_output=True,
                           text=True, timeout=120,
                           preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096)))
    assert child.returncode != 0 and "CompileError: cannot write the build" in child.stderr
    assert "Elemwise{twice_plus}" in child.stderr and "File too large" in child.stderr
    entry = the_entry(compiledir)
    assert store.read_marker(entry) is None and leftovers(entry) == []
    before = counts()
    assert load().lib.twice_plus(2) == 5
    assert delta(before) == (1, 0, 0) and store.read_marker(entry) is not None


BROKEN = [
    # (what is wrong, cdef, source, options, fragments the message must hold)
    ("undeclared name", CDEF, "int twice_plus(int x) { return undeclared_thing_xyz; }", OPTIONS,
     ["undeclared_thing_xyz", "error"]),
    ("missing library", CDEF, SOURCE, {**OPTIONS, "libraries": ["theanolab_no_such_lib"]},
     ["theanolab_no_such_lib"]),
    ("cdef does not parse", "int twice_plus(int x;", SOURCE, OPTIONS, ["cffi declarations", "parse"]),
]


@pytest.mark.parametrize("what, cdef, source, options, fragments", BROKEN, ids=[row[0] for row in BROKEN])
def test_compile_error_names_op_source_and_compiler_message(compiledir, what, cdef, source, options, fragments):
    before = counts()
    with pytest.raises(build.CompileError) as info:
        build.load_module(cdef, source, "Elemwise{broken}", **options)
    message = str(info.value)
    assert "Elemwise{broken}" in message and info.value.description == "Elemwise{broken}"
    for fragment in fragments:
        assert fragment in message
    entry = the_entry(compiledir)
    assert store.read_marker(entry) is None and leftovers(entry) == []
    if info.value.source_path is None:  # the declarations failed: the compiler never ran
        assert delta(before) == (0, 0, 0)
        return
    assert delta(before) == (1, 0, 0)
    assert str(info.value.source_path) in message and str(info.value.log_path) in message
    assert source in info.value.source_path.read_text()
    log = info.value.log_path.read_text()
    assert fragments[0] in log and " -O3 -fno-math-errno " in log
    assert "-ffast-math" not in log and "-march=native" not in log


def test_description_never_reaches_the_c_source(compiledir):
    """Op names are user-chosen text: they go to the marker and messages, never into generated C."""
    hostile = 'x"); system("id"); //\n*/ #include </etc/passwd>'
    assert load(description=hostile).lib.twice_plus(0) == 1
    entry = the_entry(compiledir)
    marker = json.loads((entry / "complete").read_text())
    assert marker["description"] == hostile and "system(" not in (entry / marker["source"]).read_text()
    with pytest.raises(build.CompileError) as info:
        load("int twice_plus(int x) { return y; }", description=hostile)
    assert hostile in str(info.value) and "system(" not in info.value.source_path.read_text()


def test_build_options_are_part_of_the_key(compiledir):
    before = counts()
    one = load(define_macros=[("OFFSET", "1")])
    two = load(define_macros=[("OFFSET", "2")])
    assert (one.lib.twice_plus(0), two.lib.twice_plus(0)) == (1, 2)
    assert load(define_macros=[("OFFSET", "1")]) is one
    assert delta(before) == (2, 0, 1)


@pytest.mark.parametrize("options, fragment", [
    ({"optimize": True}, "unknown build option 'optimize'"),
    ({"libraries": "m"}, "takes a list"),
])
def test_bad_build_option(compiledir, options, fragment):
    with pytest.raises(TypeError, match=fragment):
        load(**options)


def test_cache_folders_and_marker_are_private_whatever_the_umask(compiledir):
    old = os.umask(0)
    try:
        load()
    finally:
        os.umask(old)
    entry = the_entry(compiledir)
    for folder in (compiledir / "c", entry.parent, entry):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
    assert stat.S_IMODE((entry / "complete").stat().st_mode) == 0o600


def _chown(entry):
    for path in [entry, *entry.iterdir()]:
        os.chown(path, 4321, 4321, follow_symlinks=False)


def _symlinked(entry):
    """The entry moved elsewhere (where another user could write) and linked back."""
    elsewhere = entry.parent.parent.parent / "elsewhere"
    os.replace(entry, elsewhere)
    entry.symlink_to(elsewhere, target_is_directory=True)


UNTRUSTED = {
    "owned by another user": (pytest.mark.skipif(not IS_ROOT, reason="giving a file away needs root"), _chown,
                              "owned by uid 4321"),
    "group-writable": ((), lambda entry: entry.chmod(0o770), "writable by other users"),
    "a symbolic link": ((), _symlinked, "symbolic link"),
}


@pytest.mark.parametrize("how", [pytest.param(k, marks=v[0]) for k, v in UNTRUSTED.items()])
def test_untrusted_entry_is_not_loaded(compiledir, tmp_path, how):
    _, damage, reason = UNTRUSTED[how]
    load()
    entry = the_entry(compiledir)
    damage(entry)
    build.forget_loaded()
    before = counts()
    with pytest.warns(store.CompiledirWarning, match=reason):
        module = load()
    assert module.lib.twice_plus(1) == 3 and delta(before) == (1, 0, 0)
    assert Path(module.__file__).is_relative_to(tmp_path / "tmp")
    build.forget_loaded()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load()  # built privately already: no second warning, no second build
    assert delta(before) == (1, 1, 0)


def _root_is_a_file(compiledir):
    compiledir.mkdir()
    (compiledir / "c").write_text("")


def _read_only(compiledir):
    compiledir.mkdir()
    compiledir.chmod(0o500)


def _foreign_root(compiledir):
    (compiledir / "c").mkdir(parents=True)
    os.chown(compiledir / "c", 4321, 4321)


UNUSABLE = {
    "compiledir is a file": ((), lambda compiledir: compiledir.write_text("")),
    "its c folder is a file": ((), _root_is_a_file),
    "read-only": (pytest.mark.skipif(IS_ROOT, reason="root writes into read-only folders"), _read_only),
    "root owned by another user": (pytest.mark.skipif(not IS_ROOT, reason="giving a folder away needs root"),
                                   _foreign_root),
}


@pytest.mark.parametrize("how", [pytest.param(k, marks=v[0]) for k, v in UNUSABLE.items()])
def test_unusable_compiledir_falls_back_to_a_private_one_with_one_warning(compiledir, tmp_path, how):
    UNUSABLE[how][1](compiledir)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        module = load()
        build.forget_loaded()
        load(define_macros=[("OFFSET", "7")])
    assert [w.category for w in caught] == [store.CompiledirWarning], [str(w.message) for w in caught]
    assert str(compiledir) in str(caught[0].message) and "private temporary directory" in str(caught[0].message)
    assert module.lib.twice_plus(1) == 3
    fallback = Path(module.__file__)
    assert fallback.is_relative_to(tmp_path / "tmp") and stat.S_IMODE(fallback.parents[3].stat().st_mode) == 0o700
    assert not compiledir.is_dir() or not list(compiledir.glob("c/??"))  # nothing written there


def test_no_compiler_runs_the_reference_backend_with_one_warning(compiledir, tmp_path, monkeypatch):
    monkeypatch.setattr(linker, "_warned", [])
    before = counts()
    with change_flags(cxx=str(tmp_path / "no-such-cc")):
        assert not build.compiler_available()
        with pytest.raises(build.CompileError, match="no-such-cc.*not found"):
            load()
        x, y = T.dvector("x"), T.dvector("y")
        values = np.array([0.5, -1.0, 2.0]), np.array([1.0, 2.0, 3.0])
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            mode = theanolab.Mode(linker="c|py")
            f = theanolab.function([x, y], T.exp(x) * y + 1, mode=mode)
            g = theanolab.function([x], x.sum(), mode=mode)
            np.testing.assert_allclose(f(*values), np.exp(values[0]) * values[1] + 1)
            assert g(values[0]) == values[0].sum()
    messages = [str(w.message) for w in caught]
    assert len(messages) == 1 and "no C compiler" in messages[0] and "reference backend" in messages[0]
    assert delta(before) == (0, 0, 0)
    assert not compiledir.exists()


# Bundles (build.load_pieces): a function's missing kernels built together in few compiler runs, each
# kernel's entry linked to the bundle holding it, so later functions and processes reuse it.

def piece(i, body=None):
    name = f"tl_value_{i}"
    return build.Piece(name, f"int {name}(void);", body or f"int {name}(void) {{ return {i}; }}",
                       description=f"Elemwise{{value{i}}}")


def values(modules, indices):
    return [getattr(module.lib, f"tl_value_{i}")() for module, i in zip(modules, indices)]


def bundle_entries(compiledir):
    """``(bundle entries, link entries)`` of the compiledir."""
    found = sorted(Path(compiledir, "c").glob("??/*"))
    return ([e for e in found if store.read_marker(e) is not None], [e for e in found if store.read_link(e)])


def test_missing_pieces_build_in_one_run_and_each_is_found_again_alone(compiledir):
    before = counts()
    modules = build.load_pieces([piece(i) for i in range(4)], bundles=1)
    assert values(modules, range(4)) == [0, 1, 2, 3] and len(set(map(id, modules))) == 1
    assert delta(before) == (1, 0, 0)
    bundles, links = bundle_entries(compiledir)
    assert len(bundles) == 1 and len(links) == 4
    assert {store.read_link(e) for e in links} == {bundles[0].name}
    listed = {info.description: info.status for info in store.entries("c")}
    assert listed[f"Elemwise{{value2}} (in bundle {bundles[0].name[:12]})"] == "complete"
    (description,) = [d for d in listed if d.startswith("bundle of 4: ")]
    assert all(f"Elemwise{{value{i}}}" in description for i in range(4)) and listed[description] == "complete"
    assert values(build.load_pieces([piece(3)]), [3]) == [3] and delta(before) == (1, 0, 1)
    build.forget_loaded()
    assert values(build.load_pieces([piece(2), piece(0)]), [2, 0]) == [2, 0]
    assert delta(before) == (1, 1, 1)  # one disk hit: the bundle, loaded once for both


def test_default_bundles_use_at_most_one_compiler_run_per_core(compiledir):
    before = counts()
    big = [piece(i, f"int tl_value_{i}(void) {{ /* {'x' * 20000} */ return {i}; }}") for i in range(8)]
    assert values(build.load_pieces(big), range(8)) == list(range(8))
    assert 1 <= delta(before)[0] <= (os.cpu_count() or 1)


def test_damaged_bundle_is_rebuilt(compiledir):
    build.load_pieces([piece(i) for i in range(3)], bundles=1)
    (bundle,), _ = bundle_entries(compiledir)
    library = store.read_marker(bundle)
    _replace(library, _half(library))
    build.forget_loaded()
    before = counts()
    assert values(build.load_pieces([piece(i) for i in range(3)], bundles=1), range(3)) == [0, 1, 2]
    assert delta(before) == (1, 0, 0) and store.read_marker(bundle) is not None  # the same bundle, rebuilt
    build.forget_loaded()
    assert values(build.load_pieces([piece(1)]), [1]) == [1] and delta(before) == (1, 1, 0)


def test_failing_piece_of_a_bundle_names_its_op_and_keeps_its_own_source(compiledir):
    broken = piece(7, "int tl_value_7(void) { return undeclared_thing_xyz; }")
    before = counts()
    with pytest.raises(build.CompileError) as info:
        build.load_pieces([piece(1), broken, piece(2)], bundles=1)
    assert info.value.description == "Elemwise{value7}" and "undeclared_thing_xyz" in str(info.value)
    kept = info.value.source_path.read_text()
    assert "undeclared_thing_xyz" in kept and "tl_value_1" not in kept
    assert delta(before)[0] == 4  # the bundle, then each piece alone
    assert values(build.load_pieces([piece(2), piece(1)]), [2, 1]) == [2, 1] and delta(before)[0] == 4


CVM = theanolab.Mode(linker="cvm", optimizer="fast_run")  # the mixed machine: kernels only, no driver


def kernels_function(outputs):
    x, y = T.dvectors("x", "y")
    return theanolab.function([x, y], outputs(x, y), mode=CVM)


def all_outputs(x, y):
    return [T.exp(x) + y, x * y, T.tanh(x) - y, (x ** 2).sum(), T.maximum(x, y) / 3]


def some_outputs(x, y):
    return [x * y, (x ** 2).sum()]


# A child process compiling ``some_outputs`` into the parent's cache, printing its counters.
FUNCTION_CHILD = textwrap.dedent("""
    import json, numpy as np, theanolab, theanolab.tensor as T
    from theanolab.backends.c import build
    x, y = T.dvectors("x", "y")
    f = theanolab.function([x, y], [x * y, (x ** 2).sum()], mode=theanolab.Mode(linker="cvm", optimizer="fast_run"))
    product, total = f(np.array([1.0, 2.0]), np.array([3.0, 4.0]))
    s = build.stats
    print(json.dumps({"value": [product.tolist(), float(total)], "runs": s.compiler_runs}))
""")


def test_function_kernels_build_cold_in_few_runs_and_later_functions_reuse_them(compiledir):
    before = counts()
    f = kernels_function(all_outputs)
    assert list(f.node_backends.values()).count("c") >= 5
    assert 1 <= delta(before)[0] <= 2, delta(before)  # a bundle per core at most, not one run per kernel
    a, b = np.array([0.5, -1.0, 2.0]), np.array([1.0, 2.0, -3.0])
    expected = [np.exp(a) + b, a * b, np.tanh(a) - b, (a ** 2).sum(), np.maximum(a, b) / 3]
    for got, want in zip(f(a, b), expected):
        np.testing.assert_allclose(got, want)
    runs = delta(before)[0]
    build.forget_loaded()
    g = kernels_function(some_outputs)
    assert delta(before)[0] == runs  # found through the links, from disk
    np.testing.assert_allclose(g(a, b)[0], a * b)
    child = subprocess.run([sys.executable, "-c", FUNCTION_CHILD], env=child_env(compiledir), capture_output=True,
                           text=True, timeout=120)
    assert child.returncode == 0, child.stderr
    assert json.loads(child.stdout) == {"value": [[3.0, 8.0], 5.0], "runs": 0}


# Children building the same bundle at once, after a start signal, printing their counters.
BUNDLE_CHILD = textwrap.dedent("""
    import json, os, sys, time
    from theanolab.backends.c import build
    ready, go = sys.argv[1:3]
    open(ready, "w").close()
    while not os.path.exists(go):
        time.sleep(0.002)
    pieces = [build.Piece(f"tl_value_{i}", f"int tl_value_{i}(void);", f"int tl_value_{i}(void) {{ return {i}; }}",
                          description=f"Elemwise{{value{i}}}") for i in range(3)]
    modules = build.load_pieces(pieces, bundles=1)
    s = build.stats
    print(json.dumps({"value": [getattr(m.lib, f"tl_value_{i}")() for i, m in enumerate(modules)],
                      "runs": s.compiler_runs, "disk": s.disk_hits}))
""")


def test_two_processes_building_one_bundle_at_once_run_the_compiler_once(compiledir, tmp_path):
    results = race(tmp_path, lambda ready, go: subprocess.Popen(
        [sys.executable, "-c", BUNDLE_CHILD, ready, go], env=child_env(compiledir),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    assert [r["value"] for r in results] == [[0, 1, 2], [0, 1, 2]]
    assert sum(r["runs"] for r in results) == 1 and sum(r["disk"] for r in results) == 1
    bundles, links = bundle_entries(compiledir)
    assert len(bundles) == 1 and len(links) == 3 and leftovers(bundles[0]) == []


def test_a_driver_and_a_blas_kernel_build_in_one_bundle(compiledir):
    """A whole-function driver (whole.h) and a BLAS kernel (blas.h) share one C file in a bundle: the
    headers must not define the same static function (they did: tl_out_of_memory), or every function
    with a matrix product paid a failed bundle, then one compiler run per piece."""
    A, B = T.dmatrices("A", "B")
    before = counts()
    f = theanolab.function([A, B], T.dot(A, B))
    assert f.one_c_function
    assert np.allclose(f(np.eye(2), np.ones((2, 3))), np.ones((2, 3)))
    assert [info.status for info in store.entries("c") if info.status != "complete"] == []
    assert delta(before)[0] <= 2  # the runtime and one bundle, built side by side
