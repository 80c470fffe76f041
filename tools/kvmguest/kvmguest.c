// SPDX-License-Identifier: GPL-2.0-only
/*
 * kvmguest: a small VMM on /dev/kvm running a deterministic x86-64 guest
 * (guest.S) for testing and demonstrating kvmprof.  Options, report, main.
 * Documentation: docs/kvmguest.md.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <linux/kvm.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "uffd.h"
#include "vm.h"

#define EXIT_USAGE	2
#define EXIT_SKIP	77	/* no usable /dev/kvm: tests skip */

#define DEFAULT_PIO_PORT	0x3f8

static const char usage_text[] =
	"usage: kvmguest [options]\n"
	"\n"
	"Runs a deterministic long-mode guest at CPL3 on /dev/kvm.  Totals\n"
	"are split over the vCPUs: vCPU i gets total/M, plus 1 if i < total%M.\n"
	"\n"
	"  --name NAME           VM name, left in argv for kvmprofd (like kvmtool)\n"
	"  --vcpus M             vCPUs, 1..64 (default 1); threads are named vcpuI\n"
	"  --pio N               N one-byte OUTs to the port\n"
	"  --pio-in N            N one-byte INs from the port\n"
	"  --pio-port P          port for --pio/--pio-in (default 0x3f8: no\n"
	"                        in-kernel device, each access is KVM_EXIT_IO;\n"
	"                        0x21 with --irqchip stays in the kernel's PIC)\n"
	"  --mmio-write K        K 4-byte writes to GPA 0xd0000000 (no memslot:\n"
	"                        each is KVM_EXIT_MMIO)\n"
	"  --mmio-read R         R 4-byte reads from GPA 0xd0000000\n"
	"  --hlt H               H HLTs (trapped at CPL3, executed by the guest's\n"
	"                        #GP handler at CPL0): KVM_EXIT_HLT each, or with\n"
	"                        --irqchip an in-kernel halt that the VMM ends with\n"
	"                        one KVM_SIGNAL_MSI once the vCPU blocks\n"
	"  --irqchip             KVM_CREATE_IRQCHIP (PIC, IOAPIC, x2APIC LAPICs),\n"
	"                        guest runs with RFLAGS.IF=1\n"
	"  --msi S               S KVM_SIGNAL_MSI interrupts taken by the guest, one\n"
	"                        at a time (needs --irqchip)\n"
	"  --touch-pages T       T 8-byte writes, one per 4 KiB guest page, at\n"
	"                        GPA 0x100000000 (slot 1, no THP): shadow-MMU faults\n"
	"  --duration SECONDS    loop mode: repeat the workload round until time\n"
	"                        is up; the report gives rates per second\n"
	"  --repeat              loop mode until SIGINT/SIGTERM (demo)\n"
	"                        (loop mode: counts are per round; the stop is\n"
	"                        checked before every operation, counts stay exact)\n"
	"  --timeout SECONDS     fail if the guest has not finished by then\n"
	"  --uffd                back the touch area with userfaultfd (MISSING);\n"
	"                        with --irqchip each page is one async page fault\n"
	"  --uffd-delay-ms D     delay before resolving each fault (default 0)\n"
	"  --msi-interval-ms I   with --uffd --irqchip: one MSI every I ms to each\n"
	"                        vCPU touching pages while a fault is outstanding\n"
	"                        (async-PF repeated faults)\n"
	"  --vm-stats-fd         keep the VM's statistics fd (KVM_GET_STATS_FD) open,\n"
	"                        as a VMM serving KVM's per-VM statistics does\n"
	"  --irqfd N             with --irqchip: after the workload, N writes to an\n"
	"                        eventfd bound to GSI 5 with KVM_IRQFD (injected by\n"
	"                        KVM in a kworker; writes in flight may coalesce)\n"
	"  --report FILE|-       write the JSON report to FILE or stdout\n"
	"  -v, --verbose         print a summary line on stderr\n"
	"  -h, --help            this text\n"
	"\n"
	"Exit status: 0 done (also after SIGINT/SIGTERM in loop mode), 1 failure,\n"
	"2 usage error, 77 /dev/kvm not available.\n";

