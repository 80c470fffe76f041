// SPDX-License-Identifier: GPL-2.0-only
/* The table of counted events: see include/kvmprof/events.h. */
#include <stdarg.h>
#include <stdio.h>

#include <kvmprof/abi.h>
#include <kvmprof/events.h>
#include <kvmprof/kvmnames.h>
#include <kvmprof/util.h>

static int put(struct kp_ev_labels *l, int i, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int put(struct kp_ev_labels *l, int i, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(l->v[i], sizeof(l->v[i]), fmt, ap);
	va_end(ap);
	return 0;
}

static int put_str(struct kp_ev_labels *l, const char *s)
{
	snprintf(l->v[0], sizeof(l->v[0]), "%s", s);
	return 0;
}

/* names[sub], or the number when unnamed */
static int put_name(struct kp_ev_labels *l, const char *const *names, size_t n,
		    uint32_t sub)
{
	return sub < n && names[sub] ? put_str(l, names[sub]) :
				       put(l, 0, "%u", sub);
}

/* label values shown as 0 before any is counted (NULL-terminated) */
static const char *const pio_directions[] = { "out", "in", NULL };
static const char *const mmio_types[] = { "write", "read", "read_unsatisfied",
					  NULL };
static const char *const wakeup_results[] = { "waited", "polled", "invalid",
					      NULL };
static const char *const poll_directions[] = { "grow", "shrink", NULL };

static int dec_num(uint32_t sub, int layout, struct kp_ev_labels *l)
{
	return put(l, 0, "%u", sub);
}

static int dec_userspace_exit(uint32_t sub, int layout, struct kp_ev_labels *l)
{
	const char *n = kp_userspace_exit_name(sub);

	if (sub & KP_SUB_ERRNO)
		return put(l, 0, "errno_%u", sub & ~KP_SUB_ERRNO);
	return n ? put_str(l, n) : put(l, 0, "%u", sub);
}

static int dec_exit(uint32_t sub, int layout, struct kp_ev_labels *l)
{
	const char *n = kp_exit_reason_name(layout, sub);

	return n ? put_str(l, n) : put(l, 0, "%u", sub);
}

static int dec_pio(uint32_t sub, int layout, struct kp_ev_labels *l)
{
	put(l, 0, "0x%x", KP_PIO_SUB_PORT(sub));
	return put(l, 1, "%s", pio_directions[KP_PIO_SUB_RW(sub) ? 0 : 1]);
}

static int dec_mmio(uint32_t sub, int layout, struct kp_ev_labels *l)
{
	const char *n = kp_mmio_type_name(sub);

	return n ? put_str(l, n) : put(l, 0, "type_%u", sub);
}

/* kvm_vcpu_wakeup: sub = waited | valid << 1 */
static int dec_wakeup(uint32_t sub, int layout, struct kp_ev_labels *l)
{
	return put_name(l, wakeup_results, ARRAY_SIZE(wakeup_results),
			!(sub & 2) ? 2 :
			(sub & 1)  ? 0 :
				     1);
}

static int dec_grow(uint32_t sub, int layout, struct kp_ev_labels *l)
{
	return put_name(l, poll_directions, 2, sub ? 0 : 1);
}

static const char *const spe_reasons[] = {
	[KP_SPE_REASON_BUF_FULL] = "buffer_full",
	[KP_SPE_REASON_GUEST_STOP] = "guest_stop",
	[KP_SPE_REASON_VCPU_PUT] = "vcpu_put",
};
static const char *const spe_lost_causes[] = {
	[KP_SPE_LOST_RING_FULL] = "ring_full",
	[KP_SPE_LOST_TOO_LONG] = "too_long",
	[KP_SPE_LOST_FAULT] = "read_fault",
};

static int dec_spe_reason(uint32_t sub, int layout, struct kp_ev_labels *l)
{
	return put_name(l, spe_reasons, ARRAY_SIZE(spe_reasons), sub);
}

static int dec_spe_lost(uint32_t sub, int layout, struct kp_ev_labels *l)
{
	return put_name(l, spe_lost_causes, ARRAY_SIZE(spe_lost_causes), sub);
}

static int dec_ec(uint32_t sub, int layout, struct kp_ev_labels *l)
{
	return put(l, 0, "0x%02x", sub);
}

static int dec_hex(uint32_t sub, int layout, struct kp_ev_labels *l)
{
	return put(l, 0, "0x%x", sub);
}

/* sys_reg(op0, op1, CRn, CRm, op2) as arm64 names it: S3_0_C1_C0_0 */
static int dec_sysreg_name(uint32_t sub, int layout, struct kp_ev_labels *l)
{
	snprintf(l->v[0], sizeof(l->v[0]), "S%u_%u_C%u_C%u_%u", (sub >> 19) & 3,
		 (sub >> 16) & 7, (sub >> 12) & 15, (sub >> 8) & 15,
		 (sub >> 5) & 7);
	return 0;
}

/* clang-format off */
#define APF(ev, name) { .event = ev, .section = "async_pf", .total = name, \
	.family = "kvmprof_async_pf_total", \
	.help = "Asynchronous page fault events, by event", \
	.labels = { "event" } }

