// SPDX-License-Identifier: GPL-2.0-only
/*
 * The counting probes on the kvmprof patch tracepoints, end to end on this
 * (stock) kernel, driven as test_e2e_spe.c drives them (BPF_PROG_TEST_RUN,
 * real kernel memory): SPE buffer management events and sysreg traps and
 * elided saves per vCPU, and the raw kvm_exit/kvm_entry pair.  Expectations
 * come from what was injected, never from the daemon.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include <kvmprof/abi.h>
#include <kvmprof/kvmnames.h>
#include "harness.h"
#include "inject.h"
#include "probes_e2e.h"

static void bme_and_sysreg_counters(void **state)
{
	static const struct {
		uint32_t ec;
		int n;
	} bme[] = { { 0x00, 3 }, { 0x24, 2 }, { 0x25, 4 }, { 0x1f, 5 } };
	const uint32_t pir_el1 = (3u << 19) | (0u << 16) | (10u << 12) |
				 (2u << 8) | (3u << 5);
	struct inject in;
	char path[96];
	int pb, pd, pe;
	cJSON *vm;

	assert_int_equal(inject_open(&in), 0);
	pb = find_prog("kp_spe_inject_bme", min_id);
	pd = find_prog("kp_sysreg_dirty", min_id);
	pe = find_prog("kp_sysreg_save_elided", min_id);
	assert_true(pb >= 0 && pd >= 0 && pe >= 0);
	for (size_t i = 0; i < 4; i++)
		for (int k = 0; k < bme[i].n; k++) {
			uint64_t a[4] = { in.vcpu_addr[2],
					  (uint64_t)bme[i].ec << 26 | 0x7,
					  0x1000, 0x8000 };

			assert_int_equal(run_raw_tp(pb, a, 4), 0);
		}
	for (int k = 0; k < 7; k++) {
		uint64_t a[3] = { in.vcpu_addr[3], pir_el1, 1ull << 58 };

		assert_int_equal(run_raw_tp(pd, a, 3), 0);
	}
	/* as the patches emit them: one event per save, count = number of
	 * registers whose save was elided (15 events), and one batched
	 * event covering 3 saves of both (count 6) */
	for (int k = 0; k < 15; k++) {
		uint64_t a[3] = { in.vcpu_addr[3], (1ull << 58) | (1ull << 57),
				  2 };

		assert_int_equal(run_raw_tp(pe, a, 3), 0);
	}
	{
		uint64_t a[3] = { in.vcpu_addr[3], (1ull << 58) | (1ull << 57),
				  6 };

		assert_int_equal(run_raw_tp(pe, a, 3), 0);
	}
	snprintf(path, sizeof(path), "/v1/vms/%d?refresh=1", getpid());
	vm = kpd_get(&kpd, path);
	assert_non_null(vm);
	assert_int_equal(jnum(vcpu_of(vm, 2), "spe_buffer.bme_by_ec.0x00"), 3);
	assert_int_equal(jnum(vcpu_of(vm, 2), "spe_buffer.bme_by_ec.0x24"), 2);
	assert_int_equal(jnum(vcpu_of(vm, 2), "spe_buffer.bme_by_ec.0x25"), 4);
	assert_int_equal(jnum(vcpu_of(vm, 2), "spe_buffer.bme_by_ec.0x1f"), 5);
	snprintf(path, sizeof(path), "sysreg.write_traps_by_sysreg.0x%x",
		 pir_el1);
	assert_int_equal(jnum(vcpu_of(vm, 3), path), 7);
	assert_int_equal(jnum(vcpu_of(vm, 3), "sysreg.saves_elided_by_bit.58"),
			 18);
	assert_int_equal(jnum(vcpu_of(vm, 3), "sysreg.saves_elided_by_bit.57"),
			 18);
	{
		/* joined per register: PIR_EL1 is HFGWTR_EL2 bit 58 */
		const cJSON *r = cJSON_GetArrayItem(
			jget(vcpu_of(vm, 3), "sysreg.registers"), 0);

		assert_string_equal(jget(r, "name")->valuestring, "PIR_EL1");
		assert_int_equal(jnum(r, "write_traps"), 7);
		assert_int_equal(jnum(r, "saves_elided"), 18);
		r = cJSON_GetArrayItem(jget(vcpu_of(vm, 3), "sysreg.registers"),
				       1);
		assert_string_equal(jget(r, "name")->valuestring, "PIRE0_EL1");
		assert_int_equal(jnum(r, "write_traps"), 0);
		assert_int_equal(jnum(r, "saves_elided"), 18);
	}
	{
		/* the same through the CLI */
		char ref[16];
		const cJSON *v3 = NULL, *c;
		cJSON *j;
		int rc;

		snprintf(ref, sizeof(ref), "%d", getpid());
		j = cli_json(&kpd, &rc, "sysreg", ref);
		assert_int_equal(rc, 0);
		cJSON_ArrayForEach(c, jget(j, "per_vcpu"))
			if (jnum(c, "vcpu") == 3)
				v3 = c;
		assert_non_null(v3);
		c = cJSON_GetArrayItem(jget(v3, "registers"), 0);
		assert_int_equal(jnum(c, "write_traps"), 7);
		assert_int_equal(jnum(c, "saves_elided"), 18);
		cJSON_Delete(j);
	}
	{
		/* KVM's statistics of this "VM" (the test process, which
		 * holds no KVM fd): looked for in its fds, none there, said
		 * so; through the API and the CLI */
		char ref[16];
		cJSON *j;
		int rc;

		snprintf(path, sizeof(path), "/v1/vms/%d/kvm-stats?refresh=1",
			 getpid());
		j = kpd_get(&kpd, path);
		assert_non_null(j);
		assert_string_equal(jget(j, "state")->valuestring,
				    "unavailable");
		assert_string_equal(jget(j, "reason")->valuestring,
				    "no KVM VM fd in the process");
		assert_true(cJSON_IsNull(jget(j, "vm_stats")));
		assert_int_equal(cJSON_GetArraySize(jget(j, "vcpus")), 0);
		cJSON_Delete(j);
		snprintf(ref, sizeof(ref), "%d", getpid());
		j = cli_json(&kpd, &rc, "kvm-stats", ref);
		assert_int_equal(rc, 0);
		assert_int_equal(jnum(j, "pid"), getpid());
		assert_string_equal(jget(j, "state")->valuestring,
				    "unavailable");
		cJSON_Delete(j);
		/* started as root: CAP_SYS_PTRACE kept for pidfd_getfd */
		j = kpd_get(&kpd, "/v1/status");
		assert_true(cJSON_IsTrue(jget(j, "kvm_stats.cap_sys_ptrace")));
		assert_true(jnum(j, "kvm_stats.scans") >= 1);
		assert_int_equal(jnum(j, "kvm_stats.fds_taken"), 0);
		cJSON_Delete(j);
	}
	cJSON_Delete(vm);
	close(pb);
	close(pd);
	close(pe);
	inject_close(&in);
}