enum {
	OPT_NAME = 256,
	OPT_VCPUS,
	OPT_PIO,
	OPT_PIO_IN,
	OPT_PIO_PORT,
	OPT_MMIO_WRITE,
	OPT_MMIO_READ,
	OPT_HLT,
	OPT_IRQCHIP,
	OPT_MSI,
	OPT_TOUCH,
	OPT_DURATION,
	OPT_REPEAT,
	OPT_TIMEOUT,
	OPT_UFFD,
	OPT_UFFD_DELAY,
	OPT_MSI_INTERVAL,
	OPT_REPORT,
	OPT_IRQFD,
	OPT_VM_STATS_FD,
};

static const struct option long_opts[] = {
	{ "name", required_argument, NULL, OPT_NAME },
	{ "vcpus", required_argument, NULL, OPT_VCPUS },
	{ "pio", required_argument, NULL, OPT_PIO },
	{ "pio-in", required_argument, NULL, OPT_PIO_IN },
	{ "pio-port", required_argument, NULL, OPT_PIO_PORT },
	{ "mmio-write", required_argument, NULL, OPT_MMIO_WRITE },
	{ "mmio-read", required_argument, NULL, OPT_MMIO_READ },
	{ "hlt", required_argument, NULL, OPT_HLT },
	{ "irqchip", no_argument, NULL, OPT_IRQCHIP },
	{ "msi", required_argument, NULL, OPT_MSI },
	{ "touch-pages", required_argument, NULL, OPT_TOUCH },
	{ "duration", required_argument, NULL, OPT_DURATION },
	{ "repeat", no_argument, NULL, OPT_REPEAT },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "uffd", no_argument, NULL, OPT_UFFD },
	{ "uffd-delay-ms", required_argument, NULL, OPT_UFFD_DELAY },
	{ "msi-interval-ms", required_argument, NULL, OPT_MSI_INTERVAL },
	{ "report", required_argument, NULL, OPT_REPORT },
	{ "irqfd", required_argument, NULL, OPT_IRQFD },
	{ "vm-stats-fd", no_argument, NULL, OPT_VM_STATS_FD },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

struct options {
	struct kg_config cfg;
	const char *report;
	uint64_t irqfd;
	bool repeat;
	bool verbose;
};

/* Parses an unsigned integer (decimal, 0x hex) no larger than @max. */
static int parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (!*s || *s == '-')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end)
		return -EINVAL;
	if (v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

/* Parses seconds: a finite number >= 0. */
static int parse_seconds(const char *s, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || end == s || !isfinite(v) || v < 0)
		return -EINVAL;
	*out = v;
	return 0;
}

/* Usage error: message on stderr, returns EXIT_USAGE. */
static int __attribute__((format(printf, 1, 2))) usage_err(const char *fmt,
							   ...)
{
	va_list ap;

	fputs("kvmguest: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\n(see kvmguest --help)\n", stderr);
	return EXIT_USAGE;
}

