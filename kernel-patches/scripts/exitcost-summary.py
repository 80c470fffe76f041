#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Summarise the serial logs of `make qemu-exitcost` (scripts/qemu-exitcost.sh).

Arguments: <configuration>=<serial log>..., configurations named
{base,patched}-{vhe,nvhe}[-{off,on}]. Each log holds "KP: exitcost hvc N T
mmio M U" lines, T and U the CLOCK_MONOTONIC nanoseconds of N and M exits,
which under -icount shift=0 are instruction counts. Checks that each boot ran
in the mode and with the elided set its name says, prints a table and one
"BENCH {json}" line per configuration and exit kind (median of all runs), and
writes those lines to --json. Exits 1 if a run did not check out.
"""
import argparse
import json
import re
import statistics
import sys

problems = []


def problem(msg):
    problems.append(msg)
    print("PROBLEM: " + msg, file=sys.stderr)


def kv(lines, key):
    out = []
    for line in lines:
        m = re.match(r"KP: %s ?(.*)$" % re.escape(key), line)
        if m:
            out.append(m.group(1).strip())
    return out


def parse(cfg, path, elide):
    with open(path, errors="replace") as f:
        lines = [l.rstrip("\r\n") for l in f]
    mode = " ".join(kv(lines, "mode"))
    # "Hyp nVHE mode initialized successfully" / "VHE mode initialized ..."
    want_mode = "nVHE" if "-nvhe" in cfg else "VHE"
    got_mode = "nVHE" if "nVHE mode initialized" in mode else \
        "VHE" if "VHE mode initialized" in mode else None
    if got_mode != want_mode:
        problem("%s: KVM mode is '%s', expected %s (%s)" % (cfg, mode, want_mode, path))
    shown = " ".join(kv(lines, "elide")).split()
    want = [r.upper() for r in elide.split(",")] if cfg.endswith("-on") else []
    if shown != want:
        problem("%s: elided set '%s', expected '%s'" % (cfg, " ".join(shown), " ".join(want)))
    for rc in kv(lines, "rc"):
        if rc != "0":
            problem("%s: vmm exitcost exited with %s (%s)" % (cfg, rc, path))
    runs = []
    for v in kv(lines, "exitcost"):
        m = re.match(r"hvc (\d+) (\d+) mmio (\d+) (\d+)$", v)
        if not m:
            problem("%s: bad exitcost line '%s'" % (cfg, v))
            continue
        nh, th, nm, tm = map(int, m.groups())
        runs.append((th / nh, tm / nm))
    if not runs:
        problem("%s: no exitcost runs in %s" % (cfg, path))
    return runs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--label", required=True)
    ap.add_argument("--elide", required=True)
    ap.add_argument("--json", required=True)
    ap.add_argument("logs", nargs="+")
    a = ap.parse_args()

    runs = {}
    for arg in a.logs:
        cfg, path = arg.split("=", 1)
        runs.setdefault(cfg, []).extend(parse(cfg, path, a.elide))

    med = {}
    bench = []
    for cfg, r in runs.items():
        if not r:
            continue
        for i, kind in enumerate(("hvc", "mmio")):
            vals = [x[i] for x in r]
            m = statistics.median(vals)
            med[(cfg, kind)] = m
            bench.append({"bench": "exit_cost", "config": cfg, "exit": kind,
                          "insns_per_exit_median": round(m, 1),
                          "min": round(min(vals), 1), "max": round(max(vals), 1),
                          "runs": len(vals), "source": a.label})

    print("Instructions per exit, median (min-max) of %s" % a.label)
    print("%-18s %24s %24s" % ("configuration", "HVC (KVM answers)", "MMIO (to the VMM)"))
    for cfg in runs:
        cells = []
        for i, kind in enumerate(("hvc", "mmio")):
            vals = [x[i] for x in runs[cfg]]
            cells.append("%.0f (%.0f-%.0f)" % (statistics.median(vals), min(vals), max(vals))
                         if vals else "-")
        print("%-18s %24s %24s" % (cfg, cells[0], cells[1]))
    for mode in ("vhe", "nvhe"):
        for kind in ("hvc", "mmio"):
            base = med.get(("base-" + mode, kind))
            off = med.get(("patched-%s-off" % mode, kind))
            on = med.get(("patched-%s-on" % mode, kind))
            if None in (base, off, on):
                continue
            d = {"bench": "exit_cost_delta", "mode": mode, "exit": kind,
                 "off_minus_base": round(off - base, 1), "on_minus_off": round(on - off, 1),
                 "source": a.label}
            bench.append(d)
            print("%s %s: elision off - base %+.0f, on - off %+.0f instructions per exit"
                  % (mode, kind, off - base, on - off))
    with open(a.json, "w") as f:
        for b in bench:
            f.write(json.dumps(b) + "\n")
    for b in bench:
        print("BENCH " + json.dumps(b))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
