// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <kvmprof/procfs.h>
#include <kvmprof/util.h>
#include "btf_kvm.h"
#include "probes.h"
#include "kvmprof.skel.h"

/* why a perf tracepoint's attach may be refused where raw_tp is not */
#define PERF_EACCES                                                   \
	" (a perf tracepoint: where perf_event_paranoid is 3, as on " \
	"Debian, it needs CAP_SYS_ADMIN at start)"

#define PROBE(tp, prog_name, k) { .name = tp, .prog = prog_name, .kind = k }
#define PROBE_ARM64(tp, prog_name, k, a, ak)                                \
	{ .name = tp, .prog = prog_name, .kind = k, .arm64_prog = a,         \
	  .arm64_kind = ak }

static const struct probe probe_table[] = {
	PROBE("kvm_userspace_exit", "kp_userspace_exit", "raw_tp"),
	PROBE("kvm_pio", "kp_pio", "raw_tp"),
	PROBE("kvm_mmio", "kp_mmio", "raw_tp"),
	PROBE("kvm_vcpu_wakeup", "kp_vcpu_wakeup", "raw_tp"),
	PROBE("kvm_halt_poll_ns", "kp_halt_poll_ns", "raw_tp"),
	PROBE("kvm_set_irq", "kp_set_irq", "raw_tp"),
	PROBE("kvm_msi_set_irq", "kp_msi_set_irq", "raw_tp"),
	PROBE_ARM64("kvm_exit", "kp_exit", "tracepoint", "kp_exit_raw",
		    "raw_tp"),
	PROBE("kvm_entry", "kp_entry", "raw_tp"),
	PROBE("kvm_try_async_get_page", "kp_apf_try", "raw_tp"),
	PROBE("kvm_async_pf_not_present", "kp_apf_not_present", "raw_tp"),
	PROBE("kvm_async_pf_ready", "kp_apf_ready", "raw_tp"),
	PROBE("kvm_async_pf_completed", "kp_apf_completed", "raw_tp"),
	PROBE("kvm_async_pf_repeated_fault", "kp_apf_repeated", "raw_tp"),
	/* kvmprof kernel patches (kernel-patches/), absent on stock kernels */
	PROBE("kvm_sysreg_dirty", "kp_sysreg_dirty", "raw_tp"),
	PROBE("kvm_sysreg_save_elided", "kp_sysreg_save_elided", "raw_tp"),
	PROBE("kvm_spe_copy_out", "kp_spe_copy_out", "raw_tp"),
	PROBE("kvm_spe_inject_bme", "kp_spe_inject_bme", "raw_tp"),
};

struct probes {
	struct kvmprof_bpf *skel;
	struct probe probe[ARRAY_SIZE(probe_table)];
	int exit_layout;
	struct bpf_link *tc_link;	/* kp_sched_switch */
	struct bpf_link *wake_link;	/* kp_sched_wakeup */
	char tc_state[96];
	char sched_state[96];
	char irqfd_state[96];
	uint64_t irqfd_inject; /* irqfd_inject()'s address, or 0 */
	uint32_t max_counters;
	int ncpus;
};

static bool in_list(const char *const *list, const char *name)
{
	for (; list && *list; list++)
		if (!strcmp(*list, name))
			return true;
	return false;
}

static bool tracepoint_exists(const char *tracefs, const char *name)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/events/kvm/%s", tracefs, name);
	/* with our capabilities: kvmprofd may run as a user with
	 * CAP_DAC_READ_SEARCH (systemd unit), and tracefs is 0700 root */
	return faccessat(AT_FDCWD, path, F_OK, AT_EACCESS) == 0;
}

/* Run kp_detect once: CO-RE tells us which kvm_exit layout this kernel has. */
static int detect_layout(struct probes *p)
{
	__u64 args[1] = { 0 };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .ctx_in = args,
		    .ctx_size_in = sizeof(args));
	int r;

	r = bpf_prog_test_run_opts(bpf_program__fd(p->skel->progs.kp_detect),
				   &opts);
	if (r < 0)
		return -errno;
	p->exit_layout = (int)p->skel->bss->kp_exit_layout;
	return 0;
}

/*
 * @ms in jiffies, at least 1.  The tick is the resolution of
 * CLOCK_MONOTONIC_COARSE (TICK_NSEC), which every kernel reports, whether
 * or not its configuration can be read; HZ 250 if even that fails.
 */
uint64_t probes_tc_max_age_jiffies(unsigned int ms)
{
	struct timespec res;
	uint64_t tick_ns = 4000000, j;

	if (!clock_getres(CLOCK_MONOTONIC_COARSE, &res) && !res.tv_sec &&
	    res.tv_nsec > 0)
		tick_ns = (uint64_t)res.tv_nsec;
	j = (uint64_t)ms * 1000000 / tick_ns;
	return j ? j : 1;
}

