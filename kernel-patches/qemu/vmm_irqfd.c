// SPDX-License-Identifier: GPL-2.0-only
/* kvmprof test VMM: "irqfd" (interrupts KVM injects from a kworker) */
#include <sys/eventfd.h>

#include "vmm.h"

#define GITS_BASE 0x08080000ULL /* 64 KiB aligned, below the GICR */
#define GITS_TRANSLATER 0x10040

/*
 * A GICv3 ITS, and GSI @gsi routed (the only route) to an MSI through it
 * from device 0, event 0, which the guest never mapped: no translation is
 * ever cached for it.
 */
static void its_msi_route(int vm, __u32 gsi)
{
	struct kvm_create_device cd = { .type = KVM_DEV_TYPE_ARM_VGIC_ITS };
	struct {
		struct kvm_irq_routing hdr;
		struct kvm_irq_routing_entry e[1];
	} rt = { .hdr.nr = 1 };
	__u64 base = GITS_BASE;
	struct kvm_device_attr a = {
		.group = KVM_DEV_ARM_VGIC_GRP_ADDR,
		.attr = KVM_VGIC_ITS_ADDR_TYPE,
		.addr = (__u64)(uintptr_t)&base,
	};

	if (ioctl(vm, KVM_CREATE_DEVICE, &cd))
		die("KVM_CREATE_DEVICE (vgic-its)");
	if (ioctl(cd.fd, KVM_SET_DEVICE_ATTR, &a))
		die("ITS base address");
	a = (struct kvm_device_attr){ .group = KVM_DEV_ARM_VGIC_GRP_CTRL,
				      .attr = KVM_DEV_ARM_VGIC_CTRL_INIT };
	if (ioctl(cd.fd, KVM_SET_DEVICE_ATTR, &a))
		die("ITS KVM_DEV_ARM_VGIC_CTRL_INIT");
	rt.e[0] = (struct kvm_irq_routing_entry){
		.gsi = gsi,
		.type = KVM_IRQ_ROUTING_MSI,
		.flags = KVM_MSI_VALID_DEVID,
		.u.msi = { .address_lo = (__u32)(GITS_BASE + GITS_TRANSLATER),
			   .address_hi =
				   (__u32)((GITS_BASE + GITS_TRANSLATER) >> 32),
			   .data = 0,
			   .devid = 0 },
	};
	if (ioctl(vm, KVM_SET_GSI_ROUTING, &rt))
		die("KVM_SET_GSI_ROUTING");
}

/* The exitcost guest's doorbells: nothing to record */
static bool ignore_mmio(struct kvm_run *run, void *arg)
{
	(void)run;
	(void)arg;
	return true;
}

int cmd_irqfd(int argc, char **argv)
{
	struct kvm_irqfd irqfd = { .gsi = 5 };
	int nwrites = 20, kvm, vm, vcpu, efd, i;
	const char *hold = NULL;
	struct kvm_run *run;
	__u64 one = 1;

	for (i = 2; i + 1 < argc; i++) {
		if (!strcmp(argv[i], "--writes"))
			nwrites = parse_count(argv[++i]);
		else if (!strcmp(argv[i], "--hold"))
			hold = argv[++i];
		else
			break;
	}
	if (i != argc) {
		printf("usage: %s irqfd [--writes N] [--hold FILE]\n", argv[0]);
		return 2;
	}

	vm = create_guest_vm(&kvm);
	vcpu = create_vcpu(kvm, vm, true, &run);
	its_msi_route(vm, irqfd.gsi);
	/* a few exits first, as any guest makes: the VM is known by then */
	set_reg(vcpu, CORE_REG(regs.pc),
		GUEST_BASE + (guest_exitcost - guest_start));
	set_reg(vcpu, CORE_REG(regs.regs[0]), 1);
	set_reg(vcpu, CORE_REG(regs.regs[1]), 2);
	set_reg(vcpu, CORE_REG(regs.regs[3]), MMIO_BASE);
	run_until(vcpu, run, ignore_mmio, NULL);
	efd = eventfd(0, EFD_CLOEXEC);
	if (efd < 0)
		die("eventfd");
	irqfd.fd = (__u32)efd;
	if (ioctl(vm, KVM_IRQFD, &irqfd))
		die("KVM_IRQFD");
	for (i = 0; i < nwrites; i++)
		if (write(efd, &one, sizeof(one)) != sizeof(one))
			die("write eventfd");
	irqfd.flags = KVM_IRQFD_FLAG_DEASSIGN; /* waits for irqfd_inject() */
	if (ioctl(vm, KVM_IRQFD, &irqfd))
		die("KVM_IRQFD deassign");
	close(efd);
	printf("vmm: irqfd writes %d\n", nwrites);
	print_acct("irqfd", vcpu);
	printf("vmm: %s\n", failures ? "FAILED" : "PASSED");
	fflush(stdout);
	hold_until(hold);
	return failures ? 1 : 0;
}
