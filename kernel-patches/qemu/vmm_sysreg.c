// SPDX-License-Identifier: GPL-2.0-only
/* kvmprof test VMM: "run" (sysreg save elision) and "exitcost" */
#include "vmm.h"


/*
 * FEAT_S1PIE and FEAT_TCR2 in the VM's ID_AA64MMFR3_EL1 (S1PIE, bits
 * [11:8]; TCRX, bits [3:0]), which KVM requires to elide PIR_EL1/PIRE0_EL1.
 */
static bool vm_has_s1pie(int vcpu)
{
	__u64 mmfr3 = get_reg(vcpu, REG_ID_AA64MMFR3_EL1);
	unsigned int s1pie = (mmfr3 >> 8) & 0xf, tcrx = mmfr3 & 0xf;

	printf("vmm: ID_AA64MMFR3_EL1 0x%llx S1PIE %u TCRX %u\n",
	       (unsigned long long)mmfr3, s1pie, tcrx);
	return s1pie && tcrx;
}

/* After the guest's @n-th write of @val to @name: KVM must have it */
static void check_reg(int vcpu, __u64 id, const char *name, int n, __u64 val)
{
	__u64 kvm_val = get_reg(vcpu, id);

	if (kvm_val != val)
		fail("%s write %d: KVM has 0x%llx, guest wrote 0x%llx", name, n,
		     (unsigned long long)kvm_val, (unsigned long long)val);
}