/*
 * sched_switch carries the count cache's flush at sched-out (@count_cache)
 * and, with sched_wakeup, the vCPU threads' run time, run delay and who ran
 * instead.  Either is reported off, with why, if its programs do not attach.
 */
static void attach_sched(struct probes *p, bool count_cache)
{
	const char *why = NULL;

	p->tc_link = bpf_program__attach(p->skel->progs.kp_sched_switch);
	if (!p->tc_link)
		why = "attaching to sched_switch";
	if (p->tc_link) {
		p->wake_link =
			bpf_program__attach(p->skel->progs.kp_sched_wakeup);
		if (!p->wake_link)
			why = "attaching to sched_wakeup";
	}
	if (why)
		snprintf(p->sched_state, sizeof(p->sched_state), "off: %s: %s",
			 why, strerror(errno));
	else
		snprintf(p->sched_state, sizeof(p->sched_state), "on");
	p->skel->bss->kp_sched_on = p->wake_link != NULL;
	if (!count_cache)
		snprintf(p->tc_state, sizeof(p->tc_state),
			 "off: disabled by configuration");
	else if (!p->tc_link)
		snprintf(p->tc_state, sizeof(p->tc_state),
			 "off: attaching to sched_switch: %s", strerror(errno));
	else
		snprintf(p->tc_state, sizeof(p->tc_state), "on");
	p->skel->bss->kp_tc_on = count_cache && p->tc_link;
}

int probes_open_load_attach(const struct probe_opts *opts,
			    struct probes **ret_p)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo);
	char btf_path[32];
	struct probes *p;
	int r, btf_fd = -1;

	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	memcpy(p->probe, probe_table, sizeof(probe_table));
	p->ncpus = libbpf_num_possible_cpus();
	if (p->ncpus <= 0) {
		r = p->ncpus ? p->ncpus : -EINVAL;
		goto fail;
	}
	/* kvm.ko's types without CAP_SYS_ADMIN (btf_kvm.h) */
	r = btf_kvm_merged("/sys/kernel/btf", &btf_fd);
	if (r > 0)
		snprintf(btf_path, sizeof(btf_path), "/proc/self/fd/%d",
			 btf_fd);
	else if (r < 0)
		goto fail;
	oo.btf_custom_path = btf_fd >= 0 ? btf_path : NULL;
	p->skel = kvmprof_bpf__open_opts(&oo);
	if (!p->skel) {
		r = -errno;
		goto fail;
	}
	p->max_counters = opts->max_counters ? opts->max_counters : 16384;
	r = bpf_map__set_max_entries(p->skel->maps.kp_counts, p->max_counters);
	if (!r && opts->spe_ring_bytes)
		r = bpf_map__set_max_entries(p->skel->maps.kp_spe_rb,
					     opts->spe_ring_bytes);
	if (r < 0)
		goto fail;
	if (opts->spe_wakeup_bytes)
		p->skel->rodata->kp_spe_wakeup_bytes = opts->spe_wakeup_bytes;
	p->skel->rodata->kp_tc_max_age_jiffies =
		probes_tc_max_age_jiffies(KP_TC_MAX_AGE_MS);
	/* irqfd kworkers' events go to their VM (core_fixes.bpf.h) */
	p->irqfd_inject = opts->irqfd_inject;
	r = opts->irqfd_inject ? 0 :
	    opts->irqfd_err    ? opts->irqfd_err :
				 -ENOENT;
	snprintf(p->irqfd_state, sizeof(p->irqfd_state), "%s%s",
		 r ? "off: irqfd_inject in /proc/kallsyms: " : "on",
		 r == -EPERM  ? "address hidden (kptr_restrict)" :
		 r == -EEXIST ? "ambiguous" :
		 r	      ? strerror(-r) :
				"");
	p->skel->rodata->kp_irqfd_inject_fn = p->irqfd_inject;

	for (size_t i = 0; i < ARRAY_SIZE(p->probe); i++) {
		struct probe *pr = &p->probe[i];
		struct bpf_program *prog =
			bpf_object__find_program_by_name(p->skel->obj, pr->prog);

		if (!prog) {
			r = -ENOENT;
			goto fail;
		}
		if (in_list(opts->disabled, pr->name)) {
			pr->state = PROBE_DISABLED;
			snprintf(pr->reason, sizeof(pr->reason),
				 "disabled by configuration");
		} else if (!tracepoint_exists(opts->tracefs, pr->name)) {
			pr->state = PROBE_UNAVAILABLE;
			snprintf(pr->reason, sizeof(pr->reason),
				 "tracepoint kvm:%s not in this kernel",
				 pr->name);
			if (opts->load_unavailable)
				continue;
		} else {
			continue;
		}
		bpf_program__set_autoload(prog, false);
		if (pr->arm64_prog)
			bpf_program__set_autoload(
				bpf_object__find_program_by_name(
					p->skel->obj, pr->arm64_prog),
				false);
	}

	r = kvmprof_bpf__load(p->skel);
	if (btf_fd >= 0)
		close(btf_fd);
	btf_fd = -1;
	if (r < 0)
		goto fail;
	for (size_t i = 0; i < ARRAY_SIZE(p->probe); i++) {
		struct bpf_program *prog = bpf_object__find_program_by_name(
			p->skel->obj, p->probe[i].prog);

		p->probe[i].loaded = bpf_program__fd(prog) >= 0;
	}
	r = detect_layout(p);
	if (r < 0)
		goto fail;
	/* both variants are loaded (the raw one can be test-run anywhere);
	 * the one for this kernel's layout is attached */
	for (size_t i = 0; i < ARRAY_SIZE(p->probe); i++) {
		struct probe *pr = &p->probe[i];

		if (pr->arm64_prog && p->exit_layout == KP_EXIT_LAYOUT_ARM64) {
			pr->prog = pr->arm64_prog;
			pr->kind = pr->arm64_kind;
		}
	}

	for (size_t i = 0; i < ARRAY_SIZE(p->probe); i++) {
		struct probe *pr = &p->probe[i];
		struct bpf_program *prog;

		if (pr->state != PROBE_PENDING)
			continue;
		pr->state = PROBE_FAILED;
		prog = bpf_object__find_program_by_name(p->skel->obj, pr->prog);
		if (!strcmp(pr->kind, "raw_tp"))
			pr->link = bpf_program__attach_raw_tracepoint(prog,
								      pr->name);
		else
			pr->link = bpf_program__attach_tracepoint(prog, "kvm",
								  pr->name);
		if (!pr->link) {
			bool perf = strcmp(pr->kind, "raw_tp");

			pr->err = -errno;
			snprintf(pr->reason, sizeof(pr->reason),
				 "attach failed: %s%s", strerror(errno),
				 perf && pr->err == -EACCES ? PERF_EACCES : "");
			continue;
		}
		pr->state = PROBE_ATTACHED;
		pr->reason[0] = '\0';
	}
	attach_sched(p, opts->count_cache);
	*ret_p = p;
	return 0;
