// SPDX-License-Identifier: GPL-2.0-only
/*
 * The JSON API's view of a VM (daemon/render.c, driven by the event table
 * of lib/events.c) from known counters: every section and key, the
 * histograms and their sums, the derived in-flight count, VM-level
 * events, and one spelling per value shared with the Prometheus metrics.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <kvmprof/abi.h>
#include <kvmprof/json.h>
#include <kvmprof/util.h>
#include "metrics.h"
#include "registry.h"
#include "render.h"
#include "steal.h"

/* sys_reg(3, 0, 10, 2, 3): PIR_EL1, HFGWTR_EL2 bit 58 */
#define PIR_EL1 ((3u << 19) | (0u << 16) | (10u << 12) | (2u << 8) | (3u << 5))

#define C(vc, ev, s, v)                 \
	{                               \
		.key = { .tgid = 100,   \
			 .start_ns = 9, \
			 .vcpu = vc,    \
			 .event = ev,   \
			 .sub = s },    \
		.value = v              \
	}

/* sorted by (vcpu, event, sub), as the registry keeps them */
static struct kp_count counts[] = {
	C(-1, KP_EV_SET_IRQ, 4, 2),
	C(-1, KP_EV_SET_IRQ, 8, 3),
	C(-1, KP_EV_MSI_SET_IRQ, 0, 4),
	C(0, KP_EV_USERSPACE_EXIT, 2, 501), /* IO */
	C(0, KP_EV_USERSPACE_EXIT, 6, 167), /* MMIO */
	C(0, KP_EV_USERSPACE_EXIT, KP_SUB_ERRNO | 4, 1),
	C(0, KP_EV_PIO, KP_PIO_SUB(0, 0x60), 3),
	C(0, KP_EV_PIO, KP_PIO_SUB(1, 0x3f8), 501),
	C(0, KP_EV_MMIO, 2, 167),	/* write */
	C(0, KP_EV_VCPU_WAKEUP, 0, 9),	/* invalid */
	C(0, KP_EV_VCPU_WAKEUP, 2, 1),	/* valid, polled */
	C(0, KP_EV_VCPU_WAKEUP, 3, 4),	/* valid, waited */
	C(0, KP_EV_HALT_POLL_NS, 1, 2), /* grow */
	C(0, KP_EV_EXIT, 30, 70),	/* IO_INSTRUCTION */
	C(0, KP_EV_ENTRY, 0, 71),
	C(0, KP_EV_EXIT_LAT, 10, 6),
	C(0, KP_EV_WAKEUP_LAT, 16, 5),
	C(0, KP_EV_SYSREG_DIRTY, PIR_EL1, 4),
	C(0, KP_EV_SYSREG_ELIDED, 58, 7),
	C(0, KP_EV_SPE_COPY, KP_SPE_REASON_BUF_FULL, 3),
	C(0, KP_EV_SPE_BYTES, KP_SPE_REASON_BUF_FULL, 300),
	C(0, KP_EV_SPE_COPY_ERR, 14, 1),
	C(0, KP_EV_SPE_LOST_BYTES, KP_SPE_LOST_TOO_LONG, 11),
	C(0, KP_EV_SPE_BME, 0x24, 2),
	C(0, KP_EV_LAT_SUM, KP_EV_EXIT_LAT, 900),
	C(0, KP_EV_LAT_SUM, KP_EV_WAKEUP_LAT, 1500),
	C(1, KP_EV_APF_TRY, 0, 9),
	C(1, KP_EV_APF_NOT_PRESENT, 0, 6),
	C(1, KP_EV_APF_READY, 0, 4),
	C(1, KP_EV_APF_COMPLETED, 0, 4),
	C(1, KP_EV_APF_REPEATED, 0, 1),
	C(1, KP_EV_APF_LAT, 20, 4),
	C(1, KP_EV_LAT_SUM, KP_EV_APF_LAT, 77),
};

