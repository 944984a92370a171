#!/usr/bin/env python3
"""The heap budget of a board config: how many connections and buffers fit, and the table.

    python tools/budget.py --board esp32           # prints the arithmetic (boards/*/README.md)
    python tools/budget.py --board rp2040 --check  # exit 1 if config.json disagrees with it

A config's "budget" object states the inputs (bytes, 32-bit board):
    heap                gc.mem_free() after boot with Wi-Fi up: what MicroPython gives us
    code                mhd_micro modules resident while serving, loaded from .mpy (frozen: ~0)
    app_code            (with the config's default_app) that app's module and the mhd_micro
                        modules it loads, beyond the core: `tools/heap32.py --app PATH`, rounded up
    board               main.py, wifi.mpy, radio.mpy, app.mpy, the parsed config, the WLAN objects
    headroom_percent    of heap, for per-request temporaries and GC fragmentation
    connection_bytes    per connection: the Connection object and the socket's
    buffer_objects      per buffer besides its bytes and header index: Request, Action, views
    response_bytes      per pooled response
    socket_cap          most connections the board's lwIP can carry (see the board's README)
(`python3 tools/heap32.py` measures the objects on a 32-bit MicroPython) and the config's
conn_memory and response_pool are chosen; then
    pools       = heap - code - app_code - board - headroom
    connections = socket_cap
    per buffer  = conn_memory + conn_memory // 3 (header index) + buffer_objects
    buffers     = min(connections, (pools - responses - connections * connection_bytes) // per buffer)
Buffers are lent to the connections that have a request in progress
(D_OPTION_CONN_BUFFER_POOL_SIZE): with fewer buffers than connections, idle keep-alive
connections cost only their object.
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
    app = b.get("app_code", 0)
    pools = heap - b["code"] - app - b["board"] - headroom
    responses = cfg["response_pool"] * b["response_bytes"]
    size = cfg["conn_memory"]
    conns = b["socket_cap"]
    per_buffer = size + size // 3 + b["buffer_objects"]
    fit = (pools - responses - conns * b["connection_bytes"]) // per_buffer
    buffers = min(conns, fit)
    used = conns * b["connection_bytes"] + buffers * per_buffer + responses
    rows = [
        ("free heap after boot, Wi-Fi up (stated budget)", heap),
        ("mhd_micro code resident while serving (.mpy loaded into RAM)", -b["code"]),
    ]
    if app:
        rows.append(("the default app, %s, and the mhd_micro modules it loads" % cfg["default_app"], -app))
    rows += [
        ("main.py, wifi.mpy, radio.mpy, app.mpy, config, WLAN objects", -b["board"]),
        ("headroom %d%%: per-request temporaries, GC fragmentation" % b["headroom_percent"], -headroom),
        ("= left for the pools", pools),
        ("response pool: %d x %d" % (cfg["response_pool"], b["response_bytes"]), -responses),
        ("connections: the lwIP cap, %d x %d" % (conns, b["connection_bytes"]), -conns * b["connection_bytes"]),
        ("per buffer: %d bytes + %d header index + %d objects = %d" % (
            size, size // 3, b["buffer_objects"], per_buffer), None),
        ("buffers: min(%d connections, %d // %d = %d) = %d" % (
            conns, pools - responses - conns * b["connection_bytes"], per_buffer, fit, buffers), -buffers * per_buffer),
        ("= spare for the application", pools - used),
    ]
    return {"connections": conns, "buffers": buffers, "fit": fit, "per_buffer": per_buffer, "pools": pools,
            "used": used, "spare": pools - used, "headroom": headroom, "rows": rows}


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
    if args.check and (cfg["connections"] != r["connections"] or cfg.get("buffers", cfg["connections"]) != r["buffers"]
                       or r["spare"] < 0):
        print("%s: connections %d and buffers %d, the budget gives %d and %d" % (
            path, cfg["connections"], cfg.get("buffers", cfg["connections"]), r["connections"], r["buffers"]),
            file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
