"""Run testssl.sh (Debian's package: `apt-get install testssl.sh`, command `testssl`) against
mhd_micro's TLS server on CPython and report its findings by severity (docs/tls.md has the
last run's summary).

    python3 tools/tls_check.py [--fast] [--keep DIR] [--micropython]

Makes a throwaway CA and a server certificate for 127.0.0.1 signed by it (EC P-256), starts
tests/apps/app.py with them, runs `testssl --add-ca <the CA>` (so that the chain of trust is
judged as a real deployment's would be) and prints every finding of severity LOW or above,
then the count per severity. Exits 1 if any finding is HIGH or CRITICAL. The full run takes
about a minute and a half; --fast skips some checks. --micropython runs the server on the
MicroPython unix port (mbedTLS) instead. Not part of CI: it is slow and needs testssl.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ORDER = ("CRITICAL", "HIGH", "MEDIUM", "LOW", "WARN", "INFO", "OK", "DEBUG")


def openssl(*args):
    subprocess.run(["openssl"] + list(args), check=True, capture_output=True)


def make_certs(d):
    """A CA, and a server certificate for 127.0.0.1 and localhost that it signs."""
    ca_key, ca, key, csr, cert = (os.path.join(d, n) for n in ("ca.key", "ca.pem", "server.key", "server.csr", "server.pem"))
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    openssl("req", "-x509", *ec, "-keyout", ca_key, "-out", ca, "-days", "365", "-subj", "/CN=mhd_micro test CA",
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    openssl("req", "-new", *ec, "-keyout", key, "-out", csr, "-subj", "/CN=localhost")
    ext = os.path.join(d, "ext.cnf")
    with open(ext, "w") as f:
        # a deployment's certificate names where to check revocation: testssl reads the names
        # (it fetches nothing without --phone-out)
        f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n"
                "keyUsage=critical,digitalSignature\nbasicConstraints=CA:FALSE\n"
                "crlDistributionPoints=URI:http://127.0.0.1/ca.crl\n")
    openssl("x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial", "-out", cert,
            "-days", "365", "-extfile", ext)
    return ca, cert, key


def start_server(cert, key, micropython):
    python = [os.path.join(os.path.dirname(sys.executable), "micropython")] if micropython else [sys.executable, "-u"]
    p = subprocess.Popen(python + ["tests/apps/app.py", "--port", "0", "--cert", cert, "--key", key],
                         cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    line = p.stdout.readline()
    if "listening on port" not in line:
        p.kill()
        raise SystemExit("the server did not start: %r" % line)
    return p, int(line.split()[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--fast", action="store_true", help="testssl --fast")
    ap.add_argument("--micropython", action="store_true", help="run the server on MicroPython's unix port")
    ap.add_argument("--keep", help="write the certificates and testssl's JSON here (default: a temporary directory)")
    args = ap.parse_args()
    tool = shutil.which("testssl") or shutil.which("testssl.sh")
    if tool is None:
        raise SystemExit("testssl is not installed (apt-get install testssl.sh)")
    d = args.keep or tempfile.mkdtemp(prefix="tls_check.")
    os.makedirs(d, exist_ok=True)
    ca, cert, key = make_certs(d)
    server, port = start_server(cert, key, args.micropython)
    out = os.path.join(d, "testssl.json")
    if os.path.exists(out):
        os.unlink(out)
    cmd = [tool, "--quiet", "--color", "0", "--warnings", "batch", "--nodns", "none", "--add-ca", ca,
           "--jsonfile", out] + (["--fast"] if args.fast else []) + ["https://127.0.0.1:%d" % port]
    t0 = time.time()
    try:
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=900)
    finally:
        server.kill()
        server.communicate()
    with open(out) as f:
        findings = json.load(f)
    count = {}
    for sev in ORDER[:4]:
        for x in findings:
            if x.get("severity") == sev:
                print("%-8s %-28s %s" % (sev, x["id"], x["finding"]))
    for x in findings:
        count[x.get("severity")] = count.get(x.get("severity"), 0) + 1
    print("testssl on %s, %.0f s: %s" % ("https://127.0.0.1:%d" % port, time.time() - t0,
                                         ", ".join("%s %d" % (s, count[s]) for s in ORDER if s in count)))
    print("findings (JSON):", out)
    return 1 if count.get("HIGH") or count.get("CRITICAL") else 0


if __name__ == "__main__":
    sys.exit(main())