/* The number at "a.b.c" under @o (keys may hold dots: "0x3f8" does not) */
static double num(const cJSON *o, const char *path)
{
	char buf[128], *save = NULL;

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *k = strtok_r(buf, ".", &save); k && o;
	     k = strtok_r(NULL, ".", &save))
		o = cJSON_GetObjectItemCaseSensitive(o, k);
	if (!cJSON_IsNumber(o))
		fail_msg("%s: not a number", path);
	return o->valuedouble;
}

static const cJSON *vcpu(const cJSON *vm, int id)
{
	const cJSON *c;

	cJSON_ArrayForEach(c, cJSON_GetObjectItem(vm, "per_vcpu"))
		if (num(c, "vcpu") == id)
			return c;
	fail_msg("no vCPU %d", id);
	return NULL;
}

/* count of bucket @b in log2 histogram array @arr (0 if absent) */
static double bucket(const cJSON *arr, int b)
{
	const cJSON *e;

	cJSON_ArrayForEach(e, arr)
		if (num(e, "bucket") == b)
			return num(e, "count");
	return 0;
}

static struct vm web;

/* VM "web" with @c rendered as the API sends it: JSON text, parsed back
 * as the client does; *@text (if given) the text. */
static cJSON *render_counts_of(struct kp_count *c, size_t n, char **text)
{
	cJSON *o;
	char *s;

	memset(&web, 0, sizeof(web));
	web.pid = 100;
	web.start_ns = 9;
	snprintf(web.id, sizeof(web.id), "100-9");
	snprintf(web.ident.name, sizeof(web.ident.name), "web");
	web.counts = c;
	web.ncounts = n;
	o = render_vm(&web, KP_EXIT_LAYOUT_X86, 0, NULL, false);
	assert_non_null(o);
	s = cJSON_PrintUnformatted(o);
	assert_non_null(s);
	cJSON_Delete(o);
	o = kp_json_parse(s, strlen(s));
	if (text)
		*text = s;
	else
		free(s);
	return o;
}

static cJSON *render(void)
{
	return render_counts_of(counts, ARRAY_SIZE(counts), NULL);
}

/* vCPU (-1: vm_level), path, value: what the counters above must give */
static const struct expect {
	int vcpu;
	const char *path;
	double want;
} expected[] = {
	{ 0, "userspace_exits.total", 669 },
	{ 0, "userspace_exits.by_reason.IO", 501 },
	{ 0, "userspace_exits.by_reason.MMIO", 167 },
	{ 0, "userspace_exits.by_reason.errno_4", 1 },
	{ 0, "pio.out", 501 },
	{ 0, "pio.in", 3 },
	{ 0, "pio.ports.0x3f8.out", 501 },
	{ 0, "pio.ports.0x3f8.in", 0 },
	{ 0, "pio.ports.0x60.in", 3 },
	{ 0, "mmio.write", 167 },
	{ 0, "mmio.read", 0 },
	{ 0, "halt_wakeups.waited", 4 },
	{ 0, "halt_wakeups.polled", 1 },
	{ 0, "halt_wakeups.invalid", 9 },
	{ 0, "halt_wakeups.halt_ns_sum", 1500 },
	{ 0, "halt_poll_ns_changes.grow", 2 },
	{ 0, "halt_poll_ns_changes.shrink", 0 },
	{ 0, "exits.total", 70 },
	{ 0, "exits.entries", 71 },
	{ 0, "exits.by_reason.IO_INSTRUCTION", 70 },
	{ 0, "exits.exit_to_entry_ns_sum", 900 },
	{ -1, "irq.set_irq", 5 },
	{ -1, "irq.msi", 4 },
	{ -1, "irq.set_irq_by_gsi.4", 2 },
	{ -1, "irq.set_irq_by_gsi.8", 3 },
	{ 0, "irq.set_irq", 0 },
	{ 1, "async_pf.try", 9 },
	{ 1, "async_pf.not_present", 6 },
	{ 1, "async_pf.ready", 4 },
	{ 1, "async_pf.completed", 4 },
	{ 1, "async_pf.repeated_fault", 1 },
	{ 1, "async_pf.in_flight", 2 },
	{ 1, "async_pf.not_present_to_ready_ns_sum", 77 },
	{ 0, "spe_buffer.copy_outs_by_reason.buffer_full", 3 },
	{ 0, "spe_buffer.bytes_by_reason.buffer_full", 300 },
	{ 0, "spe_buffer.copy_errors_by_errno.14", 1 },
	{ 0, "spe_buffer.lost_bytes_by_cause.too_long", 11 },
	{ 0, "spe_buffer.bme_by_ec.0x24", 2 },
	{ 0, "sysreg.saves_elided_by_bit.58", 7 },
	{ 0, "sysreg.write_traps_by_sysreg.0x18a260", 4 },
};

