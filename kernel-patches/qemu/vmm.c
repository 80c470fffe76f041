// SPDX-License-Identifier: GPL-2.0-only
/*
 * kvmprof-vmm: a minimal static arm64 VMM used by `make qemu-test`.
 *
 * Every command takes "--name NAME" anywhere on its command line, as kvmtool
 * does (it stays in argv, where kvmprofd reads the VM's name), and "run",
 * "apf" and "linux" end with the VMM's own accounting as one JSON line:
 *   vmm-json: {"name":..., "command":..., "pid":..., "kvm_run_calls":N,
 *	       "exit_reasons":{"MMIO":N,...}, "errors":{"EINTR":N,...},
 *	       "stats":{<every single-valued vCPU binary stat>}}
 * (exit_reasons: KVM_RUN returns by kvm_run->exit_reason, names as in
 * <linux/kvm.h> without KVM_EXIT_; errors: KVM_RUN calls that failed).
 *
 *   kvmprof-vmm run [--mair N] [--vbar N] [--idle N] [--until FILE]
 *		    [--hold FILE] [--no-stats-fd]
 *	Runs guest.S in a one-vCPU VM without an in-kernel irqchip and checks,
 *	at every exit, that KVM_GET_ONE_REG returns what the guest wrote.
 *	Prints "vmm: stat <name> <value>" for the vCPU binary stats whose name
 *	starts with "sysreg_", the number of KVM_RUN calls and a verdict line.
 *	With --until, the guest repeats its idle exits (one every 10 ms) until
 *	FILE exists: a VM that runs alongside another one for as long as
 *	that one needs.  Keeps a vCPU stats fd open from before the first
 *	KVM_RUN to its exit, as recent QEMU does (kvm_init_vcpu keeps
 *	CPUState.kvm_vcpu_stats_fd), and a VM stats fd: kvmprofd copies
 *	them (kvm-stats).
 *	With --hold, waits (at most 60 s) after the run, before exiting,
 *	until FILE exists: the test lets kvmprofd find the stats fd first.
 *	With --no-stats-fd, never opens a stats fd (as QEMU before 8.1 and
 *	other VMMs; its accounting then has no "stats"): kvmprofd reads KVM's
 *	debugfs files of the VM.
 *
 *   kvmprof-vmm apf [--pages N] [--delay-ms D] [--irqs-masked | --pv] [--touch]
 *	Runs the asynchronous page fault guest of guest.S in a one-vCPU VM
 *	with an in-kernel GICv3. Its N data pages are anonymous memory
 *	registered with userfaultfd (missing mode); a thread resolves each
 *	fault with UFFDIO_COPY after D milliseconds. Checks the sum the guest
 *	computes over the pages and that every page faulted exactly once.
 *	With --irqs-masked, the guest keeps IRQs masked, so that KVM must
 *	handle the faults synchronously. With --pv, the guest opts in to
 *	paravirtual notifications (ARM_SMCCC_VENDOR_HYP_KVM_ASYNC_PF_FUNC_ID)
 *	and reads the pages from EL0; prints the tokens it was notified of.
 *	With --touch (not with --pv), the data pages are plain anonymous
 *	memory (no userfaultfd: every first touch is a stage-2 fault that
 *	the host resolves at once), the guest writes each page before
 *	reading it, and the VMM prints the time per page of the KVM_RUN
 *	calls ("vmm: apf-touch ...").
 *
 *   kvmprof-vmm linux --kernel IMAGE --initrd CPIO --dtb DTB [--pages N]
 *		      [--delay-ms D] [--hide-apf] [--kexec]
 *	Boots a Linux guest (one vCPU, 256 MiB at 0x40000000, in-kernel
 *	GICv3) with the device tree DTB, whose initrd end placeholder
 *	(0xfeedf00dfeedf00d) it fills in. N pages of userfaultfd-backed
 *	memory (resolved after D ms each, as for "apf") are mapped at
 *	0x100000000, outside the guest's RAM. The guest's earlycon output
 *	(PL011 data register at 0x09000000) is printed with an "l2: " prefix,
 *	and its 32-bit writes to 0x0a000000 + offset as "vmm: l2 <offset>
 *	<value>"; a write to offset 0x100 also prints the vCPU's "exits"
 *	stat ("vmm: l2 mark <value> exits <n>"). With --hide-apf, the VMM
 *	clears KVM_REG_ARM_VENDOR_HYP_BIT_ASYNC_PF in the second vendor
 *	hypervisor service bitmap (KVM_REG_ARM_VENDOR_HYP_BMAP_2), so that
 *	the guest cannot opt in to notifications. With --kexec, the guest
 *	kexecs (see qemu/init) and reports through three more doorbells:
 *	0x200 "about to kexec with <value> tasks parked" ("vmm: l2 kexec
 *	parked <value> uffd-copied <pages copied in so far>"),
 *	then, from the next kernel, 0x208 and 0x210 around an idle window
 *	("vmm: l2 idle wall-ms <ms> vcpu-cpu-ms <CPU time of the vCPU
 *	thread> wfi-exits <n> halt-wait-ms <ms>"); the pages line reads
 *	"vmm: linux-kexec pages ...", and a run without exactly one of each
 *	fails.
 *
 *   kvmprof-vmm spe
 *	A guest without the SPE opt-in: ID_AA64DFR0_EL1.PMSVer must be 0
 *	(KVM_GET_ONE_REG, and as the guest reads it), the SPE registers
 *	hidden from KVM_GET_ONE_REG and UNDEFINED in the guest. On a host
 *	without SPE, every KVM_ARM_VCPU_SPE_CTRL attribute must fail with
 *	ENXIO.
 *
 *   kvmprof-vmm exitcost [--hvc N] [--mmio N]
 *	N exits that KVM handles itself (HVC SMCCC_VERSION), then N exits
 *	to the VMM (MMIO writes); prints "vmm: exitcost hvc N <ns> mmio N
 *	<ns>", the CLOCK_MONOTONIC time each series took (instructions under
 *	QEMU -icount shift=0, see scripts/qemu-exitcost.sh). At most 100000
 *	each.
 *
 *   kvmprof-vmm irqfd [--writes N] [--hold FILE]
 *	A one-vCPU VM with an in-kernel GICv3 and an ITS, GSI 5 routed to an
 *	MSI through the ITS from a device the guest never mapped. The guest
 *	runs first (the exitcost guest: one HVC, two MMIO exits, SYSTEM_OFF),
 *	then an eventfd bound to GSI 5 by KVM_IRQFD is written N times
 *	(default 20).
 *	KVM injects an MSI from the eventfd's wakeup only when the ITS has its
 *	translation cached (kvm_arch_set_irq_inatomic()), as for the first
 *	MSI of a device: here never, so each write that finds no work pending
 *	schedules irqfd_inject() on a kworker, which calls kvm_set_irq() for
 *	GSI 5 twice (raise, lower). Deassigning the irqfd waits for that
 *	work. With --hold, then waits (at most 60 s) until FILE exists, as
 *	"run" does.
 *
 *   kvmprof-vmm btf <tracepoint>...
 *	Prints the prototype of each tracepoint as recorded in the running
 *	kernel's BTF (/sys/kernel/btf/vmlinux, typedef btf_trace_<tracepoint>).
 *
 * Exit status is 0 only when every check passed.
 */
