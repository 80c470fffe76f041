// SPDX-License-Identifier: GPL-2.0-only
/* kvmprof test VMM: "spe" (a guest without the SPE opt-in) */
#include "vmm.h"


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

/* What the guest reported through its doorbells */
struct spe_guest {
	__u64 dfr0, esr;
	int undefs, done_seen;
};

static bool spe_mmio(struct kvm_run *run, void *arg)
{
	struct spe_guest *g = arg;
	__u64 data = 0;

	memcpy(&data, run->mmio.data, sizeof(data));
	switch (run->mmio.phys_addr - MMIO_BASE) {
	case DB_SPE_DFR0:
		g->dfr0 = data;
		return true;
	case DB_SPE_ESR:
		g->undefs++;
		g->esr = data;
		if (data >> 26)
			fail("SPE access: exception class 0x%llx, not UNDEFINED",
			     (unsigned long long)(data >> 26));
		return true;
	case DB_SPE_DONE:
		g->done_seen = 1;
		return true;
	default:
		fail("guest: unexpected exception or doorbell 0x%llx (0x%llx)",
		     (unsigned long long)run->mmio.phys_addr,
		     (unsigned long long)data);
		return false;
	}
}

int cmd_spe(int argc, char **argv)
{
	struct spe_guest g = { .dfr0 = ~0ULL };
	int kvm, vm, vcpu, e1, e2, e3, e4;
	__u64 dfr0, irq = 21, pmscr = 0;
	struct kvm_one_reg reg = {
		.id = ARM64_SYS_REG(3, 0, 9, 9, 0),	/* PMSCR_EL1 */
		.addr = (__u64)(uintptr_t)&pmscr,
	};
	struct kvm_run *run;

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

	run_until(vcpu, run, spe_mmio, &g);

	printf("vmm: spe PMSVer %llu (KVM_GET_ONE_REG) %llu (guest)\n",
	       (unsigned long long)((dfr0 >> 32) & 0xf),
	       (unsigned long long)((g.dfr0 >> 32) & 0xf));
	printf("vmm: spe guest UNDEF %d of 3 accesses, last ESR_EL1 0x%llx, finished %d\n",
	       g.undefs, (unsigned long long)g.esr, g.done_seen);
	if ((dfr0 >> 32) & 0xf || (g.dfr0 >> 32) & 0xf)
		fail("a guest without the opt-in sees SPE");
	if (g.undefs != 3 || !g.done_seen)
		fail("SPE register accesses were not all UNDEFINED");
	if (e4 != ENOENT)
		fail("PMSCR_EL1 visible to userspace without the opt-in");
	printf("vmm: %s\n", failures ? "FAILED" : "PASSED");
	return failures ? 1 : 0;
}