/*
 * kvm_entry is a raw tracepoint, and so is kvm_exit where its raw arguments
 * carry the exit class (arm64: kp_exit_raw, loaded everywhere, attached
 * there).  Neither fires on this host's PVM KVM: exit/entry pairs driven
 * through BPF_PROG_TEST_RUN, outside a loaded vCPU (VM-level counters, no
 * count cache), must give exact exit, entry and exit->entry latency counts.
 */
/* "vm_level.exits.by_reason.<name>" of exit sub-key @reason */
static const char *exit_key(char *buf, size_t len, int layout, uint32_t reason)
{
	const char *n = kp_exit_reason_name(layout, reason);

	if (n)
		snprintf(buf, len, "vm_level.exits.by_reason.%s", n);
	else
		snprintf(buf, len, "vm_level.exits.by_reason.%u", reason);
	return buf;
}

static void kvm_exit_entry_raw(void **state)
{
	const int n = 9;
	uint64_t lat = 0, b15 = 0;
	char path[96];
	const cJSON *c;
	cJSON *vm, *st;
	int px, pe, layout;

	st = kpd_get(&kpd, "/v1/status");
	assert_non_null(st);
	layout = KP_EXIT_LAYOUT_X86;
	if (!strcmp(jget(st, "kvm_exit_layout")->valuestring, "arm64"))
		layout = KP_EXIT_LAYOUT_ARM64;
	cJSON_ArrayForEach(c, jget(st, "probes")) {
		const char *name = jget(c, "name")->valuestring;
		const char *kind = jget(c, "kind")->valuestring;

		if (!strcmp(name, "kvm_entry"))
			assert_string_equal(kind, "raw_tp");
		/* this host is x86: the record has the exit reason */
		if (!strcmp(name, "kvm_exit"))
			assert_string_equal(kind, "tracepoint");
	}
	cJSON_Delete(st);
	px = find_prog("kp_exit_raw", min_id);
	pe = find_prog("kp_entry", min_id);
	assert_true(px >= 0 && pe >= 0);
	for (int i = 0; i < n; i++) {
		/* kvm_exit(ret 2 = ARM_EXCEPTION_TRAP, ESR_ELx.EC 0x16 =
		 * HVC64, pc); kvm_entry(pc) */
		uint64_t x[3] = { 2, 0x16, 0x1000 + 4 * i };
		uint64_t e[1] = { 0x1000 + 4 * i };

		assert_int_equal(run_raw_tp(px, x, 3), 0);
		assert_int_equal(run_raw_tp(pe, e, 1), 0);
	}
	/* an IRQ exit (ret 0), whose esr_ec is left over from the last trap,
	 * and an IRQ exit with an SError pending (bit 31): exits by their
	 * exception type, as the kernel's kvm_exit record reports them */
	{
		uint64_t x[3] = { 0, 0x16, 0x2000 };
		uint64_t xs[3] = { 1u << 31, 0x24, 0x2004 };
		uint64_t e[1] = { 0x2000 };

		assert_int_equal(run_raw_tp(px, x, 3), 0);
		assert_int_equal(run_raw_tp(pe, e, 1), 0);
		assert_int_equal(run_raw_tp(px, xs, 3), 0);
		assert_int_equal(run_raw_tp(pe, e, 1), 0);
	}
	snprintf(path, sizeof(path), "/v1/vms/%d?refresh=1", getpid());
	vm = kpd_get(&kpd, path);
	assert_non_null(vm);
	/* no vCPU loaded on the test thread: the VM-level counters; this
	 * host's layout is x86, so the arm64 classes are numbers here */
	assert_int_equal(jnum(vm, "vm_level.exits.entries"), n + 2);
	assert_int_equal(jnum(vm, "vm_level.exits.total"), n + 2);
	assert_int_equal(jnum(vm, exit_key(path, sizeof(path), layout, 0x16)),
			 n);
	assert_int_equal(jnum(vm, exit_key(path, sizeof(path), layout,
					   KP_ARM64_NOT_TRAP | 0)),
			 2);
	cJSON_ArrayForEach(c, jget(vm, "vm_level.exit_to_entry_ns_log2")) {
		lat += (uint64_t)jnum(c, "count");
		if (jnum(c, "bucket") > 15) /* >= 32 us */
			b15 += (uint64_t)jnum(c, "count");
	}
	assert_int_equal(lat, n + 2);
	/* each latency spans two back-to-back syscalls: not all of them
	 * 32 us or more (a lost exit time would give ~2^40 ns) */
	assert_true(b15 < (uint64_t)n);
	cJSON_Delete(vm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(bme_and_sysreg_counters),
		cmocka_unit_test(kvm_exit_entry_raw),
	};

	return probes_e2e_main("test_e2e_counters", tests,
			       sizeof(tests) / sizeof(tests[0]));
}
