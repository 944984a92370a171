#!/usr/bin/env python3
"""Runs Autobahn|Testsuite's fuzzing client against a WebSocket server and sums up the report.

    python3 tools/autobahn.py ws://127.0.0.1:9001 [--cases 1.*,2.*] [--outdir DIR] [--agent NAME]

Installs wstest first if needed (tools/setup_autobahn.sh: a Python 2.7 virtualenv in a cache
directory, ../shared/reference/conformance-tools.md section 3). Runs the cases of sections 1 to
7 and 10 by default: framing, pings, reserved bits and opcodes, fragmentation, UTF-8, close
handshake, auto-fragmented messages; not 9 (limits and performance: messages up to 16 MiB)
nor 12 and 13 (permessage-deflate, which mhd_micro does not offer). Then it reads
reports/index.json and prints a count per behavior and every case that was not OK.

Exit status: 0 no case FAILED (NON-STRICT and INFORMATIONAL are allowed by RFC 6455's
"SHOULD"s); 1 a case FAILED or did not run; 2 wstest itself failed; 3 wstest cannot be
installed here (pyenv or its Python 2.7.18 is missing).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CASES = ["1.*", "2.*", "3.*", "4.*", "5.*", "6.*", "7.*", "10.*"]
PASSING = ("OK", "NON-STRICT", "INFORMATIONAL")


def wstest():
    """The path of wstest, installed if needed; exits 3 (no pyenv) or 2 (install failed)."""
    p = subprocess.run(["bash", os.path.join(ROOT, "tools", "setup_autobahn.sh")], stdout=subprocess.PIPE, text=True)
    if p.returncode == 3:
        sys.exit(3)
    if p.returncode != 0:
        sys.exit(2)
    return p.stdout.strip().splitlines()[-1]


def run(url, cases, outdir, agent, timeout):
    spec = {
        "outdir": os.path.join(outdir, "reports"),
        "servers": [{"agent": agent, "url": url}],
        "cases": cases,
        "exclude-cases": ["9.*", "12.*", "13.*"],
        "exclude-agent-cases": {},
    }
    path = os.path.join(outdir, "spec.json")
    with open(path, "w") as f:
        json.dump(spec, f)
    cmd = [wstest(), "-m", "fuzzingclient", "-s", path]
    t = time.time()
    p = subprocess.run(cmd, cwd=outdir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=timeout)
    index = os.path.join(outdir, "reports", "index.json")
    if p.returncode != 0 or not os.path.exists(index):
        print(p.stdout[-3000:])
        print("autobahn: wstest failed (exit %d)" % p.returncode)
        sys.exit(2)
    with open(index) as f:
        return json.load(f)[agent], time.time() - t


def summary(results):
    """(counts per behavior, the rows of cases not OK, whether any FAILED)."""
    counts = {}
    rows = []
    failed = False
    for case in sorted(results, key=lambda c: [int(x) for x in c.split(".")]):
        r = results[case]
        b, bc = r.get("behavior"), r.get("behaviorClose")
        counts[b] = counts.get(b, 0) + 1
        if b not in PASSING or bc not in PASSING:
            failed = True
        if b != "OK" or bc != "OK":
            rows.append((case, b, bc, r.get("remoteCloseCode")))
    return counts, rows, failed


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("url", help="the server, ws://127.0.0.1:PORT")
    ap.add_argument("--cases", default=",".join(CASES), help="comma-separated case patterns (default: %(default)s)")
    ap.add_argument("--outdir", help="where spec.json and reports/ go (default: a temporary directory)")
    ap.add_argument("--agent", default="mhd_micro", help="the server's name in the report")
    ap.add_argument("--timeout", type=float, default=300, help="seconds wstest may take")
    a = ap.parse_args()
    outdir = a.outdir or tempfile.mkdtemp(prefix="autobahn-")
    os.makedirs(outdir, exist_ok=True)
    results, took = run(a.url, a.cases.split(","), outdir, a.agent, a.timeout)
    counts, rows, failed = summary(results)
    print("Autobahn|Testsuite fuzzingclient against %s: %d cases in %.1f s" % (a.url, len(results), took))
    print("| behavior | cases |\n|---|---:|")
    for b in sorted(counts):
        print("| %s | %d |" % (b, counts[b]))
    if rows:
        print("\nnot OK (case, behavior, closing behavior, the server's close code):")
        for row in rows:
            print("  %s %s %s %s" % row)
    if not results:
        failed = True
    print("\nreport: %s" % os.path.join(outdir, "reports", "index.html"))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
