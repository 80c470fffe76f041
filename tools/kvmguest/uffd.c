// SPDX-License-Identifier: GPL-2.0-only
/*
 * kvmguest --uffd: userfaultfd backing for the page-touch area (uffd.h).
 *
 * Why one async page fault per page: the vCPU's first attempt to fault the
 * page in is non-blocking (FOLL_NOWAIT), and userfaultfd answers such an
 * attempt with "retry" without queueing anything.  KVM then queues async
 * work (kvm_async_pf_not_present); the kworker's blocking fault is the one
 * message we read here; after UFFDIO_COPY the work completes and the vCPU
 * continues.  That needs an in-kernel irqchip and guest IF=1; otherwise
 * the vCPU thread itself blocks in the fault (still one message per page).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <kvmprof/util.h>
#include "uffd.h"
#include "vm.h"

struct kg_uffd {
	int fd;			/* the userfaultfd */
	int stop_fd;		/* eventfd: handler thread, stop */
	pthread_t thread;
	bool started;
	void *src;		/* one page copied into every faulting page */
	unsigned int delay_ms;
	/* Written by the handler thread, read by the controller. */
	uint64_t faults;	/* page-fault messages read */
	uint64_t copies;	/* pages resolved with UFFDIO_COPY */
	uint64_t eexist;	/* faults for pages already resolved */
	int err;		/* -errno from the handler, 0 if none */
	char errmsg[160];
	/* Controller: time of the last periodic MSI per vCPU. */
	double last_msi[MAX_VCPUS];
};

static int uffd_fail(struct kg_vm *vm, int err, const char *what)
{
	snprintf(vm->err, sizeof(vm->err), "%s", what);
	return err;
}

/*
 * A userfaultfd that also sees faults taken in the kernel (KVM's and the
 * kworker's get_user_pages): no UFFD_USER_MODE_ONLY.  The syscall first,
 * /dev/userfaultfd (Linux 6.1+) if the syscall is refused.
 */
static int open_uffd(void)
{
	int fd = syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);

	if (fd >= 0)
		return fd;
	if (errno == EPERM || errno == ENOSYS) {
		int dev = open("/dev/userfaultfd", O_RDWR | O_CLOEXEC);

		if (dev >= 0) {
			fd = ioctl(dev, USERFAULTFD_IOC_NEW,
				   O_CLOEXEC | O_NONBLOCK);
			close(dev);
			if (fd >= 0)
				return fd;
		}
	}
	return -errno;
}

int kg_uffd_start(struct kg_vm *vm)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = { 0 };
	struct kg_uffd *u;

	u = calloc(1, sizeof(*u));
	if (!u)
		return uffd_fail(vm, -ENOMEM, "allocate userfaultfd state");
	u->fd = u->stop_fd = -1;
	u->delay_ms = vm->cfg->uffd_delay_ms;
	vm->uffd = u;

	u->fd = open_uffd();
	if (u->fd < 0)
		return uffd_fail(vm, u->fd, "userfaultfd");
	if (ioctl(u->fd, UFFDIO_API, &api) < 0)
		return uffd_fail(vm, -errno, "UFFDIO_API");
	reg.range.start = (uintptr_t)vm->touch;
	reg.range.len = vm->touch_size;
	reg.mode = UFFDIO_REGISTER_MODE_MISSING;
	if (ioctl(u->fd, UFFDIO_REGISTER, &reg) < 0)
		return uffd_fail(vm, -errno, "UFFDIO_REGISTER (MISSING)");
	u->stop_fd = eventfd(0, EFD_CLOEXEC);
	if (u->stop_fd < 0)
		return uffd_fail(vm, -errno, "eventfd");
	u->src = mmap(NULL, PAGE_SIZE_4K, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (u->src == MAP_FAILED) {
		u->src = NULL;
		return uffd_fail(vm, -errno, "mmap copy source page");
	}
	memset(u->src, 0, PAGE_SIZE_4K);
	return 0;
}

static void handler_fail(struct kg_uffd *u, int err, const char *what)
{
	snprintf(u->errmsg, sizeof(u->errmsg), "userfaultfd handler: %s: %s",
		 what, strerror(-err));
	__atomic_store_n(&u->err, err, __ATOMIC_RELEASE);
}

/* Resolves one fault: wait --uffd-delay-ms, then UFFDIO_COPY the page. */
static int resolve(struct kg_uffd *u, uint64_t addr)
{
	struct uffdio_copy copy = {
		.dst = addr & ~(uint64_t)(PAGE_SIZE_4K - 1),
		.src = (uintptr_t)u->src,
		.len = PAGE_SIZE_4K,
	};

	if (u->delay_ms) {
		struct timespec d = {
			.tv_sec = u->delay_ms / 1000,
			.tv_nsec = (long)(u->delay_ms % 1000) * 1000000,
		};

		while (nanosleep(&d, &d) < 0 && errno == EINTR)
			;
	}
	if (ioctl(u->fd, UFFDIO_COPY, &copy) < 0) {
		if (errno == EEXIST) {	/* resolved already */
			__atomic_add_fetch(&u->eexist, 1, __ATOMIC_RELAXED);
			return 0;
		}
		return -errno;
	}
	__atomic_add_fetch(&u->copies, 1, __ATOMIC_RELEASE);
	return 0;
}

