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
 *		    [--hold FILE]
 *	Runs guest.S in a one-vCPU VM without an in-kernel irqchip and checks,
 *	at every exit, that KVM_GET_ONE_REG returns what the guest wrote.
 *	Prints "vmm: stat <name> <value>" for the vCPU binary stats whose name
 *	starts with "sysreg_", the number of KVM_RUN calls and a verdict line.
 *	With --until, the guest repeats its idle exits (one every 10 ms) until
 *	FILE exists: a VM that runs alongside another one for as long as
 *	that one needs.  Keeps a vCPU stats fd open from before the first
 *	KVM_RUN to its exit, as recent QEMU does (kvm_init_vcpu keeps
 *	CPUState.kvm_vcpu_stats_fd): kvmprofd copies it (kvm-stats).
 *	With --hold, waits (at most 60 s) after the run, before exiting,
 *	until FILE exists: the test lets kvmprofd find the stats fd first.
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
 *		      [--delay-ms D] [--hide-apf]
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
 *	the guest cannot opt in to notifications.
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
 *   kvmprof-vmm btf <tracepoint>...
 *	Prints the prototype of each tracepoint as recorded in the running
 *	kernel's BTF (/sys/kernel/btf/vmlinux, typedef btf_trace_<tracepoint>).
 *
 * Exit status is 0 only when every check passed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <pthread.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <linux/btf.h>
#include <linux/kvm.h>
#include <linux/userfaultfd.h>

#define GUEST_BASE	0x80000000ULL
#define GUEST_SIZE	0x200000ULL
#define MMIO_BASE	0x10000000ULL

/* Doorbells, offsets from MMIO_BASE (see guest.S) */
#define DB_MAIR		0x00
#define DB_VBAR		0x08
#define DB_IDLE		0x10
#define DB_SET_MAIR	0x18
#define DB_MAIR_READ	0x20
#define DB_FAIL		0x28
#define DB_APF_SUM	0x30
#define DB_EXC		0x38
#define DB_PV_NP	0x40
#define DB_PV_READY	0x48
#define DB_PV_WAITS	0x50
#define DB_SPE_DFR0	0x58
#define DB_SPE_ESR	0x60
#define DB_SPE_DONE	0x68
#define DB_COST_HVC	0xf0
#define DB_COST_MMIO	0xf8

#define APF_BLOCK	(GUEST_BASE + 0x100000)
#define APF_PPI		20

#define APF_DATA_BASE	0x90000000ULL
#define APF_PATTERN	0x5a5a0000ULL
#define GICD_BASE	0x08000000ULL
#define GICR_BASE	0x080a0000ULL

#define MAIR_MAGIC	0x000000ffbb440400ULL

#define REG_MAIR_EL1		ARM64_SYS_REG(3, 0, 10, 2, 0)
#define REG_AMAIR_EL1		ARM64_SYS_REG(3, 0, 10, 3, 0)
#define REG_VBAR_EL1		ARM64_SYS_REG(3, 0, 12, 0, 0)
#define REG_CONTEXTIDR_EL1	ARM64_SYS_REG(3, 0, 13, 0, 1)
#define REG_TCR_EL1		ARM64_SYS_REG(3, 0, 2, 0, 2)

#define CORE_REG(x)	(KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_CORE | \
			 (offsetof(struct kvm_regs, x) / sizeof(__u32)))

extern const unsigned char guest_start[], guest_end[], guest_apf[];
extern const unsigned char guest_apf_pv[];
extern const unsigned char guest_spe[];
extern const unsigned char guest_exitcost[];

static int failures;

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
static int vcpu_run(int vcpu, const struct kvm_run *run)
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

static void fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	printf("vmm: FAIL: ");
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
	failures++;
}

static void die(const char *what)
{
	printf("vmm: FAIL: %s: %s\n", what, strerror(errno));
	exit(2);
}

static void set_reg(int vcpu, __u64 id, __u64 val)
{
	struct kvm_one_reg reg = { .id = id, .addr = (__u64)(uintptr_t)&val };

	if (ioctl(vcpu, KVM_SET_ONE_REG, &reg))
		die("KVM_SET_ONE_REG");
}

static __u64 get_reg(int vcpu, __u64 id)
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

static void print_stats(int vcpu)
{
	for_each_stat(vcpu, print_stat, NULL);
}

static void json_stat(const char *name, __u64 val, void *arg)
{
	const char **sep = arg;

	printf("%s\"%s\":%llu", *sep, name, (unsigned long long)val);
	*sep = ",";
}

