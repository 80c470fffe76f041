// SPDX-License-Identifier: GPL-2.0-only
/*
 * kvmguest: the run loops: one thread per vCPU (exits, PIO/MMIO), the
 * controlling thread (HLT wake-ups, MSIs, stop), and the exit names.
 */

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include <kvmprof/util.h>
#include "uffd.h"
#include "vm_priv.h"

#define KICK_SIGNAL SIGUSR1

/* --------------------------------------------------------- exit names */

static const char *const exit_names[] = {
	[KVM_EXIT_UNKNOWN] = "UNKNOWN",
	[KVM_EXIT_EXCEPTION] = "EXCEPTION",
	[KVM_EXIT_IO] = "IO",
	[KVM_EXIT_HYPERCALL] = "HYPERCALL",
	[KVM_EXIT_DEBUG] = "DEBUG",
	[KVM_EXIT_HLT] = "HLT",
	[KVM_EXIT_MMIO] = "MMIO",
	[KVM_EXIT_IRQ_WINDOW_OPEN] = "IRQ_WINDOW_OPEN",
	[KVM_EXIT_SHUTDOWN] = "SHUTDOWN",
	[KVM_EXIT_FAIL_ENTRY] = "FAIL_ENTRY",
	[KVM_EXIT_INTR] = "INTR",
	[KVM_EXIT_SET_TPR] = "SET_TPR",
	[KVM_EXIT_TPR_ACCESS] = "TPR_ACCESS",
	[KVM_EXIT_NMI] = "NMI",
	[KVM_EXIT_INTERNAL_ERROR] = "INTERNAL_ERROR",
	[KVM_EXIT_SYSTEM_EVENT] = "SYSTEM_EVENT",
	[KVM_EXIT_IOAPIC_EOI] = "IOAPIC_EOI",
	[KVM_EXIT_HYPERV] = "HYPERV",
	[KVM_EXIT_X86_RDMSR] = "X86_RDMSR",
	[KVM_EXIT_X86_WRMSR] = "X86_WRMSR",
	[KVM_EXIT_DIRTY_RING_FULL] = "DIRTY_RING_FULL",
	[KVM_EXIT_X86_BUS_LOCK] = "X86_BUS_LOCK",
	[KVM_EXIT_XEN] = "XEN",
	[KVM_EXIT_NOTIFY] = "NOTIFY",
	[39] = "MEMORY_FAULT", /* KVM_EXIT_MEMORY_FAULT, newer headers */
};

const char *kg_exit_name(unsigned int reason)
{
	if (reason < ARRAY_SIZE(exit_names))
		return exit_names[reason];
	return NULL;
}

/* ------------------------------------------------------------ running */

static void kick_handler(int sig)
{
	(void)sig;
}

/* Records a vCPU thread failure (read by the controller). */
static int __attribute__((format(printf, 3, 4)))
vcpu_fail(struct kg_vcpu *v, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(v->errmsg, sizeof(v->errmsg), fmt, ap);
	va_end(ap);
	v->err = err;
	return err;
}

static int handle_io(struct kg_vcpu *v)
{
	struct kvm_run *r = v->run;
	uint8_t *data = (uint8_t *)r + r->io.data_offset;

	if (r->io.port == FAULT_PORT)
		return vcpu_fail(
			v, -EFAULT,
			"vCPU %u: guest exception %llu (error code %#llx) at rip %#llx (cs %#llx, rflags %#llx), cr2 %#llx",
			v->id, (unsigned long long)kg_pb_get(v, PB_FAULT_VEC),
			(unsigned long long)kg_pb_get(v, PB_FAULT_ERR),
			(unsigned long long)kg_pb_get(v, PB_FAULT_RIP),
			(unsigned long long)kg_pb_get(v, PB_FAULT_CS),
			(unsigned long long)kg_pb_get(v, PB_FAULT_RFLAGS),
			(unsigned long long)kg_pb_get(v, PB_FAULT_CR2));
	if (r->io.port != v->vm->cfg->pio_port || r->io.size != 1 ||
	    r->io.count != 1)
		return vcpu_fail(
			v, -EPROTO,
			"vCPU %u: unexpected port I/O: port %#x size %u count %u",
			v->id, r->io.port, r->io.size, r->io.count);
	if (r->io.direction == KVM_EXIT_IO_IN)
		*data = 0;
	return 0;
}