int cmd_run(int argc, char **argv)
{
	int nmair = 5, nvbar = 3, nidle = 10, seen_mair = 0, seen_vbar = 0;
	int seen_idle = 0, runs = 0, kvm, vm, vcpu, i;
	int npir = 0, npire0 = 0, seen_pir = 0, seen_pire0 = 0, pir_reads = 0;
	__u64 last_pire0 = 0;
	const char *until = NULL, *hold = NULL;
	__u64 amair0, ctxidr0, tcr0;
	struct kvm_run *run;
	bool done = false, stats_fd = true;

	for (i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--no-stats-fd")) {
			stats_fd = false;
			continue;
		}
		if (i + 1 >= argc)
			break;
		if (!strcmp(argv[i], "--mair"))
			nmair = parse_count(argv[++i]);
		else if (!strcmp(argv[i], "--vbar"))
			nvbar = parse_count(argv[++i]);
		else if (!strcmp(argv[i], "--idle"))
			nidle = parse_count(argv[++i]);
		else if (!strcmp(argv[i], "--pir"))
			npir = parse_count(argv[++i]);
		else if (!strcmp(argv[i], "--pire0"))
			npire0 = parse_count(argv[++i]);
		else if (!strcmp(argv[i], "--until"))
			until = argv[++i];
		else if (!strcmp(argv[i], "--hold"))
			hold = argv[++i];
		else
			break;
	}
	if (i != argc || (until && !nidle)) {
		printf("usage: %s run [--mair N] [--vbar N] [--idle N] [--pir N] [--pire0 N] [--until FILE] [--hold FILE] [--no-stats-fd]\n",
		       argv[0]);
		return 2;
	}

	vm = create_guest_vm(&kvm);
	vcpu = create_vcpu(kvm, vm, false, &run);
	/* held until exit, unread: kvmprofd reads them (pidfd_getfd) */
	if (stats_fd && (ioctl(vcpu, KVM_GET_STATS_FD, NULL) < 0 ||
			 ioctl(vm, KVM_GET_STATS_FD, NULL) < 0))
		die("KVM_GET_STATS_FD");

	set_reg(vcpu, CORE_REG(regs.pc), GUEST_BASE);
	set_reg(vcpu, CORE_REG(regs.regs[0]), nmair);
	set_reg(vcpu, CORE_REG(regs.regs[1]), nvbar);
	set_reg(vcpu, CORE_REG(regs.regs[2]), nidle);
	set_reg(vcpu, CORE_REG(regs.regs[3]), MMIO_BASE);
	set_reg(vcpu, CORE_REG(regs.regs[4]), GUEST_BASE);
	set_reg(vcpu, CORE_REG(regs.regs[5]), npir);
	set_reg(vcpu, CORE_REG(regs.regs[6]), npire0);
	if ((npir || npire0) && !vm_has_s1pie(vcpu)) {
		fail("--pir/--pire0: the VM lacks FEAT_S1PIE or FEAT_TCR2");
		return 1;
	}
	/*
	 * Guest PCs at which an exit comes between the two writes of a
	 * round (see guest.S): after such an exit that reloads the EL1
	 * context, the round's second write traps too.
	 */
	if (npir || npire0)
		printf("vmm: split PIR_EL1 0x%016llx 0x%016llx PIRE0_EL1 0x%016llx 0x%016llx\n",
		       GUEST_BASE + (guest_pir_split - guest_start),
		       GUEST_BASE + (guest_pir_split - guest_start) + 4,
		       GUEST_BASE + (guest_pire0_split - guest_start),
		       GUEST_BASE + (guest_pire0_split - guest_start) + 4);

	amair0 = get_reg(vcpu, REG_AMAIR_EL1);
	ctxidr0 = get_reg(vcpu, REG_CONTEXTIDR_EL1);
	tcr0 = get_reg(vcpu, REG_TCR_EL1);

	while (!done) {
		__u64 addr, data = 0;

		runs++;
		if (vcpu_run(vcpu, run))
			die("KVM_RUN");

		switch (run->exit_reason) {
		case KVM_EXIT_MMIO:
			addr = run->mmio.phys_addr - MMIO_BASE;
			if (!run->mmio.is_write || run->mmio.len != 8) {
				fail("unexpected MMIO access at 0x%llx",
				     (unsigned long long)run->mmio.phys_addr);
				done = true;
				break;
			}
			memcpy(&data, run->mmio.data, sizeof(data));
			switch (addr) {
			case DB_MAIR:
				seen_mair++;
				if (get_reg(vcpu, REG_MAIR_EL1) != data)
					fail("MAIR_EL1 write %d: KVM has 0x%llx, guest wrote 0x%llx",
					     seen_mair,
					     (unsigned long long)get_reg(vcpu, REG_MAIR_EL1),
					     (unsigned long long)data);
				break;
			case DB_VBAR:
				seen_vbar++;
				if (get_reg(vcpu, REG_VBAR_EL1) != data)
					fail("VBAR_EL1 write %d: KVM has 0x%llx, guest wrote 0x%llx",
					     seen_vbar,
					     (unsigned long long)get_reg(vcpu, REG_VBAR_EL1),
					     (unsigned long long)data);
				break;
			case DB_IDLE:
				seen_idle++;
				if (until && access(until, F_OK)) {
					/* once more: x2 counts down after the exit */
					set_reg(vcpu, CORE_REG(regs.regs[2]),
						get_reg(vcpu, CORE_REG(regs.regs[2])) + 1);
					nidle++;
					usleep(10000);
				}
				break;
			case DB_PIR:
				seen_pir++;
				check_reg(vcpu, REG_PIR_EL1, "PIR_EL1", seen_pir, data);
				break;
			case DB_PIRE0:
				seen_pire0++;
				check_reg(vcpu, REG_PIRE0_EL1, "PIRE0_EL1", seen_pire0, data);
				last_pire0 = data;
				break;
			case DB_SET_MAIR:
				set_reg(vcpu, REG_MAIR_EL1, MAIR_MAGIC);
				if (npir)
					set_reg(vcpu, REG_PIR_EL1, PIR_MAGIC);
				break;
			case DB_PIR_READ:
				pir_reads++;
				if (data != PIR_MAGIC)
					fail("guest read PIR_EL1 0x%llx after KVM_SET_ONE_REG 0x%llx",
					     (unsigned long long)data,
					     (unsigned long long)PIR_MAGIC);
				break;
			case DB_PIRE0_READ:
				/* the guest compared it with its last write */
				pir_reads++;
				check_reg(vcpu, REG_PIRE0_EL1, "PIRE0_EL1 (last)", seen_pire0, data);
				break;
			case DB_MAIR_READ:
				if (data != MAIR_MAGIC)
					fail("guest read MAIR_EL1 0x%llx after KVM_SET_ONE_REG 0x%llx",
					     (unsigned long long)data,
					     (unsigned long long)MAIR_MAGIC);
				break;
			case DB_FAIL:
				fail("guest reported a register mismatch (0x%llx)",
				     (unsigned long long)data);
				done = true;
				break;
			default:
				fail("unknown doorbell 0x%llx", (unsigned long long)addr);
				done = true;
			}
			break;
		case KVM_EXIT_SYSTEM_EVENT:
			if (run->system_event.type != KVM_SYSTEM_EVENT_SHUTDOWN)
				fail("unexpected system event %u",
				     run->system_event.type);
			done = true;
			break;
		default:
			fail("unexpected exit reason %u", run->exit_reason);
			done = true;
		}
	}

	if (seen_mair != nmair || seen_vbar != nvbar || seen_idle != nidle)
		fail("guest made %d/%d/%d MAIR/VBAR/idle exits, expected %d/%d/%d",
		     seen_mair, seen_vbar, seen_idle, nmair, nvbar, nidle);
	if (get_reg(vcpu, REG_MAIR_EL1) != MAIR_MAGIC)
		fail("final MAIR_EL1 0x%llx",
		     (unsigned long long)get_reg(vcpu, REG_MAIR_EL1));
	if (seen_pir != npir || seen_pire0 != npire0 ||
	    pir_reads != !!npir + !!npire0)
		fail("guest made %d/%d PIR_EL1/PIRE0_EL1 exits and %d reads, expected %d/%d and %d",
		     seen_pir, seen_pire0, pir_reads, npir, npire0, !!npir + !!npire0);
	if (npir && get_reg(vcpu, REG_PIR_EL1) != PIR_MAGIC)
		fail("final PIR_EL1 0x%llx",
		     (unsigned long long)get_reg(vcpu, REG_PIR_EL1));
	if (npire0 && get_reg(vcpu, REG_PIRE0_EL1) != last_pire0)
		fail("final PIRE0_EL1 0x%llx, guest wrote 0x%llx last",
		     (unsigned long long)get_reg(vcpu, REG_PIRE0_EL1),
		     (unsigned long long)last_pire0);
	if (get_reg(vcpu, REG_AMAIR_EL1) != amair0 ||
	    get_reg(vcpu, REG_CONTEXTIDR_EL1) != ctxidr0 ||
	    get_reg(vcpu, REG_TCR_EL1) != tcr0)
		fail("a register the guest never wrote changed");

	printf("vmm: guest wrote MAIR_EL1 %d times, VBAR_EL1 %d times, idle exits %d\n",
	       seen_mair, seen_vbar, seen_idle);
	if (npir || npire0)
		printf("vmm: guest wrote PIR_EL1 %d times, PIRE0_EL1 %d times (twice per exit), read back both\n",
		       seen_pir, seen_pire0);
	printf("vmm: runs %d\n", runs);
	/* reading the stats opens a stats fd: not with --no-stats-fd */
	if (stats_fd)
		print_stats(vcpu);
	print_acct("run", stats_fd ? vcpu : -1);
	printf("vmm: %s\n", failures ? "FAILED" : "PASSED");
	fflush(stdout);
	hold_until(hold);
	return failures ? 1 : 0;
}


