#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Summarise the serial logs of `make qemu-bench` (scripts/qemu-bench.sh).

Arguments: <kernel>=<serial log>..., in boot order. Every measurement of the
L2 workload (qemu/apfbench.c) becomes one JSON line in --json, labelled with
the host kernel, boot, guest and configuration, and with the host's async PF
tracepoint counts and the guest driver's counters for that guest. Prints
"BENCH {json}" summary lines and a table. Exits 1 if a run did not check out.
"""
import argparse
import json
import random
import re
import statistics
import sys

EVENTS = ["kvm_try_async_get_page", "kvm_async_pf_not_present",
          "kvm_async_pf_ready", "kvm_async_pf_completed",
          "kvm_async_pf_repeated_fault"]
SHORT = {"kvm_try_async_get_page": "try_async", "kvm_async_pf_not_present": "not_present",
         "kvm_async_pf_ready": "ready", "kvm_async_pf_completed": "completed",
         "kvm_async_pf_repeated_fault": "repeated"}
CONFIGS = {
    "apf": "patched host, guest driver notified (async PF, other tasks run)",
    "hidden": "patched host, service hidden by the VMM (vCPU halts, IRQs end the halt)",
    "sync": "base host without the series (vCPU thread blocks in the fault)",
}

problems = []


def problem(msg):
    problems.append(msg)
    print("PROBLEM: " + msg, file=sys.stderr)


def parse_log(kernel, boot, path):
    """One dict per L2 guest run, with its measurements; the bare-metal runs."""
    vms = []
    vm = None
    marks = []
    bare = {"kernel": kernel, "boot": boot, "runs": [], "events": {}, "fails": 0}
    in_bare = False
    with open(path, errors="replace") as f:
        for line in f:
            line = line.rstrip("\r\n").replace("\r", "")
            if line == "KP: bare-begin":
                in_bare, vm = True, None
                continue
            if in_bare:
                m = re.match(r"^KP: bare-round (\d+) (\S+)$", line)
                if m:
                    bare["runs"].append({"round": int(m.group(1)), "irqs": m.group(2)})
                    continue
                m = re.match(r"^vmm: apf-touch pages (\d+) irqs (\S+) ns-per-page (\d+)$", line)
                if m and bare["runs"]:
                    bare["runs"][-1].update(pages=int(m.group(1)), ns_per_page=int(m.group(3)))
                    if m.group(2) != bare["runs"][-1]["irqs"]:
                        bare["fails"] += 1
                    continue
                m = re.match(r"^KP: bare-status (\d+)$", line)
                if m:
                    bare["fails"] += int(m.group(1)) != 0
                    continue
                m = re.match(r"^KP: bare-(kvm_\w+) (\d+)$", line)
                if m:
                    bare["events"][m.group(1)] = int(m.group(2))
                continue
            m = re.match(r"^KP: bench-vm (\d+) (\S+)$", line)
            if m:
                vm = {"kernel": kernel, "boot": boot, "vm": int(m.group(1)),
                      "config": m.group(2), "records": [], "events": {},
                      "driver": None, "counters": {}, "status": None, "fails": 0}
                vms.append(vm)
                marks = []
                continue
            if vm is None:
                continue
            m = re.search(r"BENCH (\{.*\})\s*$", line)
            if line.startswith("l2: ") and m:
                rec = json.loads(m.group(1))
                if rec.get("test") == "touch" and len(marks) >= 2:
                    # the doorbell writes just before and after the pass
                    rec["exits_per_page"] = round((marks[-1] - marks[-2]) / rec["pages"], 3)
                vm["records"].append(rec)
                continue
            m = re.search(r"BENCH-L2 driver (\S+)", line)
            if line.startswith("l2: ") and m:
                vm["driver"] = m.group(1)
                continue
            m = re.search(r"BENCH-L2 counters (.*)$", line)
            if line.startswith("l2: ") and m:
                f2 = m.group(1).split()
                vm["counters"] = {f2[i]: int(f2[i + 1]) for i in range(0, len(f2) - 1, 2)}
                continue
            m = re.match(r"^vmm: l2 mark \d+ exits (\d+)$", line)
            if m:
                marks.append(int(m.group(1)))
                continue
            if line.startswith("vmm: FAIL"):
                vm["fails"] += 1
                continue
            m = re.match(r"^KP: bench-status (\d+)$", line)
            if m:
                vm["status"] = int(m.group(1))
                continue
            m = re.match(r"^KP: bench-(kvm_\w+) (\d+)$", line)
            if m:
                vm["events"][m.group(1)] = int(m.group(2))
                continue
            m = re.match(r"^KP: bench-trace-lost (\d+)$", line)
            if m:
                vm["events"]["lost"] = int(m.group(1))
    return vms, bare


def spread(values, fmt="{:.2f}"):
    if not values:
        return "-"
    return (fmt + " [" + fmt + "-" + fmt + "]").format(
        statistics.median(values), min(values), max(values))


def boot_ci(a, b, n=2000, seed=1):
    """95% bootstrap interval of median(a) / median(b) - 1."""
    rnd = random.Random(seed)
    out = []
    for _ in range(n):
        ra = [rnd.choice(a) for _ in a]
        rb = [rnd.choice(b) for _ in b]
        out.append(statistics.median(ra) / statistics.median(rb) - 1)
    out.sort()
    return out[int(0.025 * n)], out[int(0.975 * n) - 1]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--label", required=True)
    ap.add_argument("--pages", type=int, required=True)
    ap.add_argument("--delay-ms", type=int, required=True)
    ap.add_argument("--json", required=True)
    ap.add_argument("logs", nargs="+")
    args = ap.parse_args()

    vms = []
    bares = []
    boots = {}
    for spec in args.logs:
        kernel, path = spec.split("=", 1)
        boots[kernel] = boots.get(kernel, 0) + 1
        got, bare = parse_log(kernel, boots[kernel], path)
        if not got:
            problem(f"{path}: no L2 guest ran")
        vms += got
        if not bare["runs"] or bare["fails"] or any("ns_per_page" not in r for r in bare["runs"]):
            problem(f"{path}: bare-metal touch runs missing or failed")
        if sum(bare["events"].values()):
            problem(f"{path}: bare-metal touch runs fired async PF tracepoints {bare['events']}")
        bares.append(bare)

    with open(args.json, "w") as out:
        for vm in vms:
            name = f"{vm['kernel']}-{vm['boot']} vm {vm['vm']} {vm['config']}"
            if vm["status"] != 0 or vm["fails"]:
                problem(f"{name}: VMM status {vm['status']}, {vm['fails']} failure line(s)")
            want_driver = "enabled" if vm["config"] == "apf" else "disabled"
            if vm["driver"] != want_driver:
                problem(f"{name}: guest driver {vm['driver']}, expected {want_driver}")
            if vm["events"].get("lost"):
                problem(f"{name}: lost trace events")
            for rec in vm["records"]:
                if rec.get("bad_pages"):
                    problem(f"{name}: round {rec['round']}: {rec['bad_pages']} page(s) read wrong")
                full = {"label": args.label, "kernel": vm["kernel"], "boot": vm["boot"],
                        "vm": vm["vm"], "config": vm["config"], **rec}
                out.write(json.dumps(full) + "\n")
            vm_line = {"label": args.label, "test": "vm", "kernel": vm["kernel"],
                       "boot": vm["boot"], "vm": vm["vm"], "config": vm["config"],
                       "events": vm["events"], "driver": vm["driver"],
                       "driver_counters": vm["counters"]}
            out.write(json.dumps(vm_line) + "\n")

        for bare in bares:
            for r in bare["runs"]:
                out.write(json.dumps({"label": args.label, "test": "bare-touch", "kernel": bare["kernel"],
                                      "boot": bare["boot"], **r}) + "\n")

    def recs(test, pred):
        return [r for vm in vms if pred(vm) for r in vm["records"] if r.get("test") == test]

    print(f"Asynchronous page faults, {args.label}")
    print(f"postcopy: 1 vCPU, compute task + task reading {args.pages} pages that the VMM "
          f"provides {args.delay_ms} ms each after the fault; compute work = 2 x its solo "
          f"rate x {args.pages * args.delay_ms} ms")
    print("values: median [min-max] over rounds; CPU times as the guest accounts them while the reads "
          "are outstanding (a vCPU stopped by the host on a fault is charged to the faulting task)")
    print()
    print(f"{'config':8} {'n':>3} {'compute CPU share %':>22} {'compute vs solo %':>22} "
          f"{'reader CPU ms/page':>20} {'reads ms':>18} {'makespan ms':>20} {'solo after/before':>18}")
    summary = []
    for cfg in CONFIGS:
        rs = recs("postcopy", lambda vm, c=cfg: vm["config"] == c)
        if not rs:
            continue
        cols = {
            "compute_cpu_share_pct": [100 * r["compute_cpu_ms"] / r["reads_ms"] for r in rs],
            "compute_vs_solo_pct": [r["compute_during_reads"] * 100 for r in rs],
            "reader_cpu_ms_per_page": [r["reader_cpu_ms"] / r["pages"] for r in rs],
            "reads_ms": [r["reads_ms"] for r in rs],
            "makespan_ms": [r["makespan_ms"] for r in rs],
            "max_page_ms": [r["max_page_ms"] for r in rs],
            "solo_rate_after_over_before": [r["solo_before_after"] for r in rs],
        }
        print(f"{cfg:8} {len(rs):3} {spread(cols['compute_cpu_share_pct'], '{:.0f}'):>22} "
              f"{spread(cols['compute_vs_solo_pct'], '{:.0f}'):>22} "
              f"{spread(cols['reader_cpu_ms_per_page'], '{:.1f}'):>20} {spread(cols['reads_ms'], '{:.0f}'):>18} "
              f"{spread(cols['makespan_ms'], '{:.0f}'):>20} {spread(cols['solo_rate_after_over_before']):>18}")
        summary.append({"summary": "postcopy", "config": cfg, "what": CONFIGS[cfg], "n": len(rs),
                        "ideal_makespan_ms": rs[0]["ideal_makespan_ms"],
                        **{k: {"median": statistics.median(v), "min": min(v), "max": max(v)}
                           for k, v in cols.items()}})
    ideal = recs("postcopy", lambda vm: True)
    if ideal:
        print(f"(the compute task alone needs {ideal[0]['ideal_makespan_ms']:.0f} ms for its work: the makespan "
              f"if it lost no time to the reads; plus the reads' time if it got nothing meanwhile)")
    print()
    print("host tracepoints and guest driver counters per L2 guest (median [min-max]):")
    for cfg in CONFIGS:
        gs = [vm for vm in vms if vm["config"] == cfg]
        if not gs:
            continue
        parts = [f"{SHORT[e]} {spread([vm['events'].get(e, 0) for vm in gs], '{:.0f}')}" for e in EVENTS]
        drv = ""
        if any(vm["counters"] for vm in gs):
            drv = "; driver " + ", ".join(
                f"{k} {spread([vm['counters'].get(k, 0) for vm in gs], '{:.0f}')}"
                for k in ("not_present", "ready", "sync"))
        print(f"  {cfg:8} ({len(gs)} guests): " + ", ".join(parts) + drv)
        summary.append({"summary": "events", "config": cfg, "guests": len(gs),
                        "events_median": {SHORT[e]: statistics.median([vm["events"].get(e, 0) for vm in gs])
                                          for e in EVENTS},
                        "driver_median": {k: statistics.median([vm["counters"].get(k, 0) for vm in gs])
                                          for k in ("not_present", "ready", "sync")}})
    print()

    print("touch: first touch of anonymous guest memory (no fault asynchronous); ns per page, "
          "median [min-max]")
    print(f"{'host':8} {'n':>3} {'fresh (stage-2 fault)':>24} {'resident (no stage-2)':>24} "
          f"{'difference':>22} {'exits/page fresh':>18} {'resident':>9}")
    touch = {}
    for kernel in ("patched", "base"):
        fresh, res, diff, ef, er = [], [], [], [], []
        for vm in vms:
            if vm["kernel"] != kernel:
                continue
            f = {r["round"]: r for r in vm["records"] if r.get("test") == "touch" and r["pass"] == "fresh"}
            p = {r["round"]: r for r in vm["records"] if r.get("test") == "touch" and r["pass"] == "resident"}
            for rnd in sorted(set(f) & set(p)):
                fresh.append(f[rnd]["ns_per_page"])
                res.append(p[rnd]["ns_per_page"])
                diff.append(f[rnd]["ns_per_page"] - p[rnd]["ns_per_page"])
                ef.append(f[rnd].get("exits_per_page", 0))
                er.append(p[rnd].get("exits_per_page", 0))
        if not fresh:
            continue
        touch[kernel] = {"fresh": fresh, "resident": res, "diff": diff}
        print(f"{kernel:8} {len(fresh):3} {spread(fresh, '{:.0f}'):>24} {spread(res, '{:.0f}'):>24} "
              f"{spread(diff, '{:.0f}'):>22} {spread(ef):>18} {spread(er):>9}")
        summary.append({"summary": "touch", "kernel": kernel, "n": len(fresh),
                        "fresh_ns_per_page": {"median": statistics.median(fresh), "min": min(fresh), "max": max(fresh)},
                        "resident_ns_per_page": {"median": statistics.median(res), "min": min(res), "max": max(res)},
                        "stage2_ns_per_fault": {"median": statistics.median(diff), "min": min(diff), "max": max(diff)},
                        "fresh_exits_per_page": {"median": statistics.median(ef), "min": min(ef), "max": max(ef)},
                        "resident_exits_per_page": {"median": statistics.median(er), "min": min(er), "max": max(er)}})
        if min(ef) < 0.8:
            problem(f"touch on {kernel}: a fresh pass took only {min(ef):.2f} exits per page "
                    "(pages the host had provided already?)")
    if "patched" in touch and "base" in touch:
        for key, what in (("fresh", "per first-touch page"), ("diff", "per stage-2 fault (fresh - resident)"),
                          ("resident", "per resident page (control)")):
            a, b = touch["patched"][key], touch["base"][key]
            rel = statistics.median(a) / statistics.median(b) - 1
            lo, hi = boot_ci(a, b)
            verdict = "within noise" if lo <= 0 <= hi else "outside noise"
            print(f"patched vs base, {what}: {rel * 100:+.1f} % (95% bootstrap interval "
                  f"{lo * 100:+.1f} % to {hi * 100:+.1f} %: {verdict})")
            summary.append({"summary": "touch-relative", "what": key, "patched_vs_base_pct": rel * 100,
                            "ci95_pct": [lo * 100, hi * 100], "verdict": verdict})
        # Per boot pair: the patched boot's median against the base boot's that followed it
        pairs = []
        for b in sorted({vm["boot"] for vm in vms}):
            a = [r["ns_per_page"] for r in recs("touch", lambda vm, b=b: vm["kernel"] == "patched" and vm["boot"] == b)
                 if r["pass"] == "fresh"]
            c = [r["ns_per_page"] for r in recs("touch", lambda vm, b=b: vm["kernel"] == "base" and vm["boot"] == b)
                 if r["pass"] == "fresh"]
            if a and c:
                pairs.append(statistics.median(a) / statistics.median(c) - 1)
        if pairs:
            print("patched vs base, fresh, per boot pair: " + ", ".join(f"{p * 100:+.1f} %" for p in pairs))
            summary.append({"summary": "touch-boot-pairs", "fresh_patched_vs_base_pct": [p * 100 for p in pairs]})
    print()

    # Bare-metal guests on one host boot: IRQs unmasked vs masked, paired by round
    print("bare-metal guest, first write to fresh anonymous pages (no fault asynchronous); "
          "ns per page, median [min-max]")
    print(f"{'host':8} {'n':>3} {'IRQs unmasked':>24} {'IRQs masked':>24} {'unmasked vs masked, paired':>30}")
    for kernel in ("patched", "base"):
        un, ma, rel = [], [], []
        for bare in bares:
            if bare["kernel"] != kernel:
                continue
            by = {}
            for r in bare["runs"]:
                if "ns_per_page" in r:
                    by.setdefault(r["round"], {})[r["irqs"]] = r["ns_per_page"]
            for rnd in sorted(by):
                if len(by[rnd]) == 2:
                    un.append(by[rnd]["unmasked"])
                    ma.append(by[rnd]["masked"])
                    rel.append(100 * (by[rnd]["unmasked"] / by[rnd]["masked"] - 1))
        if not rel:
            continue
        rnd = random.Random(1)
        meds = sorted(statistics.median([rnd.choice(rel) for _ in rel]) for _ in range(2000))
        lo, hi = meds[50], meds[1949]
        verdict = "within noise" if lo <= 0 <= hi else "outside noise"
        if len(rel) < 6:
            verdict = "too few pairs for a verdict"
        print(f"{kernel:8} {len(rel):3} {spread(un, '{:.0f}'):>24} {spread(ma, '{:.0f}'):>24} "
              f"{spread(rel, '{:+.1f}') + ' %':>30}")
        print(f"         median of the paired differences {statistics.median(rel):+.1f} %, 95% bootstrap "
              f"interval {lo:+.1f} % to {hi:+.1f} %: {verdict}")
        summary.append({"summary": "bare-touch", "kernel": kernel, "pairs": len(rel),
                        "unmasked_ns_per_page": {"median": statistics.median(un), "min": min(un), "max": max(un)},
                        "masked_ns_per_page": {"median": statistics.median(ma), "min": min(ma), "max": max(ma)},
                        "unmasked_vs_masked_pct": {"median": statistics.median(rel), "min": min(rel),
                                                   "max": max(rel), "ci95": [lo, hi]},
                        "verdict": verdict})
    print()
    for s in summary:
        print("BENCH " + json.dumps({"label": args.label, **s}))
    if problems:
        print(f"{len(problems)} problem(s): see above", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