static int handle_mmio(struct kg_vcpu *v)
{
	struct kvm_run *r = v->run;

	if (r->mmio.phys_addr != MMIO_GPA || r->mmio.len != 4)
		return vcpu_fail(v, -EPROTO,
				 "vCPU %u: unexpected MMIO at %#llx len %u",
				 v->id, (unsigned long long)r->mmio.phys_addr,
				 r->mmio.len);
	if (!r->mmio.is_write)
		memset(r->mmio.data, 0, sizeof(r->mmio.data));
	return 0;
}

/* Handles one KVM_RUN return; 1 = leave the loop, 0 = go on, -errno. */
static int handle_exit(struct kg_vcpu *v)
{
	struct kvm_run *r = v->run;

	switch (r->exit_reason) {
	case KVM_EXIT_IO:
		return handle_io(v);
	case KVM_EXIT_MMIO:
		return handle_mmio(v);
	case KVM_EXIT_HLT:
		if (v->vm->cfg->irqchip)
			return vcpu_fail(
				v, -EPROTO,
				"vCPU %u: KVM_EXIT_HLT despite the in-kernel irqchip",
				v->id);
		return 0;
	case KVM_EXIT_FAIL_ENTRY:
		return vcpu_fail(
			v, -EIO, "vCPU %u: KVM_EXIT_FAIL_ENTRY, reason %#llx",
			v->id,
			(unsigned long long)
				r->fail_entry.hardware_entry_failure_reason);
	case KVM_EXIT_INTERNAL_ERROR:
		return vcpu_fail(
			v, -EIO,
			"vCPU %u: KVM_EXIT_INTERNAL_ERROR, suberror %u", v->id,
			r->internal.suberror);
	default: {
		const char *n = kg_exit_name(r->exit_reason);

		return vcpu_fail(v, -EPROTO, "vCPU %u: unexpected exit %s (%u)",
				 v->id, n ? n : "?", r->exit_reason);
	}
	}
}