fail:
	if (btf_fd >= 0)
		close(btf_fd);
	probes_destroy(p);
	return r;
}

void probes_destroy(struct probes *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < ARRAY_SIZE(p->probe); i++)
		bpf_link__destroy(p->probe[i].link);
	bpf_link__destroy(p->tc_link);
	bpf_link__destroy(p->wake_link);
	kvmprof_bpf__destroy(p->skel);
	free(p);
}

const char *probe_state_name(enum probe_state s)
{
	switch (s) {
	case PROBE_ATTACHED:
		return "attached";
	case PROBE_UNAVAILABLE:
		return "unavailable";
	case PROBE_DISABLED:
		return "disabled";
	case PROBE_FAILED:
		return "failed";
	default:
		return "pending";
	}
}

/* The accessors below take NULL: no BPF (bpf = no) */
size_t probes_count(const struct probes *p)
{
	return p ? ARRAY_SIZE(p->probe) : 0;
}

const struct probe *probes_get(const struct probes *p, size_t i)
{
	return i < ARRAY_SIZE(p->probe) ? &p->probe[i] : NULL;
}

int probes_exit_layout(const struct probes *p)
{
	return p ? p->exit_layout : 0;
}

const char *probes_count_cache(const struct probes *p)
{
	return p ? p->tc_state : "off";
}

void probes_find_irqfd(struct probe_opts *o)
{
	o->irqfd_err = kp_kallsyms_addr("/proc/kallsyms", "irqfd_inject",
					&o->irqfd_inject);
}

const char *probes_irqfd(const struct probes *p)
{
	return p ? p->irqfd_state : "off";
}

const char *probes_sched(const struct probes *p)
{
	return p ? p->sched_state : "off";
}

int probes_prog_stats(const struct probes *p, size_t i, uint64_t *ret_cnt,
		      uint64_t *ret_ns)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);
	struct bpf_program *prog;
	int fd;

	*ret_cnt = *ret_ns = 0;
	if (i >= ARRAY_SIZE(p->probe) || !p->probe[i].loaded)
		return -ENOENT;
	prog = bpf_object__find_program_by_name(p->skel->obj, p->probe[i].prog);
	fd = bpf_program__fd(prog);
	if (fd < 0)
		return -ENOENT;
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	*ret_cnt = info.run_cnt;
	*ret_ns = info.run_time_ns;
	return 0;
}

