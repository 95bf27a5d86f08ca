#!/usr/bin/python3
"""Runs one harness module (or one -k selection of it) for CTest, the way a
chapter shows it, and keeps a record of the run for the book test.

    run_module.py MODULE [-k EXPRESSION]

It runs `/usr/bin/python3 -m pytest -q -rs -p no:cacheprovider harness/MODULE
[-k EXPRESSION]` from the repository's root, passes on what pytest prints and
its exit status (77: some test skipped, see conftest.py), and, when
TCPIP_HARNESS_RUNS names a directory, writes there a record: the module, the
selection, the build tested (TCPIP_BUILD), the exit status, everything
printed, and when the run ended.

A chapter that shows `/usr/bin/python3 -m pytest -q harness/MODULE ...` would
otherwise make the suite run that module twice, once for CTest and once for
the book.  test_book.py takes such a block from the record of the same run
(same module, selection and build) when the record is newer than every file
the run depends on (recorded_run() below), and runs the command itself when
there is none.
"""
import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = "/usr/bin/python3"
# What a module's run depends on, beside the build's programs: a record older
# than any file in these is stale.
INPUT_DIRS = ("harness", "tools", "testvectors", "examples")


def record_path(runs_dir, module, selection):
    """The record file of module with -k selection ("" for none) in runs_dir."""
    name = module.removesuffix(".py")
    if selection:
        name += "--" + hashlib.sha256(selection.encode()).hexdigest()[:12]
    return Path(runs_dir) / f"{name}.json"


def newest_input(build):
    """The latest modification time of any file a harness run depends on:
    the files under INPUT_DIRS (not in caches or dot-directories) and the
    programs and C tests of build."""
    newest = 0.0
    tops = [ROOT / d for d in INPUT_DIRS] + [Path(build) / "bin", Path(build) / "lib" / "test"]
    for top in tops:
        for dirpath, dirnames, filenames in os.walk(top):
            dirnames[:] = [d for d in dirnames if d != "__pycache__" and not d.startswith(".")]
            for name in filenames:
                try:
                    newest = max(newest, os.stat(os.path.join(dirpath, name)).st_mtime)
                except FileNotFoundError:
                    pass  # removed while we looked: it cannot make a record stale
    return newest


def recorded_run(runs_dir, module, selection, build):
    """The record (a dict) of this run if there is one for the same module,
    selection and build, newer than every input; None otherwise."""
    path = record_path(runs_dir, module, selection)
    try:
        record = json.loads(path.read_text())
    except (FileNotFoundError, ValueError):
        return None
    same = (record.get("module") == module and record.get("selection") == selection
            and Path(record.get("build", "")).resolve() == Path(build).resolve())
    if not same or record.get("finished", 0) < newest_input(build):
        return None
    return record


def main(argv):
    """Runs the module; returns pytest's exit status."""
    if len(argv) not in (1, 3) or (len(argv) == 3 and argv[1] != "-k"):
        print("usage: run_module.py MODULE [-k EXPRESSION]", file=sys.stderr)
        return 2
    module, selection = argv[0], argv[2] if len(argv) == 3 else ""
    command = [PYTHON, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider",
               f"harness/{module}"] + (["-k", selection] if selection else [])
    run = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True)
    printed = []
    for line in run.stdout:
        sys.stdout.write(line)
        sys.stdout.flush()
        printed.append(line)
    status = run.wait()
    runs_dir = os.environ.get("TCPIP_HARNESS_RUNS")
    if runs_dir:
        build = os.environ.get("TCPIP_BUILD", str(ROOT / "build" / "asan-ubsan"))
        Path(runs_dir).mkdir(parents=True, exist_ok=True)
        record = {"module": module, "selection": selection, "build": build,
                  "returncode": status, "output": "".join(printed), "finished": time.time()}
        path = record_path(runs_dir, module, selection)
        partial = path.with_suffix(f".{os.getpid()}.part")  # another run may write it too
        partial.write_text(json.dumps(record))
        partial.replace(path)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