static void *vcpu_thread(void *arg)
{
	struct kg_vcpu *v = arg;
	char name[16];
	sigset_t set;

	snprintf(name, sizeof(name), "vcpu%u", v->id);
	prctl(PR_SET_NAME, name, 0, 0, 0);
	v->tid = gettid();
	/* Everything stays blocked (inherited) except the kick. */
	sigemptyset(&set);
	sigaddset(&set, KICK_SIGNAL);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);

	for (;;) {
		int r = ioctl(v->fd, KVM_RUN, 0);

		v->runs++;
		if (r < 0 && errno == EINTR) {
			v->exits[KVM_EXIT_INTR]++;
			if (v->stop)
				break;
			continue;
		}
		if (r < 0) {
			vcpu_fail(v, -errno, "vCPU %u: KVM_RUN: %s", v->id,
				  strerror(errno));
			break;
		}
		if (v->run->exit_reason < KG_NR_EXITS)
			v->exits[v->run->exit_reason]++;
		else
			v->exits_other++;
		if (handle_exit(v))
			break;
	}
	__atomic_store_n(&v->exited, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* Kicks a vCPU out of KVM_RUN for good. */
static void vcpu_kick(struct kg_vcpu *v)
{
	if (!v->started || v->exited)
		return;
	v->stop = 1;
	__atomic_store_n(&v->run->immediate_exit, 1, __ATOMIC_RELEASE);
	pthread_kill(v->thread, KICK_SIGNAL);
}

int kg_vm_send_msi(struct kg_vm *vm, unsigned int apic_id, unsigned int vector)
{
	struct kvm_msi msi = {
		.address_lo = APIC_DEFAULT_BASE | apic_id << 12,
		.data = vector, /* fixed delivery, edge */
	};
	int r = ioctl(vm->vm_fd, KVM_SIGNAL_MSI, &msi);

	vm->msi_ioctls++;
	if (r < 0)
		return vm_fail(vm, -errno, "KVM_SIGNAL_MSI to vCPU %u",
			       apic_id);
	if (r == 0)
		return vm_fail(vm, -EAGAIN,
			       "KVM_SIGNAL_MSI to vCPU %u was not delivered",
			       apic_id);
	return 0;
}

/*
 * One controller pass over vCPU @v: sends the HLT wake-up and the next
 * --msi interrupt when due.  *busy is set while something is pending.
 */
static int service_vcpu(struct kg_vm *vm, struct kg_vcpu *v, bool *busy)
{
	uint64_t seq, target;
	int err;

	if (!vm->cfg->irqchip)
		return 0;
	/* HLT: the guest started one more HLT than we woke, and blocks. */
	seq = kg_pb_get(v, PB_HLT_SEQ);
	if (seq > v->wakes_sent) {
		*busy = true;
		err = vcpu_blocking(v);
		if (err < 0)
			return vm_fail(vm, err, "vCPU %u: read stats", v->id);
		if (err == 1) {
			err = kg_vm_send_msi(vm, v->id, WAKE_VECTOR);
			if (err)
				return err;
			v->wakes_sent++;
		}
	}
	/* MSI: one at a time, each after the previous one was taken. */
	target = kg_pb_get(v, PB_MSI_TARGET);
	if (target > v->msi_sent) {
		*busy = true;
		if (kg_pb_get(v, PB_CNT_MSI) == v->msi_sent) {
			err = kg_vm_send_msi(vm, v->id, MSI_VECTOR);
			if (err)
				return err;
			v->msi_sent++;
		}
	}
	return 0;
}

static void stop_guests(struct kg_vm *vm)
{
	for (unsigned int i = 0; i < vm->nvcpus; i++)
		pb_set(&vm->vcpus[i], PB_STOP, 1);
}

/* Stops, kicks and joins every started vCPU thread. */
static void stop_threads(struct kg_vm *vm)
{
	for (unsigned int i = 0; i < vm->nvcpus; i++)
		vcpu_kick(&vm->vcpus[i]);
	for (unsigned int i = 0; i < vm->nvcpus; i++) {
		struct kg_vcpu *v = &vm->vcpus[i];

		if (v->started) {
			pthread_join(v->thread, NULL);
			v->started = false;
		}
	}
}

int kg_vm_run(struct kg_vm *vm)
{
	const struct kg_config *c = vm->cfg;
	struct sigaction sa = { .sa_handler = kick_handler };
	sigset_t stopsigs;
	double t0, deadline_stop, deadline_fail, t_done = 0;
	bool stopping = false;
	int err = 0;

	sigemptyset(&sa.sa_mask);
	if (sigaction(KICK_SIGNAL, &sa, NULL) < 0)
		return vm_fail(vm, -errno, "sigaction");
	sigemptyset(&stopsigs);
	sigaddset(&stopsigs, SIGINT);
	sigaddset(&stopsigs, SIGTERM);

	t0 = kp_mono_s();
	deadline_stop = c->duration > 0 ? t0 + c->duration : 0;
	deadline_fail = c->timeout > 0 ? t0 + c->timeout : 0;
	for (unsigned int i = 0; i < vm->nvcpus; i++) {
		struct kg_vcpu *v = &vm->vcpus[i];

		err = pthread_create(&v->thread, NULL, vcpu_thread, v);
		if (err) {
			err = vm_fail(vm, -err, "pthread_create vCPU %u", i);
			goto out;
		}
		v->started = true;
	}
	if (vm->uffd) {
		err = kg_uffd_run(vm);
		if (err)
			goto out;
	}

	for (;;) {
		bool busy = false, all_done = true;
		struct timespec wait;
		double t;
		int sig;

		for (unsigned int i = 0; i < vm->nvcpus; i++) {
			struct kg_vcpu *v = &vm->vcpus[i];

			if (__atomic_load_n(&v->exited, __ATOMIC_ACQUIRE)) {
				/* Thread messages are complete sentences. */
				vm->err_complete = !vm->err[0];
				err = vm_fail(
					vm, v->err ? v->err : -EPROTO, "%s",
					v->errmsg[0] ?
						v->errmsg :
						"vCPU thread ended early");
				goto out;
			}
			if (!kg_pb_get(v, PB_DONE))
				all_done = false;
			err = service_vcpu(vm, v, &busy);
			if (err)
				goto out;
		}
		if (vm->uffd) {
			err = kg_uffd_poll(vm, &busy);
			if (err)
				goto out;
		}
		t = kp_mono_s();
		if (all_done) {
			t_done = t;
			break;
		}
		if (deadline_fail && t >= deadline_fail) {
			vm->err_complete = !vm->err[0];
			err = vm_fail(
				vm, -ETIMEDOUT,
				"guest did not finish within --timeout %g s",
				c->timeout);
			goto out;
		}
		if (!stopping && deadline_stop && t >= deadline_stop) {
			stopping = true;
			stop_guests(vm);
		}
		/* Sleep; short while the guest waits for us. */
		wait.tv_sec = 0;
		wait.tv_nsec = busy ? 20000 : 1000000;
		sig = sigtimedwait(&stopsigs, NULL, &wait);
		if (sig > 0 && !stopping) {
			stopping = true;
			vm->interrupted = true;
			vm->signo = sig;
			stop_guests(vm);
		}
	}
out:
	stop_threads(vm);
	if (vm->uffd)
		kg_uffd_stop(vm);
	vm->elapsed = (t_done ? t_done : kp_mono_s()) - t0;
	return err;
}
