#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""kvmprof inside a qemu-test boot: what it reported, against what is known.

    kvmprof-check.py <serial log> <output directory> <boot> <on|off|s1pie>

Takes from the serial log of one qemu-test boot (qemu/init):
  - the files the guest's kvmprof produced ("KPFILE <name> <md5> <lines>",
    "KPF: " lines, "KPFILE-END <name>"), checked against the MD5 the
    guest computed, and writes them to <output directory>;
  - the test VMM's own accounting ("vmm-json: {...}" lines), written to
    <output directory>/vmm.json keyed by VM name;
  - the tracefs counts the guest made ("KP: <key> <value>").
Then compares what kvmprofd reported (CLI JSON and Prometheus text) with the
VMM's accounting, the vCPU's binary stats (read by the VMM) and tracefs.
<on|off|s1pie>: whether the boot elides sysreg saves (on: MAIR_EL1 and
VBAR_EL1 among them; s1pie: the default set, PIR_EL1 and PIRE0_EL1, which
the guest writes too). Prints one line per check ("ok ..." or "FAIL ..."), then
"kvmprof <boot>: N checks, N failed"; exits 1 if any failed.
"""
import hashlib
import json
import os
import re
import sys

# tracepoints kvmprofd must have attached wherever the kernel has them
REQUIRED_TPS = [
    "kvm_userspace_exit", "kvm_mmio", "kvm_vcpu_wakeup", "kvm_set_irq",
    "kvm_exit", "kvm_entry", "kvm_sysreg_dirty", "kvm_sysreg_save_elided",
    "kvm_try_async_get_page", "kvm_async_pf_not_present",
    "kvm_async_pf_ready", "kvm_async_pf_completed",
    "kvm_async_pf_repeated_fault", "kvm_spe_copy_out", "kvm_spe_inject_bme",
]
APF_SCENARIOS = ["apf", "apf-masked", "apf-pv", "l2", "l2-kexec"]
# Write traps of the sysreg VM per elision mode, as qemu/init runs it:
# --mair 5 --vbar 3, and with kvmprof.s1pie=1 --pir 4 --pire0 2, whose
# rounds trap once each, or twice when an interrupt reloads the guest's
# context between their two writes (qemu-test.sh counts those from the
# exits' PCs): here, tracefs's count per register (None)
SYSREG_TRAPS = {
    "on": {"MAIR_EL1": 5, "VBAR_EL1": 3},
    "s1pie": {"PIR_EL1": None, "PIRE0_EL1": None, "MAIR_EL1": 0, "VBAR_EL1": 0},
}
APF_FIELDS = [("try", "kvm_try_async_get_page"),
              ("not_present", "kvm_async_pf_not_present"),
              ("ready", "kvm_async_pf_ready"),
              ("completed", "kvm_async_pf_completed"),
              ("repeated_fault", "kvm_async_pf_repeated_fault")]


class Check:
    def __init__(self, boot):
        self.boot = boot
        self.n = 0
        self.failed = 0

    def eq(self, what, got, want):
        self.n += 1
        if got == want:
            print(f"ok   {self.boot}: {what} = {got}")
        else:
            self.failed += 1
            print(f"FAIL {self.boot}: {what} = {got!r}, expected {want!r}")

    def true(self, what, cond, detail=""):
        self.n += 1
        if cond:
            print(f"ok   {self.boot}: {what}")
        else:
            self.failed += 1
            print(f"FAIL {self.boot}: {what}{': ' + detail if detail else ''}")


def parse_log(path, outdir, chk):
    kv, vmm, files = {}, {}, {}
    cur = None
    with open(path, "rb") as f:
        raw = f.read().decode("utf-8", "replace")
    for line in raw.split("\n"):
        line = line.rstrip("\r")
        if cur is not None:
            if line.startswith("KPF: ") or line == "KPF:":
                cur["lines"].append(line[5:])
                continue
            if line == "KPFILE-END " + cur["name"]:
                files[cur["name"]] = cur
                cur = None
            continue  # anything else inside a file: console noise
        m = re.match(r"^KPFILE (\S+) ([0-9a-f]{32}) (\d+)$", line)
        if m:
            cur = {"name": m.group(1), "md5": m.group(2),
                   "nl": int(m.group(3)), "lines": []}
            continue
        if line.startswith("vmm-json: "):
            try:
                o = json.loads(line[len("vmm-json: "):])
                vmm[o["name"]] = o
            except (ValueError, KeyError) as e:
                chk.true("VMM accounting line parses", False, f"{e}: {line}")
            continue
        m = re.match(r"^KP: (.*) (\S+)$", line)
        if m:
            kv[m.group(1)] = m.group(2)
    os.makedirs(outdir, exist_ok=True)
    for name, fl in sorted(files.items()):
        body = "\n".join(fl["lines"])
        data = None
        for cand in (body + "\n", body):
            if hashlib.md5(cand.encode()).hexdigest() == fl["md5"]:
                data = cand
                break
        chk.true(f"file {name} came through the console intact",
                 data is not None, f"MD5 mismatch ({len(fl['lines'])} lines)")
        with open(os.path.join(outdir, name), "w") as o:
            o.write(data if data is not None else body + "\n")
    with open(os.path.join(outdir, "vmm.json"), "w") as o:
        json.dump(vmm, o, indent=1, sort_keys=True)
    return kv, vmm, files


def load_json(outdir, name, chk):
    try:
        with open(os.path.join(outdir, name)) as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        chk.true(f"{name} is JSON", False, str(e))
        return None


def metrics(outdir, name):
    """{family: [(labels, value)]} of a Prometheus text exposition."""
    fams = {}
    try:
        f = open(os.path.join(outdir, name))
    except OSError:
        return None
    with f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            m = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)", line)
            if not m:
                continue
            labels = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(3) or ""))
            fams.setdefault(m.group(1), []).append((labels, float(m.group(4))))
    return fams


def msum(fams, fam, **want):
    return int(sum(v for lab, v in fams.get(fam, [])
                   if all(lab.get(k) == w for k, w in want.items())))


def vcpu0(view, section):
    """@section of vCPU 0 in a per-vCPU view ({"per_vcpu": [...]})."""
    for c in (view or {}).get("per_vcpu", []):
        if c.get("vcpu") == 0:
            return c.get(section)
    return None


def check_status(outdir, chk):
    st = load_json(outdir, "status.json", chk)
    if st is None:
        return
    chk.eq("status: kvm_exit layout", st.get("kvm_exit_layout"), "arm64")
    have = set()
    try:
        with open(os.path.join(outdir, "tracepoints.txt")) as f:
            have = {w for w in f.read().split() if not w.endswith(":")}
    except OSError:
        chk.true("tracepoints.txt present", False)
    probes = st.get("probes", [])
    for tp in REQUIRED_TPS:
        chk.true(f"kernel has tracepoint {tp}", tp in have)
        att = [p["name"] for p in probes
               if p.get("tracepoint") == tp and p.get("state") == "attached"]
        chk.true(f"status: a probe attached to {tp}", bool(att),
                 ", ".join(f"{p.get('name')}:{p.get('state')}:{p.get('reason', '')}"
                           for p in probes if p.get("tracepoint") == tp))
    for p in probes:
        if p.get("tracepoint") in have:
            chk.true(f"status: probe {p['name']} not failed",
                     p.get("state") != "failed", p.get("reason", ""))
        else:
            chk.eq(f"status: probe {p['name']} (no such tracepoint)",
                   p.get("state"), "unavailable")
    chk.eq("status: kvm_exit through the raw tracepoint (ESR_EL2.EC in its arguments)",
           [p.get("kind") for p in probes if p.get("tracepoint") == "kvm_exit"], ["raw_tp"])
    chk.true("kernel has tracepoint sched_switch", "sched_switch" in have)
    chk.eq("status: count cache (flushed at sched_switch)", st.get("count_cache"), "on")
    chk.eq("status: events lost", (st.get("lost") or {}).get("total"), 0)
    chk.eq("status: harvest errors", st.get("harvest_errors"), 0)


def check_sysreg(outdir, kv, vmm, elide, chk):
    acct = vmm.get("sysreg")
    chk.true("VMM accounting of the sysreg VM", acct is not None)
    if acct is None:
        return
    stats = acct["stats"]
    show = load_json(outdir, "sysreg-show.json", chk)
    sysreg = load_json(outdir, "sysreg-sysreg.json", chk)
    fams = metrics(outdir, "sysreg-metrics.txt")
    chk.true("sysreg-metrics.txt scraped", fams is not None)
    fams = fams or {}
    vc = vcpu0(show, "exits") or {}
    regs = {r["name"]: r for r in (vcpu0(sysreg, "registers") or [])}
    traps = {n: r.get("write_traps", 0) for n, r in regs.items()}
    elided = sum(r.get("saves_elided", 0) for r in regs.values())
    for name, n in SYSREG_TRAPS.get(elide, {}).items():
        if n is None:
            chk.eq(f"sysreg: {name} write traps = tracefs kvm_sysreg_dirty {name}",
                   traps.get(name, 0), int(kv.get(f"trace-dirty-{name}", -1)))
        else:
            chk.eq(f"sysreg: {name} write traps", traps.get(name, 0), n)
    chk.eq("sysreg: write traps = vCPU stat sysreg_write_traps",
           sum(traps.values()), stats.get("sysreg_write_traps"))
    chk.eq("sysreg: write traps = tracefs kvm_sysreg_dirty",
           sum(traps.values()), int(kv.get("trace-dirty", -1)))
    chk.eq("sysreg: saves elided = vCPU stat sysreg_saves_elided",
           elided, stats.get("sysreg_saves_elided"))
    chk.eq("sysreg: saves elided = tracefs kvm_sysreg_save_elided counts",
           elided, int(kv.get("trace-elided-sum", -1)))
    if elide == "off":
        chk.eq("sysreg: nothing trapped or elided", (sum(traps.values()), elided), (0, 0))
    chk.eq("metrics: kvmprof_sysreg_dirty_total",
           msum(fams, "kvmprof_sysreg_dirty_total", vm="sysreg"), sum(traps.values()))
    chk.eq("metrics: kvmprof_sysreg_saves_elided_total",
           msum(fams, "kvmprof_sysreg_saves_elided_total", vm="sysreg"), elided)

    # exits, by exception class, against tracefs and the vCPU's own stat
    want_ec = {k[len("trace-exit-ec "):]: int(v) for k, v in kv.items()
               if k.startswith("trace-exit-ec ")}
    chk.eq("exits: total = tracefs kvm_exit", vc.get("total"), int(kv.get("trace-exits", -1)))
    chk.eq("exits: total = vCPU stat exits", vc.get("total"), stats.get("exits"))
    chk.eq("exits: by exception class = tracefs", vc.get("by_reason"), want_ec)
    chk.true("exits: data aborts from a lower EL (the VMM's MMIO doorbells)",
             vc.get("by_reason", {}).get("DABT_LOW", 0) >= acct["exit_reasons"].get("MMIO", 0) > 0)
    chk.true("exits: HVC64 (PSCI SYSTEM_OFF)", vc.get("by_reason", {}).get("HVC64", 0) >= 1)
    chk.eq("exits: entries = tracefs kvm_entry", vc.get("entries"),
           int(kv.get("trace-entries", -1)))
    lat = vcpu0(show, "exit_to_entry_ns_log2") or []
    chk.eq("exits: exit-to-entry latency count = exits followed by an entry",
           sum(b.get("count", 0) for b in lat), int(kv.get("trace-exit-entry-pairs", -1)))
    ue = vcpu0(show, "userspace_exits") or {}
    chk.eq("userspace exits: total = the VMM's KVM_RUN calls", ue.get("total"),
           acct["kvm_run_calls"])
    want_ue = dict(acct["exit_reasons"])
    want_ue.update({f"errno_{k}": v for k, v in acct["errors"].items()})
    chk.eq("userspace exits: by reason = the VMM's accounting", ue.get("by_reason"), want_ue)
    chk.eq("metrics: kvmprof_exits_total", msum(fams, "kvmprof_exits_total", vm="sysreg"),
           vc.get("total"))
    chk.eq("metrics: kvmprof_exits_total{reason=DABT_LOW}",
           msum(fams, "kvmprof_exits_total", vm="sysreg", reason="DABT_LOW"),
           want_ec.get("DABT_LOW"))
    chk.eq("metrics: kvmprof_userspace_exits_total",
           msum(fams, "kvmprof_userspace_exits_total", vm="sysreg"), acct["kvm_run_calls"])
    chk.eq("metrics: kvmprof_entries_total", msum(fams, "kvmprof_entries_total", vm="sysreg"),
           vc.get("entries"))
    check_kvm_stats(outdir, stats, sum(traps.values()), elided, vc.get("total"), fams, chk)


def check_kvm_stats(outdir, stats, traps, elided, exits, fams, chk):
    """kvmprof kvm-stats: KVM's own vCPU stats, read by kvmprofd from the
    stats fd the VMM held (final after the VMM exited), against the VMM's
    own reading of them and what the BPF probes counted."""
    ks = load_json(outdir, "sysreg-kvm-stats.json", chk) or {}
    chk.eq("kvm-stats: state (read at exit from the VMM's stats fd)",
           (ks.get("state"), ks.get("reason")), ("final", ""))
    v0 = {}
    for c in ks.get("vcpus", []):
        if c.get("vcpu") == 0:
            v0 = {s["name"]: s for s in c.get("stats", [])}
    for name in ("sysreg_write_traps", "sysreg_saves_elided", "exits"):
        chk.eq(f"kvm-stats: {name} = the VMM's own reading",
               v0.get(name, {}).get("value"), stats.get(name))
        chk.eq(f"kvm-stats: {name} is a cumulative count",
               v0.get(name, {}).get("type"), "cumulative")
    chk.eq("kvm-stats: sysreg_write_traps = BPF write traps",
           v0.get("sysreg_write_traps", {}).get("value"), traps)
    chk.eq("kvm-stats: sysreg_saves_elided = BPF saves elided",
           v0.get("sysreg_saves_elided", {}).get("value"), elided)
    chk.eq("kvm-stats: exits = BPF exits", v0.get("exits", {}).get("value"), exits)
    vms = {s["name"]: s for s in ((ks.get("vm_stats") or {}).get("stats") or [])}
    chk.eq("kvm-stats: the VM's stats fd read (remote_tlb_flush, cumulative)",
           vms.get("remote_tlb_flush", {}).get("type"), "cumulative")
    chk.eq("metrics: kvmprof_kvm_vcpu_sysreg_write_traps_total",
           msum(fams, "kvmprof_kvm_vcpu_sysreg_write_traps_total", vm="sysreg"), traps)
    chk.eq("metrics: kvmprof_kvm_vcpu_exits_total",
           msum(fams, "kvmprof_kvm_vcpu_exits_total", vm="sysreg"), exits)


def check_apf(outdir, kv, vmm, name, chk):
    if f"{name}-status" not in kv:
        return False
    apf = vcpu0(load_json(outdir, f"{name}-apf.json", chk), "async_pf") or {}
    fams = metrics(outdir, f"{name}-metrics.txt") or {}
    total = 0
    for field, tp in APF_FIELDS:
        want = int(kv.get(f"{name}-{tp}", -1))
        chk.eq(f"{name}: async_pf.{field} (vCPU 0) = tracefs {tp}", apf.get(field), want)
        total += want
    if name == "apf-masked":
        chk.eq(f"{name}: no asynchronous fault", apf.get("not_present"), 0)
    elif name == "l2-kexec":
        # the 4 pages outstanding at the kexec never become ready
        chk.eq(f"{name}: 8 pages not present and completed, 4 ready",
               [apf.get(f) for f in ("try", "not_present", "ready", "completed")],
               [8, 8, 4, 8])
    else:
        chk.eq(f"{name}: 8 pages not present, ready and completed",
               [apf.get(f) for f in ("try", "not_present", "ready", "completed")], [8] * 4)
    chk.eq(f"metrics: kvmprof_async_pf_total{{vm={name}}}",
           msum(fams, "kvmprof_async_pf_total", vm=name), total)
    by = f"{name}-bystander"
    chk.true(f"{by}: ran alongside (KVM_RUN calls > 1)",
             vmm.get(by, {}).get("kvm_run_calls", 0) > 1)
    byshow = load_json(outdir, f"{by}-show.json", chk) or {}
    byexits = vcpu0(byshow, "exits") or {}
    chk.eq(f"{by}: exits counted = vCPU stat exits", byexits.get("total"),
           vmm.get(by, {}).get("stats", {}).get("exits"))
    byapf = [c.get("async_pf", {}) for c in byshow.get("per_vcpu", [])]
    chk.eq(f"{by}: no async page fault attributed to it",
           sum(a.get(f, 0) for a in byapf for f, _ in APF_FIELDS), 0)
    return True


def check_irqfd(outdir, kv, writes, chk):
    """Interrupts KVM injected from a kworker (irqfd_inject) are the VM's,
    at VM level: two kvm_set_irq (raise, lower) per run of the work, one
    run for 1 to @writes eventfd writes (writes while it is pending
    coalesce); none left unattributed."""
    if "irqfd-status" not in kv:
        chk.true("irqfd scenario ran", False)
        return
    chk.eq("irqfd: VMM status", kv["irqfd-status"], "0")
    show = load_json(outdir, "irqfd-show.json", chk) or {}
    irq = (show.get("vm_level") or {}).get("irq") or {}
    n = (irq.get("set_irq_by_gsi") or {}).get("5", 0)
    chk.true(f"irqfd: kvm_set_irq on GSI 5 at VM level, even, 2..{2 * writes}",
             n % 2 == 0 and 2 <= n <= 2 * writes, f"{n} for {writes} writes")
    chk.eq("irqfd: set_irq = GSI 5's", irq.get("set_irq"), n)
    chk.eq("irqfd: none under a vCPU",
           sum((c.get("irq") or {}).get("set_irq", 0) for c in show.get("per_vcpu", [])), 0)
    fams = metrics(outdir, "irqfd-metrics.txt") or {}
    chk.eq("metrics: kvmprof_irq_injections_total{vm=irqfd}",
           msum(fams, "kvmprof_irq_injections_total", vm="irqfd"), n)
    un = [((load_json(outdir, f"irqfd-status-{w}.json", chk) or {}).get("registry") or {})
          .get("events_unattributed") for w in ("before", "after")]
    chk.true("irqfd: no event left unattributed meanwhile",
             un[0] is not None and un[0] == un[1], f"{un[0]} before, {un[1]} after")


def check_dbgfs(outdir, kv, vmm, chk):
    """kvm-stats of a VMM that never opens a stats fd: read from KVM's
    debugfs files of the VM (per-VM sums), against those files read in the
    guest after the run. (Its accounting has no stats: reading them would
    open a stats fd, which kvmprofd may copy, as it did once.)"""
    acct = vmm.get("dbgfs")
    chk.true("VMM accounting of the dbgfs VM", acct is not None)
    if acct is None:
        return
    chk.eq("dbgfs: VMM status", kv.get("dbgfs-status"), "0")
    chk.eq("dbgfs: the VMM read no stats", acct.get("stats"), {})
    ks = load_json(outdir, "dbgfs-kvm-stats.json", chk) or {}
    chk.eq("dbgfs: kvm-stats source", ks.get("source"), "debugfs (per-VM sums)")
    chk.true("dbgfs: kvm-stats read", ks.get("state") in ("read", "final"),
             f"{ks.get('state')}: {ks.get('reason')}")
    got = {st["name"]: st.get("value")
           for st in ((ks.get("vm_stats") or {}).get("stats") or [])}
    for name in ("exits", "mmio_exit_user", "hvc_exit_stat", "wfi_exit_stat"):
        want = kv.get(f"dbgfs-debugfs-{name}")
        chk.eq(f"dbgfs: {name} = KVM's debugfs file", got.get(name),
               int(want) if want is not None else None)
    want = kv.get("dbgfs-debugfs-remote_tlb_flush")
    chk.eq("dbgfs: remote_tlb_flush (a VM statistic) = KVM's debugfs file",
           got.get("remote_tlb_flush"), int(want) if want is not None else None)


DASHBOARD = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                         "..", "..", "dist", "grafana", "kvmprof-dashboard.json")


def dashboard_exprs(node):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "expr" and isinstance(v, str):
                yield v
            else:
                yield from dashboard_exprs(v)
    elif isinstance(node, list):
        for v in node:
            yield from dashboard_exprs(v)


def check_dashboard(outdir, chk):
    """Every kvmprof metric the Grafana dashboard selects, KVM's own
    statistics included, was exported by this boot's kvmprofd (declared
    with # TYPE in one of its scrapes): its panels show real data on an
    arm64 host."""
    try:
        with open(DASHBOARD) as f:
            dash = json.load(f)
    except (OSError, ValueError) as e:
        chk.true("dashboard readable", False, str(e))
        return
    declared = set()
    for name in os.listdir(outdir):
        if name.endswith("metrics.txt"):
            with open(os.path.join(outdir, name)) as f:
                declared |= set(re.findall(r"^# TYPE (\S+) ", f.read(), re.M))
    used = set()
    for e in dashboard_exprs(dash):
        used |= set(re.findall(r"\b(kvmprof_[a-zA-Z0-9_]+)\s*[{\[]", e))
    fam = {u: re.sub(r"_(bucket|sum|count)$", "", u) for u in used}
    missing = sorted(u for u in used if u not in declared and fam[u] not in declared)
    chk.true(f"dashboard: the {len(used)} metrics it selects are exported",
             used and not missing, ", ".join(missing))
    kvm = sorted(u for u in used if u.startswith("kvmprof_kvm_"))
    chk.true(f"dashboard: KVM statistics panels ({len(kvm)} metrics) exported",
             kvm and all(u in declared or fam[u] in declared for u in kvm))


def summary(outdir, boot):
    """One line of what kvmprofd reported in this boot (qemu-test's results)."""
    def j(name):
        try:
            with open(os.path.join(outdir, name)) as f:
                return json.load(f)
        except (OSError, ValueError):
            return {}
    ex = vcpu0(j("sysreg-show.json"), "exits") or {}
    regs = {r["name"]: r for r in (vcpu0(j("sysreg-sysreg.json"), "registers") or [])}
    apf = vcpu0(j("apf-apf.json"), "async_pf") or {}
    st = j("status.json")
    attached = sum(1 for p in st.get("probes", []) if p.get("state") == "attached")
    by = ", ".join(f"{k} {v}" for k, v in sorted(ex.get("by_reason", {}).items()))
    traps = " ".join(f"{n} {regs.get(n, {}).get('write_traps', 0)}"
                     for n in ("MAIR_EL1", "VBAR_EL1", "PIR_EL1", "PIRE0_EL1")
                     if n in regs or n in ("MAIR_EL1", "VBAR_EL1"))
    return (f"{boot} kvmprofd: exits {ex.get('total')} ({by}); write traps {traps}, "
            f"saves elided {sum(r.get('saves_elided', 0) for r in regs.values())}; "
            f"apf try/not_present/ready/completed "
            f"{'/'.join(str(apf.get(k)) for k in ('try', 'not_present', 'ready', 'completed'))}; "
            f"{attached} probes attached, {(st.get('lost') or {}).get('total')} events lost")


def main():
    if len(sys.argv) != 5 or sys.argv[4] not in ("on", "off", "s1pie"):
        sys.exit(__doc__)
    log, outdir, boot, elide = sys.argv[1:5]
    chk = Check(boot)
    kv, vmm, files = parse_log(log, outdir, chk)
    chk.eq("kvmprofd started", kv.get("kvmprofd"), "ready")
    for k, v in sorted(kv.items()):
        if k.startswith("kvmprof-") and k.endswith("-status"):
            chk.eq(k, v, "0")
    check_status(outdir, chk)
    check_sysreg(outdir, kv, vmm, elide, chk)
    check_irqfd(outdir, kv, int(kv.get("irqfd-writes", 0)), chk)
    check_dbgfs(outdir, kv, vmm, chk)
    ran = [n for n in APF_SCENARIOS if check_apf(outdir, kv, vmm, n, chk)]
    chk.true("async PF scenarios ran", len(ran) >= 3, ", ".join(ran))
    check_dashboard(outdir, chk)
    print(summary(outdir, boot))
    print(f"kvmprof {boot}: {chk.n} checks, {chk.failed} failed "
          f"(files in {outdir}; scenarios sysreg irqfd dbgfs {' '.join(ran)})")
    sys.exit(1 if chk.failed else 0)


if __name__ == "__main__":
    main()