/* The "vmm-json:" line: KVM_RUN accounting and the vCPU's binary stats */
static void print_acct(const char *command, int vcpu)
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
	for_each_stat(vcpu, json_stat, &sep);
	printf("}}\n");
}

static int parse_count(const char *s)
{
	char *end;
	long v = strtol(s, &end, 0);

	if (*s == '\0' || *end != '\0' || v < 0 || v > 100000) {
		printf("vmm: bad count '%s'\n", s);
		exit(2);
	}
	return (int)v;
}

static void set_slot(int vm, __u32 slot, __u64 gpa, __u64 size, void *hva);
static int create_vcpu(int kvm, int vm, bool vgic, struct kvm_run **ret_run);

/* A VM whose memory slot 0 holds guest.S at GUEST_BASE; *kvm: /dev/kvm */
static int create_guest_vm(int *kvm)
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

static int cmd_run(int argc, char **argv)
{
	int nmair = 5, nvbar = 3, nidle = 10, seen_mair = 0, seen_vbar = 0;
	int seen_idle = 0, runs = 0, kvm, vm, vcpu, i;
	const char *until = NULL, *hold = NULL;
	__u64 amair0, ctxidr0, tcr0;
	struct kvm_run *run;
	bool done = false;

	for (i = 2; i < argc; i++) {
		if (i + 1 >= argc)
			break;
		if (!strcmp(argv[i], "--mair"))
			nmair = parse_count(argv[++i]);
		else if (!strcmp(argv[i], "--vbar"))
			nvbar = parse_count(argv[++i]);
		else if (!strcmp(argv[i], "--idle"))
			nidle = parse_count(argv[++i]);
		else if (!strcmp(argv[i], "--until"))
			until = argv[++i];
		else if (!strcmp(argv[i], "--hold"))
			hold = argv[++i];
		else
			break;
	}
	if (i != argc || (until && !nidle)) {
		printf("usage: %s run [--mair N] [--vbar N] [--idle N] [--until FILE] [--hold FILE]\n",
		       argv[0]);
		return 2;
	}

	vm = create_guest_vm(&kvm);
	vcpu = create_vcpu(kvm, vm, false, &run);
	/* held until exit, unread: kvmprofd reads it (pidfd_getfd) */
	if (ioctl(vcpu, KVM_GET_STATS_FD, NULL) < 0)
		die("KVM_GET_STATS_FD");

	set_reg(vcpu, CORE_REG(regs.pc), GUEST_BASE);
	set_reg(vcpu, CORE_REG(regs.regs[0]), nmair);
	set_reg(vcpu, CORE_REG(regs.regs[1]), nvbar);
	set_reg(vcpu, CORE_REG(regs.regs[2]), nidle);
	set_reg(vcpu, CORE_REG(regs.regs[3]), MMIO_BASE);
	set_reg(vcpu, CORE_REG(regs.regs[4]), GUEST_BASE);

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
			case DB_SET_MAIR:
				set_reg(vcpu, REG_MAIR_EL1, MAIR_MAGIC);
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
	if (get_reg(vcpu, REG_AMAIR_EL1) != amair0 ||
	    get_reg(vcpu, REG_CONTEXTIDR_EL1) != ctxidr0 ||
	    get_reg(vcpu, REG_TCR_EL1) != tcr0)
		fail("a register the guest never wrote changed");

	printf("vmm: guest wrote MAIR_EL1 %d times, VBAR_EL1 %d times, idle exits %d\n",
	       seen_mair, seen_vbar, seen_idle);
	printf("vmm: runs %d\n", runs);
	print_stats(vcpu);
	print_acct("run", vcpu);
	printf("vmm: %s\n", failures ? "FAILED" : "PASSED");
	fflush(stdout);
	for (int t = 0; hold && access(hold, F_OK) && t < 1200; t++)
		usleep(50000);
	return failures ? 1 : 0;
}

/* Asynchronous page faults */

struct uffd_ctx {
	int uffd;
	int delay_ms;
	int npages;
	unsigned long base;
	int *faults;
	int stop;
};