/* Returns 0, or the exit status to use (help or usage error). */
static int parse_options(int argc, char **argv, struct options *o, bool *help)
{
	struct kg_config *c = &o->cfg;
	uint64_t v;
	int opt, idx = 0;

	memset(o, 0, sizeof(*o));
	c->nvcpus = 1;
	c->pio_port = DEFAULT_PIO_PORT;
	*help = false;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":vh", long_opts, &idx)) != -1) {
		/* Option as written: "--pio" (argv[optind - 1] may be its value). */
		char name[32];
		uint64_t *dst = NULL;
		uint64_t max = UINT64_MAX / 2;

		if (opt >= OPT_NAME)
			snprintf(name, sizeof(name), "--%s", long_opts[idx].name);
		else
			snprintf(name, sizeof(name), "%s",
				 optind > 0 && optind <= argc ?
				 argv[optind - 1] : "?");
		switch (opt) {
		case OPT_NAME:
			if (!*optarg)
				return usage_err("--name: empty name");
			c->name = optarg;
			continue;
		case OPT_VCPUS:
			if (parse_u64(optarg, MAX_VCPUS, &v) || v < 1)
				return usage_err("--vcpus: need 1..%d, got '%s'",
						 MAX_VCPUS, optarg);
			c->nvcpus = v;
			continue;
		case OPT_PIO_PORT:
			if (parse_u64(optarg, 0xffff, &v))
				return usage_err("--pio-port: need 0..0xffff, got '%s'",
						 optarg);
			if (v == FAULT_PORT)
				return usage_err("--pio-port: %#x is reserved for guest fault reports",
						 FAULT_PORT);
			c->pio_port = v;
			continue;
		case OPT_PIO: dst = &c->pio_out; break;
		case OPT_PIO_IN: dst = &c->pio_in; break;
		case OPT_MMIO_WRITE: dst = &c->mmio_write; break;
		case OPT_MMIO_READ: dst = &c->mmio_read; break;
		case OPT_HLT: dst = &c->hlt; break;
		case OPT_MSI: dst = &c->msi; break;
		case OPT_TOUCH: dst = &c->touch_pages; break;
		case OPT_UFFD_DELAY:
		case OPT_MSI_INTERVAL:
			if (parse_u64(optarg, 3600 * 1000, &v))
				return usage_err("%s: need milliseconds 0..3600000, got '%s'",
						 name, optarg);
			if (opt == OPT_UFFD_DELAY)
				c->uffd_delay_ms = v;
			else
				c->msi_interval_ms = v;
			continue;
		case OPT_IRQCHIP: c->irqchip = true; continue;
		case OPT_REPEAT: o->repeat = true; continue;
		case OPT_UFFD: c->uffd = true; continue;
		case OPT_VM_STATS_FD:
			c->vm_stats_fd = true;
			continue;
		case OPT_DURATION:
		case OPT_TIMEOUT: {
			double *d = opt == OPT_DURATION ? &c->duration :
				    &c->timeout;

			if (parse_seconds(optarg, d))
				return usage_err("%s: need seconds >= 0, got '%s'",
						 opt == OPT_DURATION ?
						 "--duration" : "--timeout",
						 optarg);
			continue;
		}
		case OPT_REPORT: o->report = optarg; continue;
		case OPT_IRQFD:
			if (parse_u64(optarg, 1000000, &o->irqfd))
				return usage_err(
					"--irqfd: need 0..1000000, got '%s'",
					optarg);
			continue;
		case 'v': o->verbose = true; continue;
		case 'h': *help = true; return 0;
		case ':':
			return usage_err("%s: missing argument", name);
		default:
			return usage_err("unknown option '%s'", name);
		}
		if (parse_u64(optarg, max, dst))
			return usage_err("%s: need a count >= 0, got '%s'",
					 name, optarg);
	}
	if (optind < argc)
		return usage_err("unexpected argument '%s'", argv[optind]);

	c->loop = o->repeat || c->duration > 0;
	if (o->repeat && c->duration > 0)
		return usage_err("--repeat and --duration exclude each other");
	if (c->loop && !(c->pio_out || c->pio_in || c->mmio_write ||
			 c->mmio_read || c->hlt || c->msi))
		return usage_err("--duration/--repeat need a workload that exits (--pio, --mmio-*, --hlt, --msi)");
	if (c->msi && !c->irqchip)
		return usage_err("--msi needs --irqchip");
	if (o->irqfd && (!c->irqchip || o->repeat))
		return usage_err("--irqfd needs --irqchip, not --repeat");
	if (c->uffd && !c->touch_pages)
		return usage_err("--uffd needs --touch-pages");
	if ((c->uffd_delay_ms || c->msi_interval_ms) && !c->uffd)
		return usage_err("--uffd-delay-ms/--msi-interval-ms need --uffd");
	if (c->msi_interval_ms && !c->irqchip)
		return usage_err("--msi-interval-ms needs --irqchip");
	return 0;
}