#include "vmm.h"


int failures;

/* The VMM's own accounting ("vmm-json:" line, see the top of the file) */
static const char *vm_name = "";
static struct {
	unsigned long runs;		/* KVM_RUN calls */
	unsigned long reasons[64];	/* returns, by kvm_run->exit_reason */
	unsigned long errors[256];	/* failed calls, by errno */
} vmm_acct;

/* <linux/kvm.h> KVM_EXIT_* values, the ones an arm64 VMM can see */
static const char *const exit_names[64] = {
	[KVM_EXIT_UNKNOWN] = "UNKNOWN", [KVM_EXIT_EXCEPTION] = "EXCEPTION",
	[KVM_EXIT_HYPERCALL] = "HYPERCALL", [KVM_EXIT_DEBUG] = "DEBUG",
	[KVM_EXIT_MMIO] = "MMIO", [KVM_EXIT_SHUTDOWN] = "SHUTDOWN",
	[KVM_EXIT_FAIL_ENTRY] = "FAIL_ENTRY", [KVM_EXIT_INTR] = "INTR",
	[KVM_EXIT_INTERNAL_ERROR] = "INTERNAL_ERROR",
	[KVM_EXIT_SYSTEM_EVENT] = "SYSTEM_EVENT", [KVM_EXIT_ARM_NISV] = "ARM_NISV",
	[KVM_EXIT_MEMORY_FAULT] = "MEMORY_FAULT",
};