static void *uffd_thread(void *arg)
{
	struct uffd_ctx *ctx = arg;
	char page[4096] __attribute__((aligned(4096)));

	while (!__atomic_load_n(&ctx->stop, __ATOMIC_ACQUIRE)) {
		struct pollfd pfd = { .fd = ctx->uffd, .events = POLLIN };
		struct uffdio_copy copy;
		struct uffd_msg msg;
		struct timespec ts;
		unsigned long idx;

		if (poll(&pfd, 1, 100) <= 0)
			continue;
		if (read(ctx->uffd, &msg, sizeof(msg)) != sizeof(msg))
			continue;
		if (msg.event != UFFD_EVENT_PAGEFAULT)
			continue;

		idx = (msg.arg.pagefault.address - ctx->base) / sizeof(page);
		if (idx >= (unsigned long)ctx->npages)
			continue;
		__atomic_add_fetch(&ctx->faults[idx], 1, __ATOMIC_RELAXED);

		ts.tv_sec = ctx->delay_ms / 1000;
		ts.tv_nsec = (ctx->delay_ms % 1000) * 1000000L;
		nanosleep(&ts, NULL);

		memset(page, 0, sizeof(page));
		*(__u64 *)page = APF_PATTERN + idx;
		copy = (struct uffdio_copy) {
			.dst = ctx->base + idx * sizeof(page),
			.src = (__u64)(uintptr_t)page,
			.len = sizeof(page),
		};
		if (ioctl(ctx->uffd, UFFDIO_COPY, &copy) && errno != EEXIST)
			printf("vmm: UFFDIO_COPY: %s\n", strerror(errno));
	}
	return NULL;
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
static void set_slot(int vm, __u32 slot, __u64 gpa, __u64 size, void *hva)
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
 * vCPU 0 with PSCI 0.2, optionally with an in-kernel GICv3 (created after
 * the vCPU, as KVM wants), and its kvm_run mapped into *@ret_run.
 */
static int create_vcpu(int kvm, int vm, bool vgic, struct kvm_run **ret_run)
{
	struct kvm_create_device cd = { .type = KVM_DEV_TYPE_ARM_VGIC_V3 };
	__u64 dist = GICD_BASE, redist = GICR_BASE;
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
	if (vgic) {
		if (ioctl(vm, KVM_CREATE_DEVICE, &cd))
			die("KVM_CREATE_DEVICE (vgic-v3)");
		vgic_attr(cd.fd, KVM_DEV_ARM_VGIC_GRP_ADDR,
			  KVM_VGIC_V3_ADDR_TYPE_DIST, &dist);
		vgic_attr(cd.fd, KVM_DEV_ARM_VGIC_GRP_ADDR,
			  KVM_VGIC_V3_ADDR_TYPE_REDIST, &redist);
		vgic_attr(cd.fd, KVM_DEV_ARM_VGIC_GRP_CTRL,
			  KVM_DEV_ARM_VGIC_CTRL_INIT, NULL);
	}
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
 * Slot 1 at @gpa: @npages pages that are not there until the userfaultfd
 * thread (started here) copies each one in after @delay_ms.
 */
static void uffd_slot(int vm, __u64 gpa, int npages, int delay_ms,
		      struct uffd_ctx *ctx, pthread_t *thread)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg;
	void *data;

	data = mmap(NULL, npages * 4096UL, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (data == MAP_FAILED)
		die("mmap data pages");
	*ctx = (struct uffd_ctx) {
		.delay_ms = delay_ms,
		.npages = npages,
		.base = (unsigned long)data,
		.faults = calloc(npages, sizeof(int)),
	};
	ctx->uffd = syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (ctx->uffd < 0)
		die("userfaultfd");
	if (ioctl(ctx->uffd, UFFDIO_API, &api))
		die("UFFDIO_API");
	reg = (struct uffdio_register) {
		.range = { .start = ctx->base, .len = npages * 4096UL },
		.mode = UFFDIO_REGISTER_MODE_MISSING,
	};
	if (ioctl(ctx->uffd, UFFDIO_REGISTER, &reg))
		die("UFFDIO_REGISTER");
	if (pthread_create(thread, NULL, uffd_thread, ctx))
		die("pthread_create");
	set_slot(vm, 1, gpa, npages * 4096UL, data);
}

static int cmd_apf(int argc, char **argv)
{
	int npages = 8, delay_ms = 20, kvm, vm, vcpu, i, bad = 0;
	int masked = 0, pv = 0, touch = 0;
	__u64 pv_np = 0, pv_ready = 0, pv_waits = 0;
	struct timespec t0, t1;
	struct uffd_ctx ctx;
	struct kvm_run *run;
	__u64 sum = 0, want = 0;
	pthread_t thread;
	bool done = false;

	for (i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--irqs-masked"))
			masked = 1;
		else if (!strcmp(argv[i], "--pv"))
			pv = 1;
		else if (!strcmp(argv[i], "--touch"))
			touch = 1;
		else if (i + 1 == argc)
			break;
		else if (!strcmp(argv[i], "--pages"))
			npages = parse_count(argv[++i]);
		else if (!strcmp(argv[i], "--delay-ms"))
			delay_ms = parse_count(argv[++i]);
		else
			break;
	}
	if (i != argc || npages < 1 || npages > (touch ? 32768 : 256) ||
	    (masked && pv) || (touch && pv)) {
		printf("usage: %s apf [--pages N] [--delay-ms D] [--irqs-masked | --pv] [--touch]\n",
		       argv[0]);
		return 2;
	}

	vm = create_guest_vm(&kvm);
	if (touch) {
		void *data = mmap(NULL, npages * 4096UL, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

		if (data == MAP_FAILED)
			die("mmap data pages");
		set_slot(vm, 1, APF_DATA_BASE, npages * 4096UL, data);
	} else {
		uffd_slot(vm, APF_DATA_BASE, npages, delay_ms, &ctx, &thread);
	}
	/* in-kernel GICv3: asynchronous faults need an in-kernel irqchip */
	vcpu = create_vcpu(kvm, vm, true, &run);

	set_reg(vcpu, CORE_REG(regs.pc), GUEST_BASE +
		((pv ? guest_apf_pv : guest_apf) - guest_start));
	set_reg(vcpu, CORE_REG(regs.regs[4]), APF_BLOCK);
	set_reg(vcpu, CORE_REG(regs.regs[5]), APF_PPI);
	set_reg(vcpu, CORE_REG(regs.regs[0]), npages);
	set_reg(vcpu, CORE_REG(regs.regs[1]), APF_DATA_BASE);
	set_reg(vcpu, CORE_REG(regs.regs[2]), masked);
	set_reg(vcpu, CORE_REG(regs.regs[3]), MMIO_BASE);
	set_reg(vcpu, CORE_REG(regs.regs[6]), touch);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (!done) {
		__u64 data64 = 0;

		if (vcpu_run(vcpu, run)) {
			if (errno == EINTR)
				continue;
			die("KVM_RUN");
		}
		switch (run->exit_reason) {
		case KVM_EXIT_MMIO:
			memcpy(&data64, run->mmio.data, sizeof(data64));
			if (run->mmio.phys_addr == MMIO_BASE + DB_APF_SUM) {
				sum = data64;
			} else if (run->mmio.phys_addr == MMIO_BASE + DB_PV_NP) {
				pv_np = data64;
			} else if (run->mmio.phys_addr == MMIO_BASE + DB_PV_READY) {
				pv_ready = data64;
			} else if (run->mmio.phys_addr == MMIO_BASE + DB_PV_WAITS) {
				pv_waits = data64;
			} else {
				fail("guest exception, vector offset 0x%llx (doorbell 0x%llx)",
				     (unsigned long long)data64,
				     (unsigned long long)run->mmio.phys_addr);
				done = true;
			}
			break;
		case KVM_EXIT_SYSTEM_EVENT:
			done = true;
			break;
		default:
			fail("unexpected exit reason %u", run->exit_reason);
			done = true;
		}
	}

	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (touch) {
		for (i = 0; i < npages; i++)
			want += i;
		if (sum != want)
			fail("guest sum 0x%llx, expected 0x%llx",
			     (unsigned long long)sum, (unsigned long long)want);
		printf("vmm: apf-touch pages %d irqs %s ns-per-page %.0f\n", npages,
		       masked ? "masked" : "unmasked",
		       ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) / npages);
		printf("vmm: %s\n", failures ? "FAILED" : "PASSED");
		return failures ? 1 : 0;
	}

	__atomic_store_n(&ctx.stop, 1, __ATOMIC_RELEASE);
	pthread_join(thread, NULL);

	for (i = 0; i < npages; i++) {
		want += APF_PATTERN + i;
		if (ctx.faults[i] != 1)
			bad++;
	}
	if (sum != want)
		fail("guest sum 0x%llx, expected 0x%llx",
		     (unsigned long long)sum, (unsigned long long)want);
	if (bad)
		fail("%d page(s) did not fault exactly once through userfaultfd", bad);
	printf("vmm: apf%s pages %d delay-ms %d uffd-faults-ok %d\n",
	       masked ? " (irqs masked)" : pv ? " (pv)" : "", npages, delay_ms,
	       npages - bad);
	if (pv)
		printf("vmm: apf-pv guest notified not-present %llu ready %llu, waited %s\n",
		       (unsigned long long)pv_np, (unsigned long long)pv_ready,
		       pv_waits ? "running" : "never");
	print_acct("apf", vcpu);
	printf("vmm: %s\n", failures ? "FAILED" : "PASSED");
	return failures ? 1 : 0;
}

/* Linux guest */

#define L2_RAM_BASE	0x40000000ULL
#define L2_RAM_SIZE	0x10000000ULL
#define L2_DTB		0x48000000ULL
#define L2_INITRD	0x48100000ULL
#define L2_UART		0x09000000ULL
#define L2_DOORBELL	0x0a000000ULL
#define L2_APF_BASE	0x100000000ULL

static size_t load_file(const char *path, void *dst, size_t max)
{
	size_t len = 0;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY);
	if (fd < 0)
		die(path);
	while ((n = read(fd, (char *)dst + len, max - len)) > 0)
		len += n;
	if (n < 0 || len == max)
		die(path);
	close(fd);
	return len;
}

/* Offset in the vCPU's binary stats fd @fd of the stat named @name */
static off_t stat_offset(int fd, const char *name)
{
	struct kvm_stats_header hdr;
	struct kvm_stats_desc *desc;
	size_t desc_sz;
	off_t off = -1;
	__u32 i;

	if (pread(fd, &hdr, sizeof(hdr), 0) != sizeof(hdr))
		die("read stats header");
	desc_sz = sizeof(*desc) + hdr.name_size;
	desc = malloc(desc_sz);
	if (!desc)
		die("malloc");
	for (i = 0; i < hdr.num_desc && off < 0; i++) {
		if (pread(fd, desc, desc_sz, hdr.desc_offset + i * desc_sz) !=
		    (ssize_t)desc_sz)
			die("read stats descriptor");
		if (!strcmp(desc->name, name))
			off = hdr.data_offset + desc->offset;
	}
	free(desc);
	if (off < 0) {
		errno = ENOENT;
		die(name);
	}
	return off;
}

static int cmd_linux(int argc, char **argv)
{
	const char *kernel = NULL, *initrd = NULL, *dtb = NULL;
	int npages = 8, delay_ms = 20, kvm, vm, vcpu, i, bad = 0;
	size_t ksize, isize, dsize;
	bool hide_apf = false;
	int stats_fd;
	off_t exits_off;
	char line[1024];
	int line_len = 0;
	struct uffd_ctx ctx;
	struct kvm_run *run;
	pthread_t thread;
	bool done = false;
	__u8 *ram, *p;

	for (i = 2; i < argc; i += 2) {
		if (!strcmp(argv[i], "--hide-apf")) {
			hide_apf = true;
			i--;
			continue;
		}
		if (i + 1 == argc)
			break;
		if (!strcmp(argv[i], "--kernel"))
			kernel = argv[i + 1];
		else if (!strcmp(argv[i], "--initrd"))
			initrd = argv[i + 1];
		else if (!strcmp(argv[i], "--dtb"))
			dtb = argv[i + 1];
		else if (!strcmp(argv[i], "--pages"))
			npages = parse_count(argv[i + 1]);
		else if (!strcmp(argv[i], "--delay-ms"))
			delay_ms = parse_count(argv[i + 1]);
		else
			break;
	}
	if (i != argc || !kernel || !initrd || !dtb || npages < 1 || npages > 256) {
		printf("usage: %s linux --kernel IMAGE --initrd CPIO --dtb DTB [--pages N] [--delay-ms D] [--hide-apf]\n",
		       argv[0]);
		return 2;
	}

	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		die("open /dev/kvm");
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0)
		die("KVM_CREATE_VM");

	ram = mmap(NULL, L2_RAM_SIZE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (ram == MAP_FAILED)
		die("mmap guest RAM");
	ksize = load_file(kernel, ram, L2_DTB - L2_RAM_BASE);
	if (ksize < 64 || memcmp(ram + 56, "ARM\x64", 4))
		die("not an arm64 Image");
	dsize = load_file(dtb, ram + (L2_DTB - L2_RAM_BASE), L2_INITRD - L2_DTB);
	isize = load_file(initrd, ram + (L2_INITRD - L2_RAM_BASE),
			  L2_RAM_SIZE - (L2_INITRD - L2_RAM_BASE));

	/* Fill in linux,initrd-end */
	for (p = ram + (L2_DTB - L2_RAM_BASE);
	     p + 8 <= ram + (L2_DTB - L2_RAM_BASE) + dsize; p += 4) {
		static const __u8 placeholder[8] = {
			0xfe, 0xed, 0xf0, 0x0d, 0xfe, 0xed, 0xf0, 0x0d };
		__u64 end = L2_INITRD + isize;

		if (memcmp(p, placeholder, 8))
			continue;
		for (i = 0; i < 8; i++)
			p[i] = end >> (56 - 8 * i);
		break;
	}

	set_slot(vm, 0, L2_RAM_BASE, L2_RAM_SIZE, ram);
	uffd_slot(vm, L2_APF_BASE, npages, delay_ms, &ctx, &thread);
	vcpu = create_vcpu(kvm, vm, true, &run);

	set_reg(vcpu, CORE_REG(regs.pc), L2_RAM_BASE);
	set_reg(vcpu, CORE_REG(regs.regs[0]), L2_DTB);
	if (hide_apf) {
		__u64 bmap = get_reg(vcpu, KVM_REG_ARM_VENDOR_HYP_BMAP_2);

		set_reg(vcpu, KVM_REG_ARM_VENDOR_HYP_BMAP_2,
			bmap & ~(1ULL << KVM_REG_ARM_VENDOR_HYP_BIT_ASYNC_PF));
		printf("vmm: vendor hyp bitmap 2 0x%llx, hiding async PF: 0x%llx\n",
		       (unsigned long long)bmap,
		       (unsigned long long)get_reg(vcpu, KVM_REG_ARM_VENDOR_HYP_BMAP_2));
	}
	stats_fd = ioctl(vcpu, KVM_GET_STATS_FD, NULL);
	if (stats_fd < 0)
		die("KVM_GET_STATS_FD");
	exits_off = stat_offset(stats_fd, "exits");

	while (!done) {
		__u64 addr, val = 0;

		if (vcpu_run(vcpu, run)) {
			if (errno == EINTR)
				continue;
			die("KVM_RUN");
		}
		switch (run->exit_reason) {
		case KVM_EXIT_MMIO:
			addr = run->mmio.phys_addr;
			if (!run->mmio.is_write) {
				/* PL011 flags and anything else read as 0 */
				memset(run->mmio.data, 0, sizeof(run->mmio.data));
				break;
			}
			memcpy(&val, run->mmio.data,
			       run->mmio.len < 8 ? run->mmio.len : 8);
			if (addr == L2_UART) {
				char c = val;

				if (c == '\n' || line_len == sizeof(line) - 1) {
					line[line_len] = '\0';
					printf("l2: %s\n", line);
					line_len = 0;
				} else if (c != '\r') {
					line[line_len++] = c;
				}
			} else if (addr == L2_DOORBELL + 0x100) {
				__u64 exits = 0;

				if (pread(stats_fd, &exits, sizeof(exits), exits_off) !=
				    sizeof(exits))
					die("read exits stat");
				printf("vmm: l2 mark %llu exits %llu\n",
				       (unsigned long long)val,
				       (unsigned long long)exits);
			} else if (addr >= L2_DOORBELL && addr < L2_DOORBELL + 0x1000) {
				printf("vmm: l2 0x%llx %llu\n",
				       (unsigned long long)(addr - L2_DOORBELL),
				       (unsigned long long)val);
			}
			break;
		case KVM_EXIT_SYSTEM_EVENT:
			done = true;
			break;
		default:
			fail("unexpected exit reason %u", run->exit_reason);
			done = true;
		}
	}

	__atomic_store_n(&ctx.stop, 1, __ATOMIC_RELEASE);
	pthread_join(thread, NULL);
	for (i = 0; i < npages; i++) {
		if (ctx.faults[i] != 1)
			bad++;
	}
	if (bad)
		fail("%d page(s) did not fault exactly once through userfaultfd", bad);
	printf("vmm: linux pages %d delay-ms %d uffd-faults-ok %d\n",
	       npages, delay_ms, npages - bad);
	print_acct("linux", vcpu);
	return failures ? 1 : 0;
}

/* BTF */

static const struct btf_type *btf_types[1 << 20];
static unsigned int btf_ntypes;
static const char *btf_str;

static const char *btf_name(const struct btf_type *t)
{
	return btf_str + t->name_off;
}

static size_t btf_type_size(const struct btf_type *t)
{
	unsigned int vlen = BTF_INFO_VLEN(t->info);

	switch (BTF_INFO_KIND(t->info)) {
	case BTF_KIND_INT:
	case BTF_KIND_VAR:
	case BTF_KIND_DECL_TAG:
		return sizeof(*t) + 4;
	case BTF_KIND_ARRAY:
		return sizeof(*t) + sizeof(struct btf_array);
	case BTF_KIND_STRUCT:
	case BTF_KIND_UNION:
		return sizeof(*t) + vlen * sizeof(struct btf_member);
	case BTF_KIND_ENUM:
		return sizeof(*t) + vlen * sizeof(struct btf_enum);
	case BTF_KIND_ENUM64:
		return sizeof(*t) + vlen * sizeof(struct btf_enum64);
	case BTF_KIND_FUNC_PROTO:
		return sizeof(*t) + vlen * sizeof(struct btf_param);
	case BTF_KIND_DATASEC:
		return sizeof(*t) + vlen * sizeof(struct btf_var_secinfo);
	default:
		return sizeof(*t);
	}
}

static void btf_type_str(unsigned int id, char *buf, size_t len)
{
	const struct btf_type *t;
	char inner[128];

	if (id == 0) {
		snprintf(buf, len, "void");
		return;
	}
	if (id > btf_ntypes) {
		snprintf(buf, len, "?");
		return;
	}
	t = btf_types[id];
	switch (BTF_INFO_KIND(t->info)) {
	case BTF_KIND_PTR:
		btf_type_str(t->type, inner, sizeof(inner));
		snprintf(buf, len, "%s *", inner);
		break;
	case BTF_KIND_CONST:
		btf_type_str(t->type, inner, sizeof(inner));
		snprintf(buf, len, "const %s", inner);
		break;
	case BTF_KIND_STRUCT:
		snprintf(buf, len, "struct %s", btf_name(t));
		break;
	case BTF_KIND_UNION:
		snprintf(buf, len, "union %s", btf_name(t));
		break;
	default:
		snprintf(buf, len, "%s", btf_name(t));
	}
}

static int cmd_btf(int argc, char **argv)
{
	const struct btf_header *hdr;
	const char *types;
	struct stat st;
	unsigned int id;
	size_t off;
	char *data;
	int fd, i;

	fd = open("/sys/kernel/btf/vmlinux", O_RDONLY);
	if (fd < 0)
		die("open /sys/kernel/btf/vmlinux");
	if (fstat(fd, &st))
		die("stat BTF");
	data = malloc(st.st_size);
	if (!data)
		die("malloc");
	for (off = 0; off < (size_t)st.st_size;) {
		ssize_t n = read(fd, data + off, st.st_size - off);

		if (n <= 0)
			die("read BTF");
		off += n;
	}
	close(fd);

	hdr = (const struct btf_header *)data;
	if (hdr->magic != BTF_MAGIC) {
		printf("btf: bad magic\n");
		return 1;
	}
	types = data + hdr->hdr_len + hdr->type_off;
	btf_str = data + hdr->hdr_len + hdr->str_off;
	for (off = 0; off < hdr->type_len;) {
		const struct btf_type *t = (const void *)(types + off);

		if (btf_ntypes + 1 >= sizeof(btf_types) / sizeof(btf_types[0]))
			break;
		btf_types[++btf_ntypes] = t;
		off += btf_type_size(t);
	}

	for (i = 2; i < argc; i++) {
		char want[128], buf[1024], arg[256];
		const struct btf_type *proto = NULL;

		snprintf(want, sizeof(want), "btf_trace_%s", argv[i]);
		for (id = 1; id <= btf_ntypes; id++) {
			const struct btf_type *t = btf_types[id];

			if (BTF_INFO_KIND(t->info) != BTF_KIND_TYPEDEF ||
			    strcmp(btf_name(t), want))
				continue;
			t = btf_types[t->type];
			if (BTF_INFO_KIND(t->info) == BTF_KIND_PTR)
				proto = btf_types[t->type];
			break;
		}
		if (!proto || BTF_INFO_KIND(proto->info) != BTF_KIND_FUNC_PROTO) {
			printf("btf: %s missing\n", argv[i]);
			failures++;
			continue;
		}
		snprintf(buf, sizeof(buf), "btf: %s(", argv[i]);
		for (id = 0; id < BTF_INFO_VLEN(proto->info); id++) {
			const struct btf_param *p = (const void *)(proto + 1);

			btf_type_str(p[id].type, arg, sizeof(arg));
			strncat(buf, id ? ", " : "", sizeof(buf) - strlen(buf) - 1);
			strncat(buf, arg, sizeof(buf) - strlen(buf) - 1);
		}
		printf("%s)\n", buf);
	}
	return failures ? 1 : 0;
}

/* Guest SPE without the opt-in (see the top of this file) */
static const char *errname(int e)
{
	static char buf[16];

	switch (e) {
	case 0:		return "ok";
	case ENOENT:	return "ENOENT";
	case ENXIO:	return "ENXIO";
	case EINVAL:	return "EINVAL";
	case ENODEV:	return "ENODEV";
	case EBUSY:	return "EBUSY";
	}
	snprintf(buf, sizeof(buf), "%d", e);
	return buf;
}

static int spe_attr(int vcpu, unsigned long req, __u64 attr, __u64 *val)
{
	struct kvm_device_attr a = {
		.group = KVM_ARM_VCPU_SPE_CTRL, .attr = attr,
		.addr = (__u64)(uintptr_t)val,
	};

	return ioctl(vcpu, req, &a) ? errno : 0;
}

static int cmd_spe(int argc, char **argv)
{
	int kvm, vm, vcpu, undefs = 0, done_seen = 0, e1, e2, e3, e4;
	__u64 dfr0, guest_dfr0 = ~0ULL, esr = 0, irq = 21, pmscr = 0;
	struct kvm_one_reg reg = {
		.id = ARM64_SYS_REG(3, 0, 9, 9, 0),	/* PMSCR_EL1 */
		.addr = (__u64)(uintptr_t)&pmscr,
	};
	struct kvm_run *run;
	bool done = false;

	if (argc != 2) {
		printf("usage: %s spe\n", argv[0]);
		return 2;
	}

	vm = create_guest_vm(&kvm);
	vcpu = create_vcpu(kvm, vm, false, &run);

	/* The opt-in, refused on a host without SPE */
	e1 = spe_attr(vcpu, KVM_HAS_DEVICE_ATTR, KVM_ARM_VCPU_SPE_INIT, NULL);
	e2 = spe_attr(vcpu, KVM_SET_DEVICE_ATTR, KVM_ARM_VCPU_SPE_IRQ, &irq);
	e3 = spe_attr(vcpu, KVM_SET_DEVICE_ATTR, KVM_ARM_VCPU_SPE_INIT, NULL);
	printf("vmm: spe opt-in has_attr %s", errname(e1));
	printf(" irq %s init %s\n", errname(e2), errname(e3));

	dfr0 = get_reg(vcpu, ARM64_SYS_REG(3, 0, 0, 5, 0));
	e4 = ioctl(vcpu, KVM_GET_ONE_REG, &reg) ? errno : 0;
	printf("vmm: spe KVM_GET_ONE_REG PMSCR_EL1 %s\n", errname(e4));

	set_reg(vcpu, CORE_REG(regs.pc), GUEST_BASE + (guest_spe - guest_start));
	set_reg(vcpu, CORE_REG(regs.regs[3]), MMIO_BASE);

	while (!done) {
		__u64 data = 0;

		if (vcpu_run(vcpu, run))
			die("KVM_RUN");
		switch (run->exit_reason) {
		case KVM_EXIT_MMIO:
			memcpy(&data, run->mmio.data, sizeof(data));
			switch (run->mmio.phys_addr - MMIO_BASE) {
			case DB_SPE_DFR0:
				guest_dfr0 = data;
				break;
			case DB_SPE_ESR:
				undefs++;
				esr = data;
				if (data >> 26)
					fail("SPE access: exception class 0x%llx, not UNDEFINED",
					     (unsigned long long)(data >> 26));
				break;
			case DB_SPE_DONE:
				done_seen = 1;
				break;
			default:
				fail("guest: unexpected exception or doorbell 0x%llx (0x%llx)",
				     (unsigned long long)run->mmio.phys_addr,
				     (unsigned long long)data);
				done = true;
			}
			break;
		case KVM_EXIT_SYSTEM_EVENT:
			done = true;
			break;
		default:
			fail("unexpected exit reason %u", run->exit_reason);
			done = true;
		}
	}

	printf("vmm: spe PMSVer %llu (KVM_GET_ONE_REG) %llu (guest)\n",
	       (unsigned long long)((dfr0 >> 32) & 0xf),
	       (unsigned long long)((guest_dfr0 >> 32) & 0xf));
	printf("vmm: spe guest UNDEF %d of 3 accesses, last ESR_EL1 0x%llx, finished %d\n",
	       undefs, (unsigned long long)esr, done_seen);
	if ((dfr0 >> 32) & 0xf || (guest_dfr0 >> 32) & 0xf)
		fail("a guest without the opt-in sees SPE");
	if (undefs != 3 || !done_seen)
		fail("SPE register accesses were not all UNDEFINED");
	if (e4 != ENOENT)
		fail("PMSCR_EL1 visible to userspace without the opt-in");
	printf("vmm: %s\n", failures ? "FAILED" : "PASSED");
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

static int cmd_exitcost(int argc, char **argv)
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
	printf("usage: %s run|apf|linux|btf|spe|exitcost ...\n", argv[0]);
	return 2;
}