int probes_drops(const struct probes *p, uint64_t ret_drops[KP_DROP_MAX])
{
	int fd = p ? bpf_map__fd(p->skel->maps.kp_drops) : -1;
	uint64_t *vals;

	if (fd < 0)
		return -ENODEV;
	vals = calloc((size_t)p->ncpus, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	for (__u32 k = 0; k < KP_DROP_MAX; k++) {
		ret_drops[k] = 0;
		if (bpf_map_lookup_elem(fd, &k, vals))
			continue;
		for (int c = 0; c < p->ncpus; c++)
			ret_drops[k] += vals[c];
	}
	free(vals);
	return 0;
}

int probes_snapshot(const struct probes *p, struct kp_count **ret_arr,
		    size_t *ret_n)
{
	int fd = bpf_map__fd(p->skel->maps.kp_counts);
	struct kp_key key, next, *prev = NULL;
	struct kp_count *arr;
	uint64_t *vals;
	size_t n = 0;

	/* The map never holds more than max_entries: that bounds us. */
	arr = calloc(p->max_counters, sizeof(*arr));
	vals = calloc((size_t)p->ncpus, sizeof(*vals));
	if (!arr || !vals) {
		free(arr);
		free(vals);
		return -ENOMEM;
	}
	while (n < p->max_counters && !bpf_map_get_next_key(fd, prev, &next)) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, vals))
			continue;	/* deleted meanwhile */
		arr[n].key = key;
		arr[n].value = 0;
		for (int c = 0; c < p->ncpus; c++)
			arr[n].value += vals[c];
		n++;
	}
	free(vals);
	*ret_arr = arr;
	*ret_n = n;
	return 0;
}

int probes_delete_keys(const struct probes *p, const struct kp_count *c,
		       size_t n)
{
	int fd = bpf_map__fd(p->skel->maps.kp_counts);
	int ret = 0;

	for (size_t i = 0; i < n; i++)
		if (bpf_map_delete_elem(fd, &c[i].key) && errno != ENOENT)
			ret = -errno;
	return ret;
}

uint32_t probes_max_counters(const struct probes *p)
{
	return p ? p->max_counters : 0;
}

int probes_counters_fd(const struct probes *p)
{
	return bpf_map__fd(p->skel->maps.kp_counts);
}

int probes_spe_fd(const struct probes *p)
{
	return bpf_map__fd(p->skel->maps.kp_spe_rb);
}

int probes_events_fd(const struct probes *p)
{
	return bpf_map__fd(p->skel->maps.kp_events);
}

/* Delete the async-PF tracking entries of the vCPUs of a VM that is gone. */
static int forget_vcpus(const struct probes *p, uint32_t tgid,
			uint64_t start_ns)
{
	int vfd = bpf_map__fd(p->skel->maps.kp_vcpu_vm);
	int tfd = bpf_map__fd(p->skel->maps.kp_apf_ts);
	__u64 ptrs[64], key, *prev = NULL, next;
	struct kp_apf_key pk, *aprev = NULL, anext;
	struct kp_vcpu_vm vm;
	size_t n = 0;

	/* bounded by the map size */
	while (n < 64 && !bpf_map_get_next_key(vfd, prev, &next)) {
		key = next;
		prev = &key;
		if (!bpf_map_lookup_elem(vfd, &key, &vm) && vm.tgid == tgid &&
		    vm.start_ns == start_ns)
			ptrs[n++] = key;
	}
	for (size_t i = 0; i < n; i++)
		bpf_map_delete_elem(vfd, &ptrs[i]);
	if (!n)
		return 0;
	while (!bpf_map_get_next_key(tfd, aprev, &anext)) {
		bool mine = false;

		for (size_t i = 0; i < n; i++)
			mine |= anext.vcpu_ptr == ptrs[i];
		if (mine) {
			bpf_map_delete_elem(tfd, &anext);
			continue;	/* go on from the same previous key */
		}
		pk = anext;
		aprev = &pk;
	}
	return n == 64 ? -EAGAIN : 0;
}

int probes_forget_vm(const struct probes *p, uint32_t tgid, uint64_t start_ns)
{
	struct kp_vm_key k = { .tgid = tgid, .start_ns = start_ns };
	int r;

	do
		r = forget_vcpus(p, tgid, start_ns);
	while (r == -EAGAIN);
	if (bpf_map_delete_elem(bpf_map__fd(p->skel->maps.kp_vms), &k) &&
	    errno != ENOENT)
		return -errno;
	return 0;
}