/* ------------------------------------------------------------ report */

static cJSON *add_u64(cJSON *obj, const char *key, uint64_t v)
{
	return cJSON_AddNumberToObject(obj, key, (double)v);
}

static cJSON *vcpu_report(const struct kg_vcpu *v)
{
	cJSON *o = cJSON_CreateObject(), *ex;

	add_u64(o, "id", v->id);
	add_u64(o, "tid", v->tid);
	add_u64(o, "pio_out", kg_pb_get(v, PB_CNT_OUT));
	add_u64(o, "pio_in", kg_pb_get(v, PB_CNT_IN));
	add_u64(o, "mmio_write", kg_pb_get(v, PB_CNT_MMIO_W));
	add_u64(o, "mmio_read", kg_pb_get(v, PB_CNT_MMIO_R));
	add_u64(o, "hlt", kg_pb_get(v, PB_CNT_HLT));
	add_u64(o, "pages_touched", kg_pb_get(v, PB_CNT_TOUCH));
	add_u64(o, "msi_received", kg_pb_get(v, PB_CNT_MSI));
	add_u64(o, "hlt_wakeups", kg_pb_get(v, PB_CNT_WAKE));
	add_u64(o, "periodic_msi_received", kg_pb_get(v, PB_CNT_PERIODIC));
	add_u64(o, "rounds", kg_pb_get(v, PB_ROUNDS));
	add_u64(o, "msi_sent", v->msi_sent);
	add_u64(o, "hlt_wake_msi_sent", v->wakes_sent);
	add_u64(o, "periodic_msi_sent", v->periodic_msi_sent);
	add_u64(o, "kvm_run", v->runs);
	ex = cJSON_AddObjectToObject(o, "exits");
	for (unsigned int r = 0; r < KG_NR_EXITS; r++) {
		const char *n = kg_exit_name(r);
		char buf[16];
		bool always = r == KVM_EXIT_IO || r == KVM_EXIT_MMIO ||
			      r == KVM_EXIT_HLT || r == KVM_EXIT_INTR;

		if (!v->exits[r] && !always)
			continue;
		if (!n) {
			snprintf(buf, sizeof(buf), "%u", r);
			n = buf;
		}
		add_u64(ex, n, v->exits[r]);
	}
	if (v->exits_other)
		add_u64(ex, "OTHER", v->exits_other);
	return o;
}

