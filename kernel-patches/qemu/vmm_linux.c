// SPDX-License-Identifier: GPL-2.0-only
/* kvmprof test VMM: "linux" (a Linux L2 guest) */
#include "vmm.h"


/* Linux guest */

#define L2_RAM_BASE	0x40000000ULL
#define L2_RAM_SIZE	0x10000000ULL
#define L2_DTB		0x48000000ULL
#define L2_INITRD	0x48100000ULL
#define L2_UART		0x09000000ULL
#define L2_DOORBELL	0x0a000000ULL
#define L2_APF_BASE	0x100000000ULL

/* Doorbells of the kexec run (offsets from L2_DOORBELL; see qemu/init) */
#define L2_DB_KEXEC	0x200	/* about to kexec, with this many tasks parked */
#define L2_DB_IDLE_0	0x208	/* the next kernel starts its idle window */
#define L2_DB_IDLE_1	0x210	/* and ends it */

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

/* --kexec: the guest's kexec, and the idle window of the next kernel */
struct l2_kexec {
	int stats_fd;
	off_t wfi_off, wait_off;
	int kexecs, windows;
	__u64 wall0, cpu0, wfi0, wait0;	/* at the start of the window */
};

static __u64 now_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static __u64 read_stat(int fd, off_t off)
{
	__u64 val = 0;

	if (pread(fd, &val, sizeof(val), off) != sizeof(val))
		die("read stat");
	return val;
}

/*
 * A doorbell of the kexec run. The vCPU runs in this thread: its CPU time
 * (CLOCK_THREAD_CPUTIME_ID, the scheduler's sum_exec_runtime, as in
 * /proc/<pid>/task/<tid>/schedstat) is what the host spends on it, in the
 * guest, in KVM and here; a vCPU whose WFI returns at once spends all of
 * the window.
 */
static bool l2_kexec_doorbell(struct l2_kexec *k, const struct uffd_ctx *ctx,
			      __u64 off, __u64 val)
{
	switch (off) {
	case L2_DB_KEXEC:
		k->kexecs++;
		printf("vmm: l2 kexec parked %llu uffd-copied %d\n",
		       (unsigned long long)val,
		       __atomic_load_n(&ctx->resolved, __ATOMIC_ACQUIRE));
		return true;
	case L2_DB_IDLE_0:
		k->wall0 = now_ns(CLOCK_MONOTONIC);
		k->cpu0 = now_ns(CLOCK_THREAD_CPUTIME_ID);
		k->wfi0 = read_stat(k->stats_fd, k->wfi_off);
		k->wait0 = read_stat(k->stats_fd, k->wait_off);
		return true;
	case L2_DB_IDLE_1:
		k->windows++;
		printf("vmm: l2 idle wall-ms %llu vcpu-cpu-ms %llu wfi-exits %llu halt-wait-ms %llu\n",
		       (now_ns(CLOCK_MONOTONIC) - k->wall0) / 1000000,
		       (now_ns(CLOCK_THREAD_CPUTIME_ID) - k->cpu0) / 1000000,
		       read_stat(k->stats_fd, k->wfi_off) - k->wfi0,
		       (read_stat(k->stats_fd, k->wait_off) - k->wait0) / 1000000);
		return true;
	}
	return false;
}

/* What the MMIO exits of the Linux guest need */
struct l2_mmio {
	int stats_fd;
	off_t exits_off;
	bool kexec;
	struct l2_kexec *kx;
	const struct uffd_ctx *uffd;
	char line[1024];	/* of the UART, printed per line */
	int line_len;
};

static bool l2_mmio(struct kvm_run *run, void *arg)
{
	struct l2_mmio *m = arg;
	__u64 addr = run->mmio.phys_addr, val = 0;

	if (!run->mmio.is_write) {
		/* PL011 flags and anything else read as 0 */
		memset(run->mmio.data, 0, sizeof(run->mmio.data));
		return true;
	}
	memcpy(&val, run->mmio.data, run->mmio.len < 8 ? run->mmio.len : 8);
	if (addr == L2_UART) {
		char c = val;

		if (c == '\n' || m->line_len == sizeof(m->line) - 1) {
			m->line[m->line_len] = '\0';
			printf("l2: %s\n", m->line);
			m->line_len = 0;
		} else if (c != '\r') {
			m->line[m->line_len++] = c;
		}
	} else if (addr == L2_DOORBELL + 0x100) {
		__u64 exits = 0;

		if (pread(m->stats_fd, &exits, sizeof(exits), m->exits_off) !=
		    sizeof(exits))
			die("read exits stat");
		printf("vmm: l2 mark %llu exits %llu\n", (unsigned long long)val,
		       (unsigned long long)exits);
	} else if (m->kexec &&
		   l2_kexec_doorbell(m->kx, m->uffd, addr - L2_DOORBELL, val)) {
		/* printed */
	} else if (addr >= L2_DOORBELL && addr < L2_DOORBELL + 0x1000) {
		printf("vmm: l2 0x%llx %llu\n",
		       (unsigned long long)(addr - L2_DOORBELL),
		       (unsigned long long)val);
	}
	return true;
}

int cmd_linux(int argc, char **argv)
{
	const char *kernel = NULL, *initrd = NULL, *dtb = NULL;
	int npages = 8, delay_ms = 20, kvm, vm, vcpu, i, bad = 0;
	size_t ksize, isize, dsize;
	bool hide_apf = false, kexec = false;
	struct l2_kexec kx = { 0 };
	struct l2_mmio m = { .kx = &kx };
	struct uffd_ctx ctx;
	struct kvm_run *run;
	pthread_t thread;
	__u8 *ram, *p;

	for (i = 2; i < argc; i += 2) {
		if (!strcmp(argv[i], "--hide-apf")) {
			hide_apf = true;
			i--;
			continue;
		}
		if (!strcmp(argv[i], "--kexec")) {
			kexec = true;
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
		printf("usage: %s linux --kernel IMAGE --initrd CPIO --dtb DTB [--pages N] [--delay-ms D] [--hide-apf] [--kexec]\n",
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
	/* described to the guest by l2.dts' kvm-async-pf node */
	assign_apf_ppi(vcpu, APF_PPI);

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
	m.stats_fd = ioctl(vcpu, KVM_GET_STATS_FD, NULL);
	if (m.stats_fd < 0)
		die("KVM_GET_STATS_FD");
	m.exits_off = stat_offset(m.stats_fd, "exits");
	m.kexec = kexec;
	m.uffd = &ctx;
	kx.stats_fd = m.stats_fd;
	kx.wfi_off = stat_offset(m.stats_fd, "wfi_exit_stat");
	kx.wait_off = stat_offset(m.stats_fd, "halt_wait_ns");
	run_until(vcpu, run, l2_mmio, &m);

	__atomic_store_n(&ctx.stop, 1, __ATOMIC_RELEASE);
	pthread_join(thread, NULL);
	for (i = 0; i < npages; i++) {
		if (ctx.faults[i] != 1)
			bad++;
	}
	if (bad)
		fail("%d page(s) did not fault exactly once through userfaultfd", bad);
	if (kexec && (kx.kexecs != 1 || kx.windows != 1))
		fail("the guest reported %d kexec(s) and %d idle window(s), not one each",
		     kx.kexecs, kx.windows);
	printf("vmm: %s pages %d delay-ms %d uffd-faults-ok %d\n",
	       kexec ? "linux-kexec" : "linux", npages, delay_ms, npages - bad);
	print_acct("linux", vcpu);
	return failures ? 1 : 0;
}
