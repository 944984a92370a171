# Runs the unit tests in tests/unit/ on MicroPython (or CPython) without pytest:
#   micropython tests/run_unit.py [module ...]
# Ends with "N passed, N failed"; exits 1 on any failure.
import gc
import os
import sys

sys.path.insert(0, ".")
sys.path.insert(0, "tests")
sys.path.insert(0, "tests/unit")
import microtest

names = sys.argv[1:] or sorted(n[:-3] for n in os.listdir("tests/unit") if n.startswith("test_") and n.endswith(".py"))
passed = failed = 0
for name in names:
    mod = __import__(name)
    p, f = microtest.run_module(mod)
    passed += p
    failed += f
    del mod  # each test module goes once it has run: on MicroPython's fixed heap, the ones
    sys.modules.pop(name, None)  # kept alive left no 64 KiB block for the WebSocket tests
    gc.collect()
print("%d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