/* log2 histograms: vCPU, section ("": the vCPU's object), array, bucket */
static const struct expect_bucket {
	int vcpu;
	const char *section, *array;
	int bucket;
	double want;
} expected_buckets[] = {
	{ 0, "", "halt_ns_log2", 16, 5 },
	{ 0, "", "exit_to_entry_ns_log2", 10, 6 },
	{ 1, "async_pf", "not_present_to_ready_ns_log2", 20, 4 },
};

static const cJSON *at(const cJSON *vm, int id)
{
	return id < 0 ? cJSON_GetObjectItem(vm, "vm_level") : vcpu(vm, id);
}

static void every_section(void **state)
{
	cJSON *vm = render();
	const cJSON *r;

	assert_non_null(vm);
	for (size_t i = 0; i < ARRAY_SIZE(expected); i++) {
		const struct expect *e = &expected[i];

		if (num(at(vm, e->vcpu), e->path) != e->want)
			fail_msg("vCPU %d %s: %g, not %g", e->vcpu, e->path,
				 num(at(vm, e->vcpu), e->path), e->want);
	}
	for (size_t i = 0; i < ARRAY_SIZE(expected_buckets); i++) {
		const struct expect_bucket *e = &expected_buckets[i];
		const cJSON *sec = at(vm, e->vcpu);

		if (*e->section)
			sec = cJSON_GetObjectItem(sec, e->section);
		assert_int_equal(bucket(cJSON_GetObjectItem(sec, e->array),
					e->bucket),
				 e->want);
	}
	/* the sysreg view joins traps and elided saves per register */
	r = cJSON_GetArrayItem(
		cJSON_GetObjectItem(cJSON_GetObjectItem(vcpu(vm, 0), "sysreg"),
				    "registers"),
		0);
	assert_string_equal(cJSON_GetObjectItem(r, "name")->valuestring,
			    "PIR_EL1");
	assert_int_equal(num(r, "write_traps"), 4);
	assert_int_equal(num(r, "saves_elided"), 7);
	cJSON_Delete(vm);
}

/* The Prometheus metrics of the same counters spell every value as the
 * JSON does (the SPE reason was buf_full in one, buffer_full in the other). */
