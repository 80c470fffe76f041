// SPDX-License-Identifier: GPL-2.0-only
/* kvmprof test VMM: "apf" (asynchronous page faults) */
#include "vmm.h"


/* Asynchronous page faults */

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
		__atomic_add_fetch(&ctx->resolved, 1, __ATOMIC_RELEASE);
	}
	return NULL;
}


/*
 * Slot 1 at @gpa: @npages pages that are not there until the userfaultfd
 * thread (started here) copies each one in after @delay_ms.
 */
void uffd_slot(int vm, __u64 gpa, int npages, int delay_ms,
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

/* What the guest reported through its doorbells */
struct apf_guest {
	__u64 sum, pv_np, pv_ready, pv_waits;
};

static bool apf_mmio(struct kvm_run *run, void *arg)
{
	struct apf_guest *g = arg;
	__u64 data64 = 0;

	memcpy(&data64, run->mmio.data, sizeof(data64));
	switch (run->mmio.phys_addr - MMIO_BASE) {
	case DB_APF_SUM:
		g->sum = data64;
		return true;
	case DB_PV_NP:
		g->pv_np = data64;
		return true;
	case DB_PV_READY:
		g->pv_ready = data64;
		return true;
	case DB_PV_WAITS:
		g->pv_waits = data64;
		return true;
	default:
		fail("guest exception, vector offset 0x%llx (doorbell 0x%llx)",
		     (unsigned long long)data64,
		     (unsigned long long)run->mmio.phys_addr);
		return false;
	}
}

int cmd_apf(int argc, char **argv)
{
	int npages = 8, delay_ms = 20, kvm, vm, vcpu, i, bad = 0;
	int masked = 0, pv = 0, touch = 0;
	struct apf_guest g = { 0 };
	struct timespec t0, t1;
	struct uffd_ctx ctx;
	struct kvm_run *run;
	__u64 want = 0;
	pthread_t thread;

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
	assign_apf_ppi(vcpu, APF_PPI);

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
	run_until(vcpu, run, apf_mmio, &g);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (touch) {
		for (i = 0; i < npages; i++)
			want += i;
		if (g.sum != want)
			fail("guest sum 0x%llx, expected 0x%llx",
			     (unsigned long long)g.sum, (unsigned long long)want);
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
	if (g.sum != want)
		fail("guest sum 0x%llx, expected 0x%llx",
		     (unsigned long long)g.sum, (unsigned long long)want);
	if (bad)
		fail("%d page(s) did not fault exactly once through userfaultfd", bad);
	printf("vmm: apf%s pages %d delay-ms %d uffd-faults-ok %d\n",
	       masked ? " (irqs masked)" : pv ? " (pv)" : "", npages, delay_ms,
	       npages - bad);
	if (pv)
		printf("vmm: apf-pv guest notified not-present %llu ready %llu, waited %s\n",
		       (unsigned long long)g.pv_np, (unsigned long long)g.pv_ready,
		       g.pv_waits ? "running" : "never");
	print_acct("apf", vcpu);
	printf("vmm: %s\n", failures ? "FAILED" : "PASSED");
	return failures ? 1 : 0;
}
