#!/usr/bin/env python3
"""The heap budget of a board config: how many connections of which size fit, and the table.

    python tools/budget.py --board esp32           # prints the arithmetic (boards/*/README.md)
    python tools/budget.py --board rp2040 --check  # exit 1 if config.json disagrees with it

A config's "budget" object states the inputs (bytes, 32-bit board):
    heap              gc.mem_free() after boot with Wi-Fi up: what MicroPython gives us
    code              mhd_micro modules resident while serving, loaded from .mpy (frozen: ~0)
    board             main.py, wifi.mpy, app.mpy, the parsed config, the WLAN objects
    headroom_percent  of heap, for per-request temporaries and GC fragmentation
    slot_objects      per connection besides its buffer: Connection, Request, socket objects
    response_bytes    per pooled response
    socket_cap        most connections the board's lwIP can carry (see the board's README)
and the config's conn_memory and response_pool are chosen; then
    pools     = heap - code - board - headroom
    per slot  = conn_memory + conn_memory // 3 (header index) + slot_objects
    connections = min(socket_cap, (pools - response_pool * response_bytes) // per slot)
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import build  # noqa: E402


def compute(cfg):
    b = cfg["budget"]
    heap = b["heap"]
    headroom = heap * b["headroom_percent"] // 100
    pools = heap - b["code"] - b["board"] - headroom
    responses = cfg["response_pool"] * b["response_bytes"]
    size = cfg["conn_memory"]
    per_slot = size + size // 3 + b["slot_objects"]
    fit = (pools - responses) // per_slot
    conns = min(b["socket_cap"], fit)
    used = conns * per_slot + responses
    rows = [
        ("free heap after boot, Wi-Fi up (stated budget)", heap),
        ("mhd_micro code resident while serving (.mpy loaded into RAM)", -b["code"]),
        ("main.py, wifi.mpy, app.mpy, config, WLAN objects", -b["board"]),
        ("headroom %d%%: per-request temporaries, GC fragmentation" % b["headroom_percent"], -headroom),
        ("= left for the pools", pools),
        ("response pool: %d x %d" % (cfg["response_pool"], b["response_bytes"]), -responses),
        ("per connection: %d buffer + %d header index + %d objects = %d" % (
            size, size // 3, b["slot_objects"], per_slot), None),
        ("connections: min(lwIP cap %d, %d // %d = %d) = %d" % (
            b["socket_cap"], pools - responses, per_slot, fit, conns), -conns * per_slot),
        ("= spare for the application", pools - used),
    ]
    return {"connections": conns, "fit": fit, "per_slot": per_slot, "pools": pools, "used": used,
            "spare": pools - used, "headroom": headroom, "rows": rows}


def table(cfg):
    r = compute(cfg)
    lines = ["| item | bytes |", "|---|---:|"]
    for label, v in r["rows"]:
        lines.append("| %s | %s |" % (label, "" if v is None else "{:,}".format(v)))
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--board", required=True)
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args(argv)
    cfg, path = build.load_config(args.board)
    r = compute(cfg)
    print(table(cfg))
    if args.check and (cfg["connections"] != r["connections"] or r["spare"] < 0):
        print("%s: connections is %d, the budget gives %d" % (path, cfg["connections"], r["connections"]),
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
