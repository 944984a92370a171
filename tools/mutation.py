"""Mutation testing of the sans-I/O modules with mutmut (issue 12; not run by CI).

    .venv/bin/pip install mutmut==3.8.1   (pyproject.toml's extra "mutation")
    .venv/bin/python tools/mutation.py [--max-children N] [--again | --report | --survivors] [module ...]

pyproject.toml's [tool.mutmut] says what is mutated (parser, chunked, framing, websocket,
post_parser) and which fast CPython tests may kill a mutant (tests/unit, the hypothesis tests
of the parser and the WebSocket codec, with a fixed seed). mutmut copies the checkout into
mutants/, makes every mutant of every function, and runs for each one only the tests that
call the mutated function (it records them in a first, clean run). This script runs mutmut
on the modules named (all by default) and prints, per module, the mutants, how they ended
and the score: killed (a test failed, or the mutant ran out of time) over all mutants.
A run starts afresh (mutants/ is removed first). --again tries once more only the mutants
the last run left alive (after new tests were written: mutmut keeps its other verdicts);
--report only prints the table of the last run; --survivors prints each mutant left alive
as the lines it changes (`.venv/bin/mutmut show NAME` gives one whole). docs/mutation.md
explains the ones the tests leave alive. About 35 minutes for all modules on 2 free cores.
"""
import fnmatch
import json
import os
import re
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODULES = ("parser", "chunked", "framing", "websocket", "post_parser", "post_pairs")
BIN = os.path.dirname(sys.executable)
DOC = os.path.join(ROOT, "docs", "mutation.md")
ALIVE = ("survived", "no tests", "suspicious", "not checked")


def explained():
    """The mutants docs/mutation.md explains, as patterns: `parser.x_line_end__mutmut_4`,
    `parser.x__field__mutmut_{10,11}` (several numbers), `websocket.x__utf8_table__mutmut_*`."""
    try:
        with open(DOC, encoding="utf-8") as f:
            found = re.findall(r"`([a-z_]+\.[^`\s{]+__mutmut_)(\{[0-9,]+\}|[0-9*]+)`", f.read())
    except OSError:
        return []
    return [name + n for name, nums in found for n in nums.strip("{}").split(",")]


def _meta(module):
    return os.path.join(ROOT, "mutants", "mhd_micro", module + ".py.meta")


def statuses(module):
    """{mutant name: status} of the last run's mutants of mhd_micro/<module>.py."""
    from mutmut.stats import status_by_exit_code
    with open(_meta(module)) as f:
        codes = json.load(f)["exit_code_by_key"]
    return {k: status_by_exit_code[c] for k, c in codes.items()}


def counts(module):
    out = {}
    for s in statuses(module).values():
        out[s] = out.get(s, 0) + 1
    return out


def again(modules):
    """Forget the verdicts of the mutants left alive, so that the next run tries them again."""
    for m in modules:
        with open(_meta(m)) as f:
            meta = json.load(f)
        alive = [k for k, s in statuses(m).items() if s not in ("killed", "timeout")]
        for k in alive:
            meta["exit_code_by_key"][k] = None
        with open(_meta(m), "w") as f:
            json.dump(meta, f)


def survivors(modules):
    from mutmut.__main__ import get_diff_for_mutant
    os.chdir(ROOT)
    for m in modules:
        for k, s in statuses(m).items():
            if s in ("killed", "timeout", "not checked"):
                continue
            diff = get_diff_for_mutant(k, path="mhd_micro/%s.py" % m).splitlines()
            print("%s [%s]" % (k, s))
            for line in diff:
                if line[:1] in "+-" and line[:3] not in ("+++", "---"):
                    print("    " + line)


def table(modules):
    cols = ("killed", "timeout", "survived", "no tests", "suspicious", "not checked")
    print("| module | mutants | " + " | ".join(cols) + " | score |")
    print("|---" * (len(cols) + 3) + "|")
    known = explained()
    unexplained = []
    for m in modules:
        for k, s in statuses(m).items():
            short = k[len("mhd_micro."):]
            if s in ALIVE and not any(fnmatch.fnmatchcase(short, pat) for pat in known):
                unexplained.append(short)
        c = counts(m)
        n = sum(c.values())
        dead = c.get("killed", 0) + c.get("timeout", 0)
        rest = [c.get(k, 0) for k in cols]
        other = n - sum(rest)  # segfault, skipped...: shown so the rows add up
        print("| %s | %d | %s | %.1f %% |" % (m, n, " | ".join(str(x) for x in rest), 100.0 * dead / n if n else 0)
              + (" (other: %d)" % other if other else ""))
    print("%d mutants left alive and not explained in docs/mutation.md%s" % (len(unexplained), ":" if unexplained else ""))
    for k in unexplained:
        print("    " + k)


def main(argv):
    children = "2"
    mode = None
    modules = []
    while argv:
        a = argv.pop(0)
        if a == "--max-children":
            children = argv.pop(0)
        elif a in ("--again", "--report", "--survivors"):
            mode = a
        elif a in MODULES:
            modules.append(a)
        else:
            sys.exit(__doc__)
    modules = modules or list(MODULES)
    if mode == "--survivors":
        return survivors(modules)
    if mode == "--again":
        again(modules)
    elif mode is None:
        shutil.rmtree(os.path.join(ROOT, "mutants"), ignore_errors=True)
    if mode != "--report":
        names = [] if len(modules) == len(MODULES) else ["mhd_micro.%s.*" % m for m in modules]
        subprocess.run([os.path.join(BIN, "mutmut"), "run", "--max-children", children] + names, cwd=ROOT,
                       check=True)
    table(modules)


if __name__ == "__main__":
    main(sys.argv[1:])