static cJSON *build_report(const struct kg_vm *vm, const struct options *o)
{
	const struct kg_config *c = &o->cfg;
	cJSON *r = cJSON_CreateObject(), *arr, *req;
	uint64_t ops = 0, out = 0, msi_req = 0, wakes = 0;
	char hex[24];

	add_u64(r, "pid", getpid());
	if (c->name)
		cJSON_AddStringToObject(r, "name", c->name);
	else
		cJSON_AddNullToObject(r, "name");
	cJSON_AddBoolToObject(r, "irqchip", c->irqchip);
	cJSON_AddBoolToObject(r, "halt_poll_off", vm->halt_poll_off);
	add_u64(r, "pio_port", c->pio_port);
	snprintf(hex, sizeof(hex), "%#llx", (unsigned long long)MMIO_GPA);
	cJSON_AddStringToObject(r, "mmio_gpa", hex);
	snprintf(hex, sizeof(hex), "%#llx", (unsigned long long)TOUCH_GPA);
	cJSON_AddStringToObject(r, "touch_gpa", hex);
	cJSON_AddStringToObject(r, "mode", !c->loop ? "once" :
				o->repeat ? "repeat" : "duration");
	cJSON_AddBoolToObject(r, "interrupted", vm->interrupted);
	cJSON_AddBoolToObject(r, "uffd", c->uffd);

	/* What was asked for, totals over all vCPUs (per round). */
	req = cJSON_AddObjectToObject(r, "requested");
	add_u64(req, "vcpus", c->nvcpus);
	add_u64(req, "pio_out", c->pio_out);
	add_u64(req, "pio_in", c->pio_in);
	add_u64(req, "mmio_write", c->mmio_write);
	add_u64(req, "mmio_read", c->mmio_read);
	add_u64(req, "hlt", c->hlt);
	add_u64(req, "msi", c->msi);
	add_u64(req, "touch_pages", c->touch_pages);
	add_u64(req, "irqfd", o->irqfd);

	arr = cJSON_AddArrayToObject(r, "vcpus");
	for (unsigned int i = 0; i < vm->nvcpus; i++) {
		const struct kg_vcpu *v = &vm->vcpus[i];

		cJSON_AddItemToArray(arr, vcpu_report(v));
		out += kg_pb_get(v, PB_CNT_OUT);
		ops += kg_pb_get(v, PB_CNT_OUT) + kg_pb_get(v, PB_CNT_IN) +
		       kg_pb_get(v, PB_CNT_MMIO_W) +
		       kg_pb_get(v, PB_CNT_MMIO_R) + kg_pb_get(v, PB_CNT_HLT);
		msi_req += v->msi_sent;
		wakes += v->wakes_sent;
	}
	/* Every KVM_SIGNAL_MSI ioctl = one kvm_msi_set_irq event. */
	add_u64(r, "msi", vm->msi_ioctls);
	add_u64(r, "msi_requested", msi_req);
	add_u64(r, "msi_hlt_wake", wakes);
	add_u64(r, "msi_periodic", vm->msi_ioctls - msi_req - wakes);
	if (c->uffd) {
		cJSON *u = cJSON_AddObjectToObject(r, "uffd_stats");
		uint64_t faults, copies, eexist;

		kg_uffd_stats(vm, &faults, &copies, &eexist);
		add_u64(u, "delay_ms", c->uffd_delay_ms);
		add_u64(u, "msi_interval_ms", c->msi_interval_ms);
		add_u64(u, "faults", faults);
		add_u64(u, "copies", copies);
		add_u64(u, "already_resolved", eexist);
	}
	cJSON_AddNumberToObject(r, "elapsed_s", vm->elapsed);
	/* Exiting guest operations (OUT, IN, MMIO, HLT) and OUTs per second. */
	add_u64(r, "guest_exits", ops);
	cJSON_AddNumberToObject(r, "exits_per_s",
				vm->elapsed > 0 ? ops / vm->elapsed : 0);
	cJSON_AddNumberToObject(r, "pio_out_per_s",
				vm->elapsed > 0 ? out / vm->elapsed : 0);
	return r;
}

static int write_report(const cJSON *r, const char *path)
{
	char *text = cJSON_Print(r);
	FILE *f;
	int err = 0;

	if (!text)
		return -ENOMEM;
	if (!strcmp(path, "-")) {
		f = stdout;
	} else {
		f = fopen(path, "w");
		if (!f) {
			err = -errno;
			goto out;
		}
	}
	if (fprintf(f, "%s\n", text) < 0)
		err = -EIO;
	if (f == stdout ? fflush(f) : fclose(f))
		err = err ? err : -errno;
out:
	free(text);
	return err;
}

/* ------------------------------------------------------------- main */

static bool is_no_kvm(int err)
{
	return err == -ENOENT || err == -ENXIO || err == -ENODEV ||
	       err == -EACCES || err == -EPERM;
}

