// SPDX-License-Identifier: GPL-2.0-only
/*
 * Prometheus renderer against a registry built from known counters: exact
 * sample lines, exposition-format structure (every sample under its own
 * family's TYPE, families once, no duplicate series), histogram buckets,
 * VM naming rules, escaping, bounds.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <kvmprof/util.h>
#include "metrics.h"
#include "registry.h"
#include "fake_procs.h"
#include "spe_capture.h"


static void proc(int i, uint32_t pid, uint64_t start, int alive)
{
	procs[i].pid = pid;
	procs[i].start = start;
	procs[i].alive = alive;
}

static void harvest(struct registry *r, struct kp_count *snap, size_t n,
		    uint64_t now)
{
	struct kp_count *stale = NULL;
	size_t ns = 0;

	registry_mark_exited(r, now);
	assert_int_equal(registry_update(r, snap, n, now, &stale, &ns), 0);
	free(stale);
}

static void name_vm(struct registry *r, uint32_t pid, uint64_t start,
		    const char *name, uint64_t now)
{
	struct kp_vm_ident id = {};

	snprintf(id.name, sizeof(id.name), "%s", name);
	snprintf(id.vmm, sizeof(id.vmm), "qemu");
	snprintf(id.uuid, sizeof(id.uuid), "uuid-%u", pid);
	snprintf(id.scope_name, sizeof(id.scope_name), "scope%u", pid);
	assert_int_equal(registry_note_vm(r, pid, start, &id, now), 0);
}

static const struct metrics_probe probes[] = {
	{ "kvm_pio", "raw_tp", "attached", "", true, 12, 3400, false, false },
	{ "kvm_exit", "tracepoint", "unavailable",
	  "tracepoint kvm:kvm_exit \"x\" not in this kernel", false, 0, 0, true,
	  false },
	/* attached, but fires on no exit while others show them */
	{ "kvm_entry", "raw_tp", "attached", "", false, 0, 0, true, true },
};

static char *render(const struct registry *r, size_t max, int *ret)
{
	static const uint64_t drops[KP_DROP_MAX] = { 5, 0, 1, 0 };
	struct spe_capture_stats spe = { .chunks = 3, .bytes = 12288 };
	struct metrics_view v = {
		.reg = r,
		.exit_layout = KP_EXIT_LAYOUT_X86,
		.probes = probes,
		.nprobes = 3,
		.drops = drops,
		.spe = &spe,
		.harvests = 9,
		.max_counters = 1024,
		.bpf_stats = true,
		.version = "1.2",
		.libbpf_version = "v1.1",
		.start_time = 1700000000.5,
		.boot_time = 1600000000.0,
		.reloads_ok = 2,
		.last_reload_ok = true,
		.last_reload_ok_time = 1700000100.25,
	};
	char *text = NULL;
	size_t len = 0;

	*ret = metrics_render(&v, max, &text, &len);
	if (!*ret)
		assert_int_equal(strlen(text), len);
	return text;
}

static void has(const char *text, const char *line)
{
	char want[512];

	snprintf(want, sizeof(want), "\n%s\n", line);
	if (!strstr(text, want))
		fail_msg("missing line: %s\n--- output ---\n%s", line, text);
}

static void lacks(const char *text, const char *what)
{
	if (strstr(text, what))
		fail_msg("unexpected: %s", what);
}

/*
 * Structure of the text format: "# HELP n", "# TYPE n t", then only
 * samples of n (n, or n_bucket/n_count for histograms); each family once;
 * no series twice; label values are quoted; values parse as numbers.
 */