static void same_spelling_in_metrics(void **state)
{
	struct vm *vms[1] = { &web };
	struct registry r = { .vms = vms, .nvms = 1, .max_vms = 1 };
	struct metrics_view v = { .reg = &r,
				  .exit_layout = KP_EXIT_LAYOUT_X86 };
	static const char *const want[] = {
		"kvmprof_spe_copies_total{vm=\"web\",vcpu=\"0\","
		"reason=\"buffer_full\"} 3",
		"kvmprof_spe_bytes_total{vm=\"web\",vcpu=\"0\","
		"reason=\"buffer_full\"} 300",
		"kvmprof_spe_lost_bytes_total{vm=\"web\",cause=\"too_long\"} 11",
		"kvmprof_halt_wakeups_total{vm=\"web\",vcpu=\"0\","
		"result=\"invalid\"} 9",
		"kvmprof_halt_poll_changes_total{vm=\"web\",vcpu=\"0\","
		"direction=\"grow\"} 2",
		"kvmprof_async_pf_total{vm=\"web\",vcpu=\"1\","
		"event=\"repeated_fault\"} 1",
		"kvmprof_mmio_total{vm=\"web\",vcpu=\"0\",type=\"write\"} 167",
	};
	char *text = NULL;
	size_t len = 0;

	cJSON_Delete(render());
	assert_int_equal(metrics_render(&v, 1 << 20, &text, &len), 0);
	for (size_t i = 0; i < ARRAY_SIZE(want); i++)
		if (!strstr(text, want[i]))
			fail_msg("missing: %s", want[i]);
	free(text);
}

/* 2^53 + 1: the first integer a double (cJSON's numbers) cannot hold */
#define BIG 9007199254740993ull

/* Counters past 2^53 are sent digit for digit, read back exactly by the
 * API client's parser and printed again unchanged. */
static void counters_above_2_53_exact(void **state)
{
	static struct kp_count big[] = {
		C(0, KP_EV_EXIT, 30, BIG), /* IO_INSTRUCTION */
		C(0, KP_EV_EXIT, 48, 2),   /* EPT_VIOLATION */
		C(0, KP_EV_LAT_SUM, KP_EV_WAKEUP_LAT, BIG),
	};
	const cJSON *c, *it;
	char *text, *again;
	uint64_t v = 0;
	cJSON *vm = render_counts_of(big, ARRAY_SIZE(big), &text);

	assert_non_null(vm);
	if (!strstr(text, "\"halt_ns_sum\":9007199254740993") ||
	    !strstr(text, "\"IO_INSTRUCTION\":9007199254740993") ||
	    /* the total adds the two reasons: 2^53 + 3 */
	    !strstr(text, "\"total\":9007199254740995"))
		fail_msg("not exact: %s", text);
	c = vcpu(vm, 0);
	it = cJSON_GetObjectItem(cJSON_GetObjectItem(c, "halt_wakeups"),
				 "halt_ns_sum");
	assert_true(kp_json_u64(it, &v));
	assert_true(v == BIG);
	it = cJSON_GetObjectItem(cJSON_GetObjectItem(c, "exits"), "total");
	assert_true(kp_json_u64(it, &v));
	assert_true(v == BIG + 2);
	/* re-printed (kvmprof --json) as received */
	again = cJSON_PrintUnformatted(vm);
	assert_non_null(again);
	assert_string_equal(again, text);
	free(again);
	free(text);
	cJSON_Delete(vm);
}

/* kernel BPF stats off: no run counts of 0 that read as "no events" */
static void probe_stats_off_are_null(void **state)
{
	struct metrics_probe p = { .name = "kvm_pio", .have_stats = true };
	struct metrics_probe on = { .name = "kvm_pio",
				    .have_stats = true,
				    .run_cnt = 12,
				    .run_time_ns = 3400 };
	struct metrics_probe unread = { .name = "kvm_pio" };
	cJSON *o = cJSON_CreateObject();
	uint64_t v;

	render_probe_stats(o, &p, false);
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(o, "run_cnt")));
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(o, "run_time_ns")));
	cJSON_Delete(o);
	o = cJSON_CreateObject();
	render_probe_stats(o, &on, true);
	assert_true(kp_json_u64(cJSON_GetObjectItem(o, "run_cnt"), &v));
	assert_int_equal(v, 12);
	assert_true(kp_json_u64(cJSON_GetObjectItem(o, "run_time_ns"), &v));
	assert_int_equal(v, 3400);
	cJSON_Delete(o);
	o = cJSON_CreateObject();
	render_probe_stats(o, &unread, true);
	assert_null(cJSON_GetObjectItem(o, "run_cnt"));
	cJSON_Delete(o);
	assert_non_null(strstr(RENDER_BPF_STATS_OFF, "bpf_stats_enabled=0"));
}