/*
 * @n writes to an eventfd that KVM_IRQFD binds to GSI 5 (an IOAPIC pin:
 * KVM injects it from a kworker, irqfd_inject); deassigning it waits for
 * that work.  0 or -errno.
 */
static int irqfd_writes(struct kg_vm *vm, uint64_t n)
{
	struct kvm_irqfd irqfd = { .gsi = 5 };
	uint64_t one = 1;
	int err = 0;

	irqfd.fd = (__u32)eventfd(0, EFD_CLOEXEC);
	if ((int)irqfd.fd < 0)
		return -errno;
	if (ioctl(vm->vm_fd, KVM_IRQFD, &irqfd) < 0)
		err = -errno;
	for (uint64_t i = 0; !err && i < n; i++)
		if (write((int)irqfd.fd, &one, sizeof(one)) != sizeof(one))
			err = -errno;
	irqfd.flags = KVM_IRQFD_FLAG_DEASSIGN;
	if (ioctl(vm->vm_fd, KVM_IRQFD, &irqfd) < 0 && !err)
		err = -errno;
	close((int)irqfd.fd);
	return err;
}

int main(int argc, char **argv)
{
	struct options o;
	struct kg_vm vm;
	sigset_t block;
	bool help;
	int err, rc = 0;

	rc = parse_options(argc, argv, &o, &help);
	if (rc)
		return rc;
	if (help) {
		fputs(usage_text, stdout);
		return 0;
	}

	/*
	 * SIGINT/SIGTERM are taken synchronously by the controller
	 * (sigtimedwait); every thread inherits this mask.
	 */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &block, NULL);

	err = kg_vm_open(&vm, &o.cfg);
	if (err) {
		if (is_no_kvm(err)) {
			fprintf(stderr, "kvmguest: /dev/kvm not available (%s)\n",
				strerror(-err));
			kg_vm_close(&vm);
			return EXIT_SKIP;
		}
		fprintf(stderr, "kvmguest: %s: %s\n", vm.err, strerror(-err));
		kg_vm_close(&vm);
		return 1;
	}
	err = kg_vm_setup(&vm);
	if (!err)
		err = kg_vm_run(&vm);
	if (!err && o.irqfd) {
		err = irqfd_writes(&vm, o.irqfd);
		if (err)
			snprintf(vm.err, sizeof(vm.err), "KVM_IRQFD");
	}
	if (err) {
		fprintf(stderr, "kvmguest: %s", vm.err);
		if (!vm.err_complete)
			fprintf(stderr, ": %s", strerror(-err));
		fputc('\n', stderr);
		rc = 1;
	} else if (vm.interrupted && !o.cfg.loop) {
		fprintf(stderr, "kvmguest: stopped by SIG%s before the workload finished\n",
			sigabbrev_np(vm.signo));
		rc = 1;
	}

	/* The report is written on failure too (partial counts). */
	if (o.report && vm.nvcpus) {
		cJSON *r = build_report(&vm, &o);
		int werr;

		if (err)
			cJSON_AddStringToObject(r, "error", vm.err);
		werr = write_report(r, o.report);
		cJSON_Delete(r);
		if (werr) {
			fprintf(stderr, "kvmguest: write report %s: %s\n",
				o.report, strerror(-werr));
			rc = 1;
		}
	}
	if (o.verbose && vm.nvcpus) {
		uint64_t outs = 0;

		for (unsigned int i = 0; i < vm.nvcpus; i++)
			outs += kg_pb_get(&vm.vcpus[i], PB_CNT_OUT);
		fprintf(stderr, "kvmguest: %u vCPUs, %llu OUTs in %.3f s (%.0f/s), %llu MSI ioctls\n",
			vm.nvcpus, (unsigned long long)outs, vm.elapsed,
			vm.elapsed > 0 ? outs / vm.elapsed : 0.0,
			(unsigned long long)vm.msi_ioctls);
	}
	kg_vm_close(&vm);
	return rc;
}