static void *handler_thread(void *arg)
{
	struct kg_uffd *u = arg;
	struct pollfd p[2] = {
		{ .fd = u->fd, .events = POLLIN },
		{ .fd = u->stop_fd, .events = POLLIN },
	};

	prctl(PR_SET_NAME, "uffd", 0, 0, 0);
	for (;;) {
		struct uffd_msg msg;
		ssize_t n;
		int err;

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			handler_fail(u, -errno, "poll");
			break;
		}
		if (p[1].revents)
			break;
		n = read(u->fd, &msg, sizeof(msg));
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n != sizeof(msg)) {
			handler_fail(u, n < 0 ? -errno : -EIO, "read");
			break;
		}
		if (msg.event != UFFD_EVENT_PAGEFAULT)
			continue;
		__atomic_add_fetch(&u->faults, 1, __ATOMIC_RELEASE);
		err = resolve(u, msg.arg.pagefault.address);
		if (err) {
			handler_fail(u, err, "UFFDIO_COPY");
			break;
		}
	}
	return NULL;
}

int kg_uffd_run(struct kg_vm *vm)
{
	struct kg_uffd *u = vm->uffd;
	int err = pthread_create(&u->thread, NULL, handler_thread, u);

	if (err)
		return uffd_fail(vm, -err, "pthread_create userfaultfd handler");
	u->started = true;
	return 0;
}

/*
 * Controller hook.  Reports a handler failure; with --msi-interval-ms
 * sends PERIODIC_VECTOR MSIs, every interval, to each vCPU that is in its
 * page-touch phase while a fault is outstanding.  Each such interrupt
 * wakes a vCPU halted on an async page fault, which faults on the same
 * page again (kvm_async_pf_repeated_fault) and halts again.
 */
int kg_uffd_poll(struct kg_vm *vm, bool *busy)
{
	struct kg_uffd *u = vm->uffd;
	unsigned int ival = vm->cfg->msi_interval_ms;
	uint64_t outstanding;
	double t;

	if (__atomic_load_n(&u->err, __ATOMIC_ACQUIRE)) {
		vm->err_complete = true;
		snprintf(vm->err, sizeof(vm->err), "%s", u->errmsg);
		return u->err;
	}
	outstanding = __atomic_load_n(&u->faults, __ATOMIC_ACQUIRE) -
		      __atomic_load_n(&u->copies, __ATOMIC_ACQUIRE) -
		      __atomic_load_n(&u->eexist, __ATOMIC_ACQUIRE);
	if (!ival || !vm->cfg->irqchip || !outstanding)
		return 0;
	*busy = true;	/* poll finely: keep the interval accurate */
	t = kp_mono_s();
	for (unsigned int i = 0; i < vm->nvcpus; i++) {
		struct kg_vcpu *v = &vm->vcpus[i];
		int err;

		if (kg_pb_get(v, PB_PHASE) != PHASE_TOUCH)
			continue;
		if (t - u->last_msi[i] < ival / 1000.0)
			continue;
		err = kg_vm_send_msi(vm, v->id, PERIODIC_VECTOR);
		if (err)
			return err;
		v->periodic_msi_sent++;
		u->last_msi[i] = t;
	}
	return 0;
}

void kg_uffd_stop(struct kg_vm *vm)
{
	struct kg_uffd *u = vm->uffd;
	uint64_t one = 1;

	if (!u || !u->started)
		return;
	if (write(u->stop_fd, &one, sizeof(one)) != sizeof(one))
		pthread_cancel(u->thread);	/* cannot happen: eventfd */
	pthread_join(u->thread, NULL);
	u->started = false;
}

void kg_uffd_close(struct kg_vm *vm)
{
	struct kg_uffd *u = vm->uffd;

	if (!u)
		return;
	kg_uffd_stop(vm);
	if (u->fd >= 0)
		close(u->fd);
	if (u->stop_fd >= 0)
		close(u->stop_fd);
	if (u->src)
		munmap(u->src, PAGE_SIZE_4K);
	free(u);
	vm->uffd = NULL;
}

void kg_uffd_stats(const struct kg_vm *vm, uint64_t *faults, uint64_t *copies,
		   uint64_t *eexist)
{
	const struct kg_uffd *u = vm->uffd;

	*faults = u ? __atomic_load_n(&u->faults, __ATOMIC_ACQUIRE) : 0;
	*copies = u ? __atomic_load_n(&u->copies, __ATOMIC_ACQUIRE) : 0;
	*eexist = u ? __atomic_load_n(&u->eexist, __ATOMIC_ACQUIRE) : 0;
}