/*
 * Who a vCPU waited for: at most STEAL_KEEP threads kept (the smallest
 * go back for deletion from the BPF map), the STEAL_TOP largest shown,
 * largest first, named from /proc, the rest of the delay as "other".
 */
static void stolen_by_bounded(void **state)
{
	const uint32_t fake = 4100000; /* above any pid: never named */
	uint32_t me = (uint32_t)getpid();
	struct kp_count c[22], *gone = NULL;
	struct vm *list[1] = { &web };
	struct registry r = { .vms = list, .nvms = 1 };
	const uint64_t want[] = { 100000, 1000, 180, 170, 160 };
	const cJSON *e, *sched;
	size_t n = 0, ngone = 0, k = 0;
	cJSON *vm;

	assert_true(me < fake);
	c[n++] = (struct kp_count)C(0, KP_EV_VCPU_RUN, 0, 5000);
	c[n++] = (struct kp_count)C(0, KP_EV_VCPU_DELAY, 0, 200000);
	c[n++] = (struct kp_count)C(0, KP_EV_STOLEN_BY, 0, 1000);
	c[n++] = (struct kp_count)C(0, KP_EV_STOLEN_BY, me, 100000);
	for (uint32_t i = 0; i < 18; i++)
		c[n++] = (struct kp_count)C(0, KP_EV_STOLEN_BY, fake + i,
					    (i + 1) * 10);
	memset(&web, 0, sizeof(web));
	web.pid = 100;
	web.counts = c;
	web.ncounts = n;
	steal_reset();
	assert_int_equal(steal_prune(&r, 1, &gone, &ngone), 0);
	assert_int_equal(ngone, 20 - STEAL_KEEP);
	for (size_t i = 0; i < ngone; i++) {
		assert_int_equal(gone[i].key.event, KP_EV_STOLEN_BY);
		assert_int_equal(gone[i].key.sub, fake + i);
	}
	free(gone);
	assert_int_equal(web.ncounts, n - ngone);
	vm = render_counts_of(c, web.ncounts, NULL);
	sched = cJSON_GetObjectItem(vcpu(vm, 0), "sched");
	assert_int_equal(num(sched, "run_ns"), 5000);
	assert_int_equal(num(sched, "delay_ns"), 200000);
	assert_int_equal(
		cJSON_GetArraySize(cJSON_GetObjectItem(sched, "stolen_by")),
		STEAL_TOP);
	cJSON_ArrayForEach(e, cJSON_GetObjectItem(sched, "stolen_by"))
		assert_int_equal(num(e, "ns"), want[k++]);
	e = cJSON_GetArrayItem(cJSON_GetObjectItem(sched, "stolen_by"), 0);
	assert_int_equal(num(e, "tid"), me);
	assert_int_equal(num(e, "pid"), me);
	assert_string_equal(cJSON_GetObjectItem(e, "comm")->valuestring,
			    "test_render");
	e = cJSON_GetArrayItem(cJSON_GetObjectItem(sched, "stolen_by"), 1);
	assert_string_equal(cJSON_GetObjectItem(e, "comm")->valuestring,
			    "idle");
	e = cJSON_GetArrayItem(cJSON_GetObjectItem(sched, "stolen_by"), 2);
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(e, "comm")));
	assert_int_equal(num(sched, "stolen_other_ns"),
			 200000 - 100000 - 1000 - 180 - 170 - 160);
	cJSON_Delete(vm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_section),
		cmocka_unit_test(same_spelling_in_metrics),
		cmocka_unit_test(counters_above_2_53_exact),
		cmocka_unit_test(probe_stats_off_are_null),
		cmocka_unit_test(stolen_by_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