/* KVM_RUN, counted */
int vcpu_run(int vcpu, const struct kvm_run *run)
{
	int e;

	vmm_acct.runs++;
	if (ioctl(vcpu, KVM_RUN, NULL)) {
		e = errno;
		vmm_acct.errors[e & 0xff]++;
		errno = e;
		return -1;
	}
	vmm_acct.reasons[run->exit_reason & 63]++;
	return 0;
}

/*
 * KVM_RUN until the guest shuts down (KVM_EXIT_SYSTEM_EVENT), @on_mmio
 * returns false for an MMIO exit, or an exit of another kind, which fails
 * the run. KVM_RUN interrupted by a signal is run again.
 */
void run_until(int vcpu, struct kvm_run *run,
	       bool (*on_mmio)(struct kvm_run *run, void *arg), void *arg)
{
	for (;;) {
		if (vcpu_run(vcpu, run)) {
			if (errno == EINTR)
				continue;
			die("KVM_RUN");
		}
		switch (run->exit_reason) {
		case KVM_EXIT_MMIO:
			if (!on_mmio(run, arg))
				return;
			break;
		case KVM_EXIT_SYSTEM_EVENT:
			return;
		default:
			fail("unexpected exit reason %u", run->exit_reason);
			return;
		}
	}
}

void fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	printf("vmm: FAIL: ");
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
	failures++;
}

void die(const char *what)
{
	printf("vmm: FAIL: %s: %s\n", what, strerror(errno));
	exit(2);
}

void set_reg(int vcpu, __u64 id, __u64 val)
{
	struct kvm_one_reg reg = { .id = id, .addr = (__u64)(uintptr_t)&val };

	if (ioctl(vcpu, KVM_SET_ONE_REG, &reg))
		die("KVM_SET_ONE_REG");
}

__u64 get_reg(int vcpu, __u64 id)
{
	__u64 val = 0;
	struct kvm_one_reg reg = { .id = id, .addr = (__u64)(uintptr_t)&val };

	if (ioctl(vcpu, KVM_GET_ONE_REG, &reg))
		die("KVM_GET_ONE_REG");
	return val;
}

/* for_each_stat(): @fn(name, value, arg) for each single-valued vCPU stat */
static void for_each_stat(int vcpu, void (*fn)(const char *, __u64, void *),
			  void *arg)
{
	struct kvm_stats_header hdr;
	struct kvm_stats_desc *desc;
	size_t desc_sz;
	char *descs;
	int fd, i;

	fd = ioctl(vcpu, KVM_GET_STATS_FD, NULL);
	if (fd < 0)
		die("KVM_GET_STATS_FD");
	if (pread(fd, &hdr, sizeof(hdr), 0) != sizeof(hdr))
		die("read stats header");

	desc_sz = sizeof(*desc) + hdr.name_size;
	descs = calloc(hdr.num_desc, desc_sz);
	if (!descs)
		die("calloc");
	if (pread(fd, descs, desc_sz * hdr.num_desc, hdr.desc_offset) !=
	    (ssize_t)(desc_sz * hdr.num_desc))
		die("read stats descriptors");

	for (i = 0; i < (int)hdr.num_desc; i++) {
		__u64 val;

		desc = (struct kvm_stats_desc *)(descs + i * desc_sz);
		if (desc->size != 1)
			continue;	/* histograms */
		if (pread(fd, &val, sizeof(val), hdr.data_offset + desc->offset) !=
		    sizeof(val))
			die("read stat");
		fn(desc->name, val, arg);
	}
	free(descs);
	close(fd);
}