static void check_structure(const char *text)
{
	char *copy = strdup(text), *save = NULL, *line;
	char family[128] = "", type[16] = "", seen[8192] = " ";
	char **series = calloc(20000, sizeof(char *));
	size_t nseries = 0;

	assert_non_null(series);
	for (line = strtok_r(copy, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char name[128], want[140];
		const char *sp, *val;
		char *end;

		if (!strncmp(line, "# HELP ", 7)) {
			assert_int_equal(sscanf(line + 7, "%127s", family), 1);
			snprintf(want, sizeof(want), " %s ", family);
			if (strstr(seen, want))
				fail_msg("family %s twice", family);
			strncat(seen, want + 1, sizeof(seen) - strlen(seen) - 1);
			type[0] = '\0';
			continue;
		}
		if (!strncmp(line, "# TYPE ", 7)) {
			assert_int_equal(sscanf(line + 7, "%127s %15s", name,
						type), 2);
			assert_string_equal(name, family);
			continue;
		}
		assert_true(line[0] != '#');
		assert_true(type[0] != '\0');
		sp = strchr(line, '{') ? strchr(line, '{') : strchr(line, ' ');
		assert_non_null(sp);
		snprintf(name, sizeof(name), "%.*s", (int)(sp - line), line);
		if (!strcmp(type, "histogram")) {
			char b[140], c[140], sm[140];

			snprintf(b, sizeof(b), "%s_bucket", family);
			snprintf(c, sizeof(c), "%s_count", family);
			snprintf(sm, sizeof(sm), "%s_sum", family);
			if (strcmp(name, b) && strcmp(name, c) &&
			    strcmp(name, sm))
				fail_msg("%s under histogram %s", name, family);
		} else if (strcmp(name, family)) {
			fail_msg("%s under family %s", name, family);
		}
		if (!strcmp(type, "counter"))
			assert_non_null(strstr(family, "_total"));
		/* value */
		val = strrchr(line, ' ');
		assert_non_null(val);
		strtod(val + 1, &end);
		assert_true(*end == '\0' && end != val + 1);
		/* series unique */
		for (size_t i = 0; i < nseries; i++)
			if (!strncmp(series[i], line, (size_t)(val - line)) &&
			    series[i][val - line] == ' ')
				fail_msg("series twice: %s", line);
		series[nseries++] = line;
	}
	free(series);
	free(copy);
}

/* Every family of the table appears with HELP and TYPE. */
static void all_families_declared(const char *text)
{
	for (const char *const *n = metrics_family_names(); *n; n++) {
		char want[160];

		snprintf(want, sizeof(want), "# TYPE %s ", *n);
		if (!strstr(text, want))
			fail_msg("family %s not declared", *n);
	}
}

static void exact_samples(void **state)
{
	struct registry r;
	struct kp_count snap[] = {
		C(100, 9, 0, KP_EV_USERSPACE_EXIT, 2, 501), /* IO */
		C(100, 9, 0, KP_EV_USERSPACE_EXIT, 6, 167), /* MMIO */
		C(100, 9, 1, KP_EV_USERSPACE_EXIT, 2, 500),
		C(100, 9, 1, KP_EV_USERSPACE_EXIT, KP_SUB_ERRNO | 4, 1),
		C(100, 9, 0, KP_EV_PIO, KP_PIO_SUB(1, 0x3f8), 501),
		C(100, 9, 1, KP_EV_PIO, KP_PIO_SUB(1, 0x3f8), 500),
		C(100, 9, 1, KP_EV_PIO, KP_PIO_SUB(0, 0x60), 3),
		C(100, 9, 0, KP_EV_MMIO, 2, 167),
		C(100, 9, 0, KP_EV_EXIT, 30, 70),      /* IO_INSTRUCTION */
		C(100, 9, 0, KP_EV_EXIT, 48, 2),       /* EPT_VIOLATION */
		C(100, 9, 0, KP_EV_EXIT, 1000, 1),     /* unnamed */
		C(100, 9, 0, KP_EV_VCPU_WAKEUP, 3, 4), /* waited */
		C(100, 9, 0, KP_EV_VCPU_WAKEUP, 2, 1), /* polled */
		/* halt times: 0 ns; [2^9,2^10) x2; [2^15,2^16) x5; 2^40 */
		C(100, 9, 0, KP_EV_WAKEUP_LAT, 0, 1),
		C(100, 9, 0, KP_EV_WAKEUP_LAT, 10, 2),
		C(100, 9, 0, KP_EV_WAKEUP_LAT, 16, 5),
		C(100, 9, 0, KP_EV_WAKEUP_LAT, 41, 1),
		C(100, 9, 0, KP_EV_LAT_SUM, KP_EV_WAKEUP_LAT, 1500000123),
		C(100, 9, -1, KP_EV_MSI_SET_IRQ, 0, 4),
		C(100, 9, -1, KP_EV_SET_IRQ, 4, 2),
		C(100, 9, -1, KP_EV_SET_IRQ, 8, 3),
		C(100, 9, 1, KP_EV_APF_NOT_PRESENT, 0, 6),
		C(100, 9, 1, KP_EV_APF_READY, 0, 6),
		C(100, 9, 0, KP_EV_SPE_LOST_BYTES, KP_SPE_LOST_RING_FULL, 100),
		C(100, 9, 1, KP_EV_SPE_LOST_BYTES, KP_SPE_LOST_RING_FULL, 28),
		C(200, 5, 0, KP_EV_PIO, KP_PIO_SUB(1, 0x3f8), 7),
		C(100, 9, 0, KP_EV_VCPU_RUN, 0, 1500000123),
		C(100, 9, 0, KP_EV_VCPU_DELAY, 0, 9007199254740993ull),
		C(100, 9, 0, KP_EV_STOLEN_BY, 4242, 7),
	};
	char *t;
	int rc;

	proc(0, 100, 9, 1);
	proc(1, 200, 5, 1);
	registry_init(&r, 16, 1000, &ops);
	name_vm(&r, 100, 9, "web", 0);
	harvest(&r, snap, ARRAY_SIZE(snap), 0);
	t = render(&r, 1 << 20, &rc);
	assert_int_equal(rc, 0);
	check_structure(t);
	all_families_declared(t);
	has(t, "kvmprof_vm_info{vm=\"web\",name=\"web\",id=\"100-0\","
	       "pid=\"100\",vmm=\"qemu\",uuid=\"uuid-100\","
	       "scope_name=\"scope100\"} 1");
	has(t, "kvmprof_vm_info{vm=\"vm200\",name=\"vm200\",id=\"200-0\","
	       "pid=\"200\",vmm=\"fake\",uuid=\"\",scope_name=\"\"} 1");
	has(t, "kvmprof_vm_running{vm=\"web\"} 1");
	has(t, "kvmprof_vm_vcpus{vm=\"web\"} 2");
	has(t, "kvmprof_vm_start_time_seconds{vm=\"web\"} 1600000000.000");
	has(t, "kvmprof_userspace_exits_total{vm=\"web\",vcpu=\"0\","
	       "reason=\"IO\"} 501");
	has(t, "kvmprof_userspace_exits_total{vm=\"web\",vcpu=\"0\","
	       "reason=\"MMIO\"} 167");
	has(t, "kvmprof_userspace_exits_total{vm=\"web\",vcpu=\"1\","
	       "reason=\"IO\"} 500");
	has(t, "kvmprof_userspace_exits_total{vm=\"web\",vcpu=\"1\","
	       "reason=\"errno_4\"} 1");
	has(t, "kvmprof_pio_total{vm=\"web\",vcpu=\"1\",port=\"0x3f8\","
	       "direction=\"out\"} 500");
	has(t, "kvmprof_pio_total{vm=\"web\",vcpu=\"1\",port=\"0x60\","
	       "direction=\"in\"} 3");
	has(t, "kvmprof_pio_total{vm=\"vm200\",vcpu=\"0\",port=\"0x3f8\","
	       "direction=\"out\"} 7");
	has(t, "kvmprof_mmio_total{vm=\"web\",vcpu=\"0\",type=\"write\"} 167");
	has(t, "kvmprof_exits_total{vm=\"web\",vcpu=\"0\","
	       "reason=\"IO_INSTRUCTION\"} 70");
	has(t, "kvmprof_exits_total{vm=\"web\",vcpu=\"0\","
	       "reason=\"EPT_VIOLATION\"} 2");
	has(t, "kvmprof_exits_total{vm=\"web\",vcpu=\"0\",reason=\"1000\"} 1");
	has(t, "kvmprof_halt_wakeups_total{vm=\"web\",vcpu=\"0\","
	       "result=\"waited\"} 4");
	has(t, "kvmprof_halt_wakeups_total{vm=\"web\",vcpu=\"0\","
	       "result=\"polled\"} 1");
	/* cumulative, in seconds: 0 and [512,1024) ns are <= 2^10 ns */
	has(t, "kvmprof_halt_duration_seconds_bucket{vm=\"web\",vcpu=\"0\","
	       "le=\"0.000000256\"} 1");
	has(t, "kvmprof_halt_duration_seconds_bucket{vm=\"web\",vcpu=\"0\","
	       "le=\"0.000001024\"} 3");
	has(t, "kvmprof_halt_duration_seconds_bucket{vm=\"web\",vcpu=\"0\","
	       "le=\"0.000065536\"} 8");
	has(t, "kvmprof_halt_duration_seconds_bucket{vm=\"web\",vcpu=\"0\","
	       "le=\"17.179869184\"} 8");
	has(t, "kvmprof_halt_duration_seconds_bucket{vm=\"web\",vcpu=\"0\","
	       "le=\"+Inf\"} 9");
	has(t, "kvmprof_halt_duration_seconds_count{vm=\"web\",vcpu=\"0\"} 9");
	has(t, "kvmprof_halt_duration_seconds_sum{vm=\"web\",vcpu=\"0\"} "
	       "1.500000123");
	/* VM-level, summed over GSIs */
	has(t, "kvmprof_irq_injections_total{vm=\"web\",kind=\"msi\"} 4");
	has(t, "kvmprof_irq_injections_total{vm=\"web\",kind=\"gsi\"} 5");
	has(t, "kvmprof_async_pf_total{vm=\"web\",vcpu=\"1\","
	       "event=\"not_present\"} 6");
	has(t, "kvmprof_spe_lost_bytes_total{vm=\"web\",cause=\"ring_full\"} "
	       "128");
	/* ns counters in exact seconds, past 2^53 ns too; no series per
	 * host thread */
	has(t, "kvmprof_vcpu_run_seconds_total{vm=\"web\",vcpu=\"0\"} "
	       "1.500000123");
	has(t, "kvmprof_vcpu_delay_seconds_total{vm=\"web\",vcpu=\"0\"} "
	       "9007199.254740993");
	lacks(t, "4242");
	/* self */
	has(t, "kvmprof_build_info{version=\"1.2\",libbpf=\"v1.1\"} 1");
	has(t, "kvmprof_probe_attached{probe=\"kvm_pio\",kind=\"raw_tp\","
	       "state=\"attached\",reason=\"\"} 1");
	has(t, "kvmprof_probe_attached{probe=\"kvm_exit\",kind=\"tracepoint\","
	       "state=\"unavailable\",reason=\"tracepoint kvm:kvm_exit "
	       "\\\"x\\\" not in this kernel\"} 0");
	has(t, "kvmprof_probe_silent{probe=\"kvm_entry\"} 1");
	has(t, "kvmprof_probe_silent{probe=\"kvm_exit\"} 0");
	lacks(t, "kvmprof_probe_silent{probe=\"kvm_pio\"}");
	has(t, "kvmprof_bpf_prog_runs_total{probe=\"kvm_pio\"} 12");
	has(t, "kvmprof_bpf_prog_run_seconds_total{probe=\"kvm_pio\"} "
	       "0.000003400");
	lacks(t, "kvmprof_bpf_prog_runs_total{probe=\"kvm_exit\"}");
	has(t, "kvmprof_events_lost_total{cause=\"counters_map_full\"} 5");
	has(t, "kvmprof_events_lost_total{cause=\"vm_announcements\"} 1");
	has(t, "kvmprof_spe_received_bytes_total 12288");
	has(t, "kvmprof_harvests_total 9");
	has(t, "kvmprof_vms 2");
	has(t, "kvmprof_config_reloads_total{result=\"success\"} 2");
	has(t, "kvmprof_config_last_reload_successful 1");
	has(t, "process_start_time_seconds 1700000000.500");
	/* no pid label on per-event series */
	lacks(t, "_total{vm=\"web\",pid");
	free(t);
	registry_fini(&r);
}

/* An exited VM keeps its series for the grace period, then they go. */
static void exited_vm_series_go_after_grace(void **state)
{
	struct registry r;
	struct kp_count snap[] = { C(100, 9, 0, KP_EV_PIO,
				     KP_PIO_SUB(1, 0x3f8), 3) };
	char *t;
	int rc;

	proc(0, 100, 9, 1);
	registry_init(&r, 16, 1000, &ops);
	name_vm(&r, 100, 9, "gone", 0);
	harvest(&r, snap, 1, 0);
	proc(0, 100, 9, 0);			/* exits */
	harvest(&r, snap, 1, 10);		/* final counts */
	t = render(&r, 1 << 20, &rc);
	has(t, "kvmprof_vm_running{vm=\"gone\"} 0");
	has(t, "kvmprof_pio_total{vm=\"gone\",vcpu=\"0\",port=\"0x3f8\","
	       "direction=\"out\"} 3");
	free(t);
	harvest(&r, NULL, 0, 1010);		/* grace (1000 ms) over */
	t = render(&r, 1 << 20, &rc);
	lacks(t, "vm=\"gone\"");
	has(t, "kvmprof_vms 0");
	check_structure(t);
	free(t);
	registry_fini(&r);
}

/* Names are not unique: rules of vm_labels() in metrics.c. */
static void vm_label_collisions(void **state)
{
	struct registry r;
	struct kp_count snap[] = {
		C(100, 1, 0, KP_EV_PIO, KP_PIO_SUB(1, 1), 1),
		C(200, 2, 0, KP_EV_PIO, KP_PIO_SUB(1, 1), 2),
		C(300, 3, 0, KP_EV_PIO, KP_PIO_SUB(1, 1), 3),
	};
	char *t;
	int rc;

	proc(0, 100, 1, 1);
	proc(1, 200, 2, 1);
	proc(2, 300, 3, 1);
	registry_init(&r, 16, 100000, &ops);
	name_vm(&r, 100, 1, "dup", 0);		/* oldest running: "dup" */
	name_vm(&r, 200, 2, "dup", 5);		/* later: "dup/<id>" */
	name_vm(&r, 300, 3, "dup", 6);
	harvest(&r, snap, 3, 10);
	t = render(&r, 1 << 20, &rc);
	check_structure(t);
	has(t, "kvmprof_pio_total{vm=\"dup\",vcpu=\"0\",port=\"0x1\","
	       "direction=\"out\"} 1");
	has(t, "kvmprof_pio_total{vm=\"dup/200-0\",vcpu=\"0\",port=\"0x1\","
	       "direction=\"out\"} 2");
	has(t, "kvmprof_pio_total{vm=\"dup/300-0\",vcpu=\"0\",port=\"0x1\","
	       "direction=\"out\"} 3");
	free(t);
	/* the oldest exits: it keeps its label and final counts beside the
	 * running VMs of its name */
	proc(0, 100, 1, 0);
	harvest(&r, snap, 3, 20);
	t = render(&r, 1 << 20, &rc);
	check_structure(t);
	has(t, "kvmprof_pio_total{vm=\"dup\",vcpu=\"0\",port=\"0x1\","
	       "direction=\"out\"} 1");
	has(t, "kvmprof_vm_running{vm=\"dup\"} 0");
	has(t, "kvmprof_pio_total{vm=\"dup/200-0\",vcpu=\"0\",port=\"0x1\","
	       "direction=\"out\"} 2");
	has(t, "kvmprof_vm_running{vm=\"dup/200-0\"} 1");
	free(t);
	/* a newer one exits while an older one of its name runs: kept too */
	proc(1, 200, 2, 0);
	harvest(&r, snap + 1, 2, 30);
	t = render(&r, 1 << 20, &rc);
	check_structure(t);
	has(t, "kvmprof_pio_total{vm=\"dup/200-0\",vcpu=\"0\",port=\"0x1\","
	       "direction=\"out\"} 2");
	has(t, "kvmprof_vm_running{vm=\"dup/200-0\"} 0");
	has(t, "kvmprof_pio_total{vm=\"dup/300-0\",vcpu=\"0\",port=\"0x1\","
	       "direction=\"out\"} 3");
	free(t);
	/* all exited: every one stays, with its label */
	proc(2, 300, 3, 0);
	harvest(&r, NULL, 0, 40);
	t = render(&r, 1 << 20, &rc);
	check_structure(t);
	has(t, "kvmprof_vm_info{vm=\"dup\",name=\"dup\",id=\"100-0\","
	       "pid=\"100\",vmm=\"qemu\",uuid=\"uuid-100\","
	       "scope_name=\"scope100\"} 1");
	has(t, "kvmprof_vm_running{vm=\"dup/200-0\"} 0");
	has(t, "kvmprof_vm_running{vm=\"dup/300-0\"} 0");
	free(t);
	registry_fini(&r);
}

static void escaping_and_utf8(void **state)
{
	struct registry r;
	struct kp_count snap[] = { C(100, 1, 0, KP_EV_PIO, KP_PIO_SUB(1, 1),
				     1) };
	char *t;
	int rc;

	proc(0, 100, 1, 1);
	registry_init(&r, 16, 1000, &ops);
	name_vm(&r, 100, 1, "a\"b\\c\nd\xff\xc3\xa9", 0);
	harvest(&r, snap, 1, 0);
	t = render(&r, 1 << 20, &rc);
	/* \" \\ \n escaped; the invalid byte replaced; é kept */
	has(t, "kvmprof_vm_running{vm=\"a\\\"b\\\\c\\nd?\xc3\xa9\"} 1");
	check_structure(t);
	free(t);
	registry_fini(&r);
}

/* Label sets per VM/vCPU are bounded: the rest goes to "other". */
static void bounded_cardinality(void **state)
{
	struct registry r;
	struct kp_count snap[100];
	char *t, *p;
	int rc, n = 0;

	proc(0, 100, 1, 1);
	for (int i = 0; i < 100; i++)
		snap[i] = C(100, 1, 0, KP_EV_PIO, KP_PIO_SUB(1, i), 1);
	registry_init(&r, 16, 1000, &ops);
	name_vm(&r, 100, 1, "many", 0);
	harvest(&r, snap, 100, 0);
	t = render(&r, 1 << 20, &rc);
	check_structure(t);
	for (p = t; (p = strstr(p, "\nkvmprof_pio_total{")); p++)
		n++;
	assert_int_equal(n, 65);
	has(t, "kvmprof_pio_total{vm=\"many\",vcpu=\"0\",port=\"other\","
	       "direction=\"other\"} 36");
	free(t);
	/* and the output as a whole */
	t = render(&r, 4096, &rc);
	assert_int_equal(rc, -E2BIG);
	assert_null(t);
	registry_fini(&r);
}

static void empty_registry(void **state)
{
	struct registry r;
	char *t;
	int rc;

	registry_init(&r, 16, 1000, &ops);
	t = render(&r, 1 << 20, &rc);
	assert_int_equal(rc, 0);
	check_structure(t);
	all_families_declared(t);
	has(t, "kvmprof_vms 0");
	free(t);
	registry_fini(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(exact_samples),
		cmocka_unit_test(exited_vm_series_go_after_grace),
		cmocka_unit_test(vm_label_collisions),
		cmocka_unit_test(escaping_and_utf8),
		cmocka_unit_test(bounded_cardinality),
		cmocka_unit_test(empty_registry),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