/*
 * Exit cost: the guest makes NHVC exits that KVM answers itself (HVC
 * SMCCC_VERSION, one KVM_RUN), then NMMIO exits to this VMM (one KVM_RUN
 * each), writing no system register. Prints the CLOCK_MONOTONIC time per
 * exit of each kind. Under QEMU's -icount shift=0 that clock advances one
 * nanosecond per instruction the whole (single) CPU retires, so the figures
 * are instruction counts per exit: world switch, KVM's handling, and for
 * MMIO the return to userspace and this loop.
 */
static __u64 mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

int cmd_exitcost(int argc, char **argv)
{
	int nhvc = 100000, nmmio = 10000, seen_mmio = 0, kvm, vm, vcpu, i;
	__u64 t0, t_hvc = 0, t_end = 0;
	struct kvm_run *run;
	bool done = false;

	for (i = 2; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--hvc"))
			nhvc = parse_count(argv[i + 1]);
		else if (!strcmp(argv[i], "--mmio"))
			nmmio = parse_count(argv[i + 1]);
		else
			break;
	}
	if (i != argc || nhvc < 1 || nmmio < 1) {
		printf("usage: %s exitcost [--hvc N] [--mmio N]\n", argv[0]);
		return 2;
	}

	vm = create_guest_vm(&kvm);
	vcpu = create_vcpu(kvm, vm, false, &run);
	set_reg(vcpu, CORE_REG(regs.pc), GUEST_BASE + (guest_exitcost - guest_start));
	set_reg(vcpu, CORE_REG(regs.regs[0]), nhvc);
	set_reg(vcpu, CORE_REG(regs.regs[1]), nmmio);
	set_reg(vcpu, CORE_REG(regs.regs[3]), MMIO_BASE);

	t0 = mono_ns();
	while (!done) {
		if (vcpu_run(vcpu, run))
			die("KVM_RUN");
		if (run->exit_reason == KVM_EXIT_MMIO &&
		    run->mmio.phys_addr == MMIO_BASE + DB_COST_HVC && !t_hvc) {
			t_hvc = mono_ns();
		} else if (run->exit_reason == KVM_EXIT_MMIO &&
			   run->mmio.phys_addr == MMIO_BASE + DB_COST_MMIO && t_hvc) {
			seen_mmio++;
		} else if (run->exit_reason == KVM_EXIT_SYSTEM_EVENT && t_hvc) {
			t_end = mono_ns();
			done = true;
		} else {
			fail("exitcost: unexpected exit %u (MMIO 0x%llx)", run->exit_reason,
			     (unsigned long long)run->mmio.phys_addr);
			done = true;
		}
	}
	if (seen_mmio != nmmio)
		fail("exitcost: %d MMIO exits, expected %d", seen_mmio, nmmio);
	if (!failures)
		printf("vmm: exitcost hvc %d %llu mmio %d %llu\n", nhvc,
		       (unsigned long long)(t_hvc - t0), nmmio,
		       (unsigned long long)(t_end - t_hvc));
	printf("vmm: %s\n", failures ? "FAILED" : "PASSED");
	return failures ? 1 : 0;
}