static void print_stat(const char *name, __u64 val, void *arg)
{
	(void)arg;
	if (!strncmp(name, "sysreg_", 7) || !strcmp(name, "exits"))
		printf("vmm: stat %s %llu\n", name, (unsigned long long)val);
}

void print_stats(int vcpu)
{
	for_each_stat(vcpu, print_stat, NULL);
}

static void json_stat(const char *name, __u64 val, void *arg)
{
	const char **sep = arg;

	printf("%s\"%s\":%llu", *sep, name, (unsigned long long)val);
	*sep = ",";
}

/* The "vmm-json:" line: KVM_RUN accounting and the vCPU's binary stats
 * (none for @vcpu -1: reading them takes a stats fd) */
void print_acct(const char *command, int vcpu)
{
	const char *sep = "";
	int i;

	printf("vmm-json: {\"name\":\"%s\",\"command\":\"%s\",\"pid\":%d,"
	       "\"kvm_run_calls\":%lu,\"exit_reasons\":{",
	       vm_name, command, (int)getpid(), vmm_acct.runs);
	for (i = 0; i < 64; i++) {
		if (!vmm_acct.reasons[i])
			continue;
		if (exit_names[i])
			printf("%s\"%s\":%lu", sep, exit_names[i], vmm_acct.reasons[i]);
		else
			printf("%s\"%d\":%lu", sep, i, vmm_acct.reasons[i]);
		sep = ",";
	}
	printf("},\"errors\":{");
	sep = "";
	for (i = 0; i < 256; i++) {
		if (!vmm_acct.errors[i])
			continue;
		printf("%s\"%d\":%lu", sep, i, vmm_acct.errors[i]);
		sep = ",";
	}
	printf("},\"stats\":{");
	sep = "";
	if (vcpu >= 0)
		for_each_stat(vcpu, json_stat, &sep);
	printf("}}\n");
}

/* Wait (at most 60 s) until @file exists; at once when @file is NULL. */
void hold_until(const char *file)
{
	for (int t = 0; file && access(file, F_OK) && t < 1200; t++)
		usleep(50000);
}

int parse_count(const char *s)
{
	char *end;
	long v = strtol(s, &end, 0);

	if (*s == '\0' || *end != '\0' || v < 0 || v > 100000) {
		printf("vmm: bad count '%s'\n", s);
		exit(2);
	}
	return (int)v;
}


/* A VM whose memory slot 0 holds guest.S at GUEST_BASE; *kvm: /dev/kvm */
int create_guest_vm(int *kvm)
{
	void *mem;
	int vm;

	*kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (*kvm < 0)
		die("open /dev/kvm");
	vm = ioctl(*kvm, KVM_CREATE_VM, 0);
	if (vm < 0)
		die("KVM_CREATE_VM");
	mem = mmap(NULL, GUEST_SIZE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		die("mmap guest memory");
	memcpy(mem, guest_start, guest_end - guest_start);
	set_slot(vm, 0, GUEST_BASE, GUEST_SIZE, mem);
	return vm;
}

static void vgic_attr(int dev, __u32 group, __u64 attr, void *addr)
{
	struct kvm_device_attr a = {
		.group = group, .attr = attr, .addr = (__u64)(uintptr_t)addr,
	};

	if (ioctl(dev, KVM_SET_DEVICE_ATTR, &a))
		die("vgic KVM_SET_DEVICE_ATTR");
}

/* Memory slot @slot: guest-physical @gpa..+@size backed by @hva. */
void set_slot(int vm, __u32 slot, __u64 gpa, __u64 size, void *hva)
{
	struct kvm_userspace_memory_region region = {
		.slot = slot,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (__u64)(uintptr_t)hva,
	};

	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region))
		die("KVM_SET_USER_MEMORY_REGION");
}

/*
 * An in-kernel GICv3 at GICD_BASE/GICR_BASE (after the vCPUs, as KVM
 * wants), initialised (KVM_DEV_ARM_VGIC_CTRL_INIT) when @init; otherwise
 * KVM initialises it at the first KVM_RUN.
 */