const struct kp_event_desc kp_events[] = {
	/* generic KVM tracepoints */
	{ .event = KP_EV_USERSPACE_EXIT, .section = "userspace_exits",
	  .total = "total", .by = "by_reason", .decode = dec_userspace_exit,
	  .family = "kvmprof_userspace_exits_total",
	  .help = "KVM_RUN returns to the VMM (kvm_userspace_exit), by "
		  "KVM_EXIT_* reason",
	  .labels = { "reason" }, .overflow = "reason=\"other\"" },
	{ .event = KP_EV_PIO, .section = "pio", .by = "ports",
	  .values = pio_directions, .decode = dec_pio,
	  .family = "kvmprof_pio_total",
	  .help = "Port I/O accesses (kvm_pio), by port and direction",
	  .labels = { "port", "direction" },
	  .overflow = "port=\"other\",direction=\"other\"" },
	{ .event = KP_EV_MMIO, .section = "mmio", .by = "",
	  .values = mmio_types, .decode = dec_mmio,
	  .family = "kvmprof_mmio_total",
	  .help = "MMIO accesses (kvm_mmio), by type",
	  .labels = { "type" }, .overflow = "type=\"other\"" },
	{ .event = KP_EV_VCPU_WAKEUP, .section = "halt_wakeups", .by = "",
	  .values = wakeup_results, .decode = dec_wakeup,
	  .family = "kvmprof_halt_wakeups_total",
	  .help = "Wake-ups from a halt (kvm_vcpu_wakeup), by result",
	  .labels = { "result" } },
	{ .event = KP_EV_WAKEUP_LAT, .hist = true, .section = "",
	  .by = "halt_ns_log2", .sum_section = "halt_wakeups",
	  .sum_key = "halt_ns_sum",
	  .family = "kvmprof_halt_duration_seconds",
	  .help = "Time a vCPU spent halted, per wake-up" },
	{ .event = KP_EV_HALT_POLL_NS, .section = "halt_poll_ns_changes",
	  .by = "", .values = poll_directions, .decode = dec_grow,
	  .family = "kvmprof_halt_poll_changes_total",
	  .help = "Halt-polling window changes (kvm_halt_poll_ns), by "
		  "direction",
	  .labels = { "direction" } },
	{ .event = KP_EV_EXIT, .section = "exits", .total = "total",
	  .by = "by_reason", .decode = dec_exit,
	  .family = "kvmprof_exits_total",
	  .help = "Guest exits to the host kernel (kvm_exit), by exit reason",
	  .labels = { "reason" }, .overflow = "reason=\"other\"" },
	{ .event = KP_EV_ENTRY, .section = "exits", .total = "entries",
	  .family = "kvmprof_entries_total",
	  .help = "Guest entries (kvm_entry)" },
	{ .event = KP_EV_EXIT_LAT, .hist = true, .section = "",
	  .by = "exit_to_entry_ns_log2", .sum_section = "exits",
	  .sum_key = "exit_to_entry_ns_sum",
	  .family = "kvmprof_exit_to_entry_seconds",
	  .help = "Time from a guest exit to the next entry of the vCPU" },
	{ .event = KP_EV_SET_IRQ, .vm_scope = true, .section = "irq",
	  .total = "set_irq", .by = "set_irq_by_gsi", .decode = dec_num,
	  .family = "kvmprof_irq_injections_total",
	  .help = "Interrupts injected by the VMM: GSI (kvm_set_irq) or MSI "
		  "(kvm_msi_set_irq)",
	  .labels = { "kind" }, .value = "gsi" },
	{ .event = KP_EV_MSI_SET_IRQ, .vm_scope = true, .section = "irq",
	  .total = "msi", .family = "kvmprof_irq_injections_total",
	  .labels = { "kind" } },
	/* async page faults */
	APF(KP_EV_APF_TRY, "try"),
	APF(KP_EV_APF_NOT_PRESENT, "not_present"),
	APF(KP_EV_APF_READY, "ready"),
	APF(KP_EV_APF_COMPLETED, "completed"),
	APF(KP_EV_APF_REPEATED, "repeated_fault"),
	{ .event = KP_EV_APF_LAT, .hist = true, .section = "async_pf",
	  .by = "not_present_to_ready_ns_log2", .sum_section = "async_pf",
	  .sum_key = "not_present_to_ready_ns_sum",
	  .family = "kvmprof_async_pf_latency_seconds",
	  .help = "Time from an async page fault (page not present) to the "
		  "page being ready" },
	/* completions no VM was found for: the registry counts them */
	{ .event = KP_EV_APF_UNATTRIBUTED },
	/* guest SPE (kvmprof kernel patches) */
	{ .event = KP_EV_SPE_COPY, .section = "spe_buffer",
	  .by = "copy_outs_by_reason", .decode = dec_spe_reason,
	  .family = "kvmprof_spe_copies_total",
	  .help = "SPE buffer copy-outs by KVM, by reason",
	  .labels = { "reason" } },
	{ .event = KP_EV_SPE_BYTES, .section = "spe_buffer",
	  .by = "bytes_by_reason", .decode = dec_spe_reason,
	  .family = "kvmprof_spe_bytes_total",
	  .help = "SPE bytes copied out by KVM, by reason",
	  .labels = { "reason" } },
	{ .event = KP_EV_SPE_COPY_ERR, .section = "spe_buffer",
	  .by = "copy_errors_by_errno", .decode = dec_num,
	  .family = "kvmprof_spe_copy_errors_total",
	  .help = "Failed SPE copy-outs, by errno",
	  .labels = { "errno" }, .overflow = "errno=\"other\"" },
	{ .event = KP_EV_SPE_LOST_BYTES, .vm_scope = true,
	  .section = "spe_buffer", .by = "lost_bytes_by_cause",
	  .decode = dec_spe_lost, .family = "kvmprof_spe_lost_bytes_total",
	  .help = "SPE bytes kvmprof could not capture, by cause",
	  .labels = { "cause" } },
	{ .event = KP_EV_SPE_BME, .section = "spe_buffer", .by = "bme_by_ec",
	  .decode = dec_ec, .family = "kvmprof_spe_buffer_events_total",
	  .help = "SPE buffer management events injected, by PMBSR_EL1.EC",
	  .labels = { "ec" }, .overflow = "ec=\"other\"" },
	/* sysreg save elision (kvmprof kernel patches) */
	{ .event = KP_EV_SYSREG_DIRTY, .section = "sysreg",
	  .by = "write_traps_by_sysreg", .decode = dec_hex,
	  .prom_decode = dec_sysreg_name,
	  .family = "kvmprof_sysreg_dirty_total",
	  .help = "Guest writes to trapped system registers, by register",
	  .labels = { "sysreg" }, .overflow = "sysreg=\"other\"" },
	{ .event = KP_EV_SYSREG_ELIDED, .section = "sysreg",
	  .by = "saves_elided_by_bit", .decode = dec_num,
	  .family = "kvmprof_sysreg_saves_elided_total",
	  .help = "System register group saves elided, by group bit",
	  .labels = { "bit" }, .overflow = "bit=\"other\"" },
	/* sums of the histograms' values: sub = the histogram's event */
	{ .event = KP_EV_LAT_SUM },
	/* the scheduler's view of vCPU threads (sched_switch, sched_wakeup) */
	{ .event = KP_EV_VCPU_RUN, .section = "sched", .total = "run_ns",
	  .ns = true, .family = "kvmprof_vcpu_run_seconds_total",
	  .help = "Time the vCPU's thread ran on a host CPU" },
	{ .event = KP_EV_VCPU_DELAY, .section = "sched", .total = "delay_ns",
	  .ns = true, .family = "kvmprof_vcpu_delay_seconds_total",
	  .help = "Time the vCPU's thread was runnable but waited for a host "
		  "CPU (run delay: steal time as the guest sees it)" },
	/* who ran instead: the top host threads per vCPU in the API
	 * (daemon/steal.c); no family, a label per host thread is unbounded */
	{ .event = KP_EV_STOLEN_BY },
};
/* clang-format on */
const size_t kp_events_nr = ARRAY_SIZE(kp_events);
_Static_assert(ARRAY_SIZE(kp_events) == KP_EV_MAX - 1,
	       "kp_events[]: one row per enum kp_event");

const struct kp_event_desc *kp_event(uint32_t event)
{
	for (size_t i = 0; i < kp_events_nr; i++)
		if (kp_events[i].event == event)
			return &kp_events[i];
	return NULL;
}

int kp_event_labels(const struct kp_event_desc *d, uint32_t sub, int layout,
		    bool prom, struct kp_ev_labels *ret)
{
	int n = !d->labels[0] ? 0 : !d->labels[1] ? 1 : 2;
	kp_ev_decode_fn fn = d->decode;

	if (prom && (d->value || !d->decode)) {
		/* one value per event (families shared by several events) */
		if (n)
			put_str(ret, d->value ? d->value : d->total);
		return n;
	}
	if (prom && d->prom_decode)
		fn = d->prom_decode;
	if (!fn)
		return 0;
	if (fn(sub, layout, ret) < 0)
		return -1;
	return n ? n : 1;
}

const char *const kp_drop_names[KP_DROP_MAX] = {
	[KP_DROP_COUNTS_FULL] = "counters_map_full",
	[KP_DROP_EXIT_TS_FULL] = "exit_timestamps_full",
	[KP_DROP_VM_EVENT] = "vm_announcements",
	[KP_DROP_APF_TRACK] = "async_pf_tracking",
};