void create_vgic(int vm, bool init)
{
	struct kvm_create_device cd = { .type = KVM_DEV_TYPE_ARM_VGIC_V3 };
	__u64 dist = GICD_BASE, redist = GICR_BASE;

	if (ioctl(vm, KVM_CREATE_DEVICE, &cd))
		die("KVM_CREATE_DEVICE (vgic-v3)");
	vgic_attr(cd.fd, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V3_ADDR_TYPE_DIST,
		  &dist);
	vgic_attr(cd.fd, KVM_DEV_ARM_VGIC_GRP_ADDR,
		  KVM_VGIC_V3_ADDR_TYPE_REDIST, &redist);
	if (init)
		vgic_attr(cd.fd, KVM_DEV_ARM_VGIC_GRP_CTRL,
			  KVM_DEV_ARM_VGIC_CTRL_INIT, NULL);
}

/*
 * vCPU 0 with PSCI 0.2, optionally with an initialised in-kernel GICv3,
 * and its kvm_run mapped into *@ret_run.
 */
int create_vcpu(int kvm, int vm, bool vgic, struct kvm_run **ret_run)
{
	struct kvm_vcpu_init init;
	int vcpu, mmap_sz;

	vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	if (vcpu < 0)
		die("KVM_CREATE_VCPU");
	if (ioctl(vm, KVM_ARM_PREFERRED_TARGET, &init))
		die("KVM_ARM_PREFERRED_TARGET");
	init.features[0] |= 1U << KVM_ARM_VCPU_PSCI_0_2;
	if (ioctl(vcpu, KVM_ARM_VCPU_INIT, &init))
		die("KVM_ARM_VCPU_INIT");
	if (vgic)
		create_vgic(vm, true);
	mmap_sz = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, NULL);
	if (mmap_sz < (int)sizeof(**ret_run))
		die("KVM_GET_VCPU_MMAP_SIZE");
	*ret_run = mmap(NULL, mmap_sz, PROT_READ | PROT_WRITE, MAP_SHARED,
			vcpu, 0);
	if (*ret_run == MAP_FAILED)
		die("mmap kvm_run");
	return vcpu;
}

/*
 * The asynchronous page fault notification PPI, for every vCPU of the VM
 * (KVM_ARM_VCPU_ASYNC_PF_IRQ), before the first KVM_RUN. KVM owns it from
 * then on: KVM_IRQ_LINE of it must fail.
 */
void assign_apf_ppi(int vcpu, int ppi)
{
	struct kvm_device_attr a = {
		.group = KVM_ARM_VCPU_ASYNC_PF_CTRL,
		.attr = KVM_ARM_VCPU_ASYNC_PF_IRQ,
		.addr = (__u64)(uintptr_t)&ppi,
	};

	if (ioctl(vcpu, KVM_SET_DEVICE_ATTR, &a))
		die("KVM_SET_DEVICE_ATTR KVM_ARM_VCPU_ASYNC_PF_IRQ");
}

int main(int argc, char **argv)
{
	int i, n;

	setvbuf(stdout, NULL, _IOLBF, 0);
	/* "--name NAME": the commands below see argv without it */
	for (i = n = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--name") && i + 1 < argc) {
			vm_name = argv[++i];
			if (strpbrk(vm_name, "\"\\")) {
				printf("vmm: bad --name '%s'\n", vm_name);
				return 2;
			}
			continue;
		}
		argv[n++] = argv[i];
	}
	argc = n;
	argv[argc] = NULL;
	if (argc >= 2 && !strcmp(argv[1], "run"))
		return cmd_run(argc, argv);
	if (argc >= 2 && !strcmp(argv[1], "apf"))
		return cmd_apf(argc, argv);
	if (argc >= 2 && !strcmp(argv[1], "linux"))
		return cmd_linux(argc, argv);
	if (argc >= 2 && !strcmp(argv[1], "btf"))
		return cmd_btf(argc, argv);
	if (argc >= 2 && !strcmp(argv[1], "spe"))
		return cmd_spe(argc, argv);
	if (argc >= 2 && !strcmp(argv[1], "exitcost"))
		return cmd_exitcost(argc, argv);
	if (argc >= 2 && !strcmp(argv[1], "irqfd"))
		return cmd_irqfd(argc, argv);
	printf("usage: %s run|apf|linux|btf|spe|exitcost|irqfd ...\n", argv[0]);
	return 2;
}
