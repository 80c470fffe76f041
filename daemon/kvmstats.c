// SPDX-License-Identifier: GPL-2.0-only
/* KVM's own statistics of each VM: see kvmstats.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <kvmprof/json.h>
#include <kvmprof/procfs.h>
#include <kvmprof/util.h>
#include "kvmstats.h"
#include "registry.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif

#define SCAN_MIN_MS 1000
#define SCAN_MAX_MS 60000
#define LINK_MAX_LEN 64

static void vm_ks_free(struct vm_ks *k)
{
	if (!k)
		return;
	for (size_t i = 0; i < k->nfds; i++) {
		if (k->fds[i].fd >= 0)
			close(k->fds[i].fd);
		free(k->fds[i].vals);
	}
	free(k->fds);
	ks_debugfs_free(k->dbg);
	free(k);
}

static void vm_gone(void *arg, struct vm *vm)
{
	struct kvmstats *ks = arg;

	vm_ks_free(vm->ks);
	vm->ks = NULL;
	if (ks->next_free)
		ks->next_free(ks->next_free_arg, vm);
}

void kvmstats_init(struct kvmstats *ks, struct registry *reg, bool enabled)
{
	memset(ks, 0, sizeof(*ks));
	ks->enabled = enabled;
	ks->debugfs_root = KS_DEBUGFS_ROOT;
	ks->next_free = reg->on_vm_free;
	ks->next_free_arg = reg->on_vm_free_arg;
	reg->on_vm_free = vm_gone;
	reg->on_vm_free_arg = ks;
}

void kvmstats_fini(struct kvmstats *ks, struct registry *reg)
{
	for (size_t i = 0; reg && i < reg->nvms; i++) {
		vm_ks_free(reg->vms[i]->ks);
		reg->vms[i]->ks = NULL;
	}
	for (size_t i = 0; i < ks->nschemas; i++)
		kp_ks_free(&ks->schemas[i]);
	ks->nschemas = 0;
	free(ks->known);
	ks->known = NULL;
	ks->nknown = 0;
}

/* "-1" style vCPU ids are not KVM's: decimal digits only. */
static bool parse_id(const char *s, int32_t *ret)
{
	uint64_t v;

	if (!kp_parse_u64(s, strlen(s), &v) || v > INT32_MAX)
		return false;
	*ret = (int32_t)v;
	return true;
}

int kvmstats_classify(const char *t, int32_t *vcpu)
{
	static const char vcpu_stats[] = "anon_inode:kvm-vcpu-stats:";
	static const char vcpu_fd[] = "anon_inode:kvm-vcpu:";

	if (!strcmp(t, "anon_inode:kvm-vm-stats")) {
		*vcpu = -1;
		return 1;
	}
	if (!strncmp(t, vcpu_stats, sizeof(vcpu_stats) - 1))
		return parse_id(t + sizeof(vcpu_stats) - 1, vcpu) ? 2 : 0;
	if (!strcmp(t, "anon_inode:kvm-vm"))
		return 3;
	if (!strncmp(t, vcpu_fd, sizeof(vcpu_fd) - 1))
		return parse_id(t + sizeof(vcpu_fd) - 1, vcpu) ? 4 : 0;
	return 0;
}

/* One schema per distinct descriptor set: @s is taken over. */
static const struct kp_ks_schema *intern(struct kvmstats *ks,
					 struct kp_ks_schema *s)
{
	for (size_t i = 0; i < ks->nschemas; i++) {
		if (kp_ks_same(&ks->schemas[i], s)) {
			kp_ks_free(s);
			return &ks->schemas[i];
		}
	}
	if (ks->nschemas == KS_MAX_SCHEMAS) {
		kp_ks_free(s);
		return NULL;
	}
	ks->schemas[ks->nschemas] = *s;
	return &ks->schemas[ks->nschemas++];
}

/* The VMM's fd @num, which linked to @want: our copy, or -errno. */
static int take_fd(struct kvmstats *ks, int pidfd, int num, const char *want)
{
	char path[40], got[LINK_MAX_LEN];
	ssize_t n;
	int fd, err;

	(void)ks; /* CAP_SYS_PTRACE is up: scan() */
	fd = (int)syscall(SYS_pidfd_getfd, pidfd, num, 0);
	err = errno;
	if (fd < 0)
		return -err;
	/* the VMM may have closed and reused the number meanwhile */
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, got, sizeof(got) - 1);
	if (n < 0 || (size_t)n != strlen(want) ||
	    memcmp(got, want, (size_t)n)) {
		close(fd);
		return -ESTALE;
	}
	return fd;
}

static bool have_fd(const struct vm_ks *k, int32_t vcpu)
{
	for (size_t i = 0; i < k->nfds; i++)
		if (k->fds[i].vcpu == vcpu)
			return true;
	return false;
}

/* Take the stats fd @num (@target, for vCPU @vcpu or -1) of the VMM. */
static int add_fd(struct kvmstats *ks, struct vm_ks *k, int pidfd, int num,
		  const char *target, int32_t vcpu)
{
	struct kp_ks_schema s;
	struct ks_fd *nf, *f;
	char err[128];
	int fd, r;

	if (k->nfds >= KS_MAX_FDS)
		return -E2BIG;
	fd = take_fd(ks, pidfd, num, target);
	if (fd < 0)
		return fd;
	r = kp_ks_load(kp_ks_read_fd, &fd, &s, err, sizeof(err));
	if (r) {
		snprintf(k->reason, sizeof(k->reason), "%s: %s", target, err);
		close(fd);
		return r;
	}
	nf = realloc(k->fds, (k->nfds + 1) * sizeof(*nf));
	if (!nf) {
		kp_ks_free(&s);
		close(fd);
		return -ENOMEM;
	}
	k->fds = nf;
	f = &k->fds[k->nfds];
	memset(f, 0, sizeof(*f));
	memcpy(f->id, s.id, sizeof(f->id));
	f->schema = intern(ks, &s);
	f->vals = f->schema ? calloc(f->schema->nvalues + 1, 8) : NULL;
	if (!f->vals) {
		snprintf(k->reason, sizeof(k->reason), "%s: %s", target,
			 f->schema ? "out of memory" :
				     "more descriptor sets than kept");
		close(fd);
		return f->schema ? -ENOMEM : -E2BIG;
	}
	f->fd = fd;
	f->vcpu = vcpu;
	k->nfds++;
	ks->fds_taken++;
	return 0;
}

static int cmp_fd(const void *a, const void *b)
{
	const struct ks_fd *x = a, *y = b;

	return x->vcpu < y->vcpu ? -1 : x->vcpu > y->vcpu;
}

/* Look through the VMM's fds; take the stats fds not held yet. */
static int scan_fds(struct kvmstats *ks, struct vm *vm, struct vm_ks *k,
		    int pidfd)
{
	char dir[32], target[LINK_MAX_LEN];
	struct dirent *de;
	size_t seen = 0;
	int r = 0;
	DIR *d;

	/* reading another user's (or a more capable process') fd links is
	 * PTRACE_MODE_READ: denied links are an error, not "no KVM fd" */
	snprintf(dir, sizeof(dir), "/proc/%u/fd", vm->pid);
	d = opendir(dir);
	if (!d)
		return -errno;
	k->vcpu_fds = 0;
	while ((de = readdir(d)) && seen++ < KS_MAX_SCAN_FDS) {
		int32_t vcpu, num;
		ssize_t n;
		int c, e;

		if (!parse_id(de->d_name, &num))
			continue;
		n = readlinkat(dirfd(d), de->d_name, target,
			       sizeof(target) - 1);
		if (n < 0 && (errno == EACCES || errno == EPERM) && !r)
			r = -errno;
		if (n <= 0)
			continue;
		target[n] = '\0';
		c = kvmstats_classify(target, &vcpu);
		if (c == 3)
			k->is_vmm = true;
		if (c == 4)
			k->vcpu_fds++;
		if ((c != 1 && c != 2) || have_fd(k, vcpu))
			continue;
		e = add_fd(ks, k, pidfd, num, target, vcpu);
		if (e && !r)
			r = e;
	}
	closedir(d);
	qsort(k->fds, k->nfds, sizeof(*k->fds), cmp_fd);
	return r;
}

/* No stats fds: KVM's debugfs files of the VMM's VM if there are
 * (kvm_stat's source), with the reason either way. */
static void no_stats_fds(struct kvmstats *ks, struct vm *vm, struct vm_ks *k)
{
	const char *why = "the VMM keeps no KVM stats fd open (KVM makes "
			  "one only for the VMM itself)";
	int r;

	if (!k->is_vmm) {
		snprintf(k->reason, sizeof(k->reason),
			 "no KVM VM fd in the process");
		return;
	}
	r = k->dbg ? 0 :
		     ks_debugfs_find(ks->debugfs_root, (pid_t)vm->pid, &k->dbg);
	if (!r)
		r = ks_debugfs_read(k->dbg);
	if (!r)
		snprintf(k->reason, sizeof(k->reason),
			 "%s: debugfs %.150s, per-VM sums", why, k->dbg->dir);
	else
		snprintf(k->reason, sizeof(k->reason), "%s; debugfs %.100s: %s",
			 why, ks->debugfs_root,
			 r == -ENOENT ? "no directory of this VM" :
					strerror(-r));
}

static void scan(struct kvmstats *ks, struct vm *vm, uint64_t now)
{
	struct vm_ks *k = vm->ks;
	size_t vcpus_held;
	int pidfd, r;

	ks->scans++;
	/* effective for the fd links and pidfd_getfd() only */
	if (ks->ptrace_cap)
		ks->ptrace_cap(true);
	pidfd = (int)syscall(SYS_pidfd_open, vm->pid, 0);
	if (pidfd < 0) {
		r = -errno;
	} else if (kp_proc_alive((pid_t)vm->pid, vm->start_ns) != 1) {
		r = -ESRCH; /* the pid is another process now */
	} else {
		k->reason[0] = '\0';
		r = scan_fds(ks, vm, k, pidfd);
	}
	if (pidfd >= 0)
		close(pidfd);
	if (ks->ptrace_cap)
		ks->ptrace_cap(false);
	k->err = r;
	if (r)
		ks->errors++;
	if (r == -EPERM || r == -EACCES)
		snprintf(k->reason, sizeof(k->reason),
			 "the VMM's fds: %s (CAP_SYS_PTRACE needed for the VMM "
			 "of another user; kvmprofd(8), PRIVILEGES)",
			 strerror(-r));
	else if (r && !k->reason[0])
		snprintf(k->reason, sizeof(k->reason), "scanning fds: %s",
			 strerror(-r));
	else if (!r && !k->nfds)
		no_stats_fds(ks, vm, k);
	vcpus_held = k->nfds - (k->nfds && k->fds[0].vcpu < 0);
	if (!r && vcpus_held >= k->vcpu_fds && k->nfds)
		k->backoff_ms = SCAN_MAX_MS; /* complete: vCPU hotplug */
	else
		k->backoff_ms = k->backoff_ms ? k->backoff_ms * 2 : SCAN_MIN_MS;
	if (k->backoff_ms > SCAN_MAX_MS)
		k->backoff_ms = SCAN_MAX_MS;
	k->next_scan_ms = now + k->backoff_ms;
}

static void read_vals(struct vm_ks *k)
{
	if (k->dbg && !k->nfds)
		ks_debugfs_read(k->dbg); /* gone with the VM: last kept */
	for (size_t i = 0; i < k->nfds; i++) {
		struct ks_fd *f = &k->fds[i];

		if (f->fd >= 0)
			f->have_vals = !kp_ks_values(kp_ks_read_fd, &f->fd,
						     f->schema, f->vals);
	}
}

void kvmstats_read(struct vm_ks *k)
{
	if (k && !k->final)
		read_vals(k);
}

void kvmstats_refresh(struct kvmstats *ks, struct vm *vm)
{
	(void)ks;
	kvmstats_read(vm->ks);
}

void kvmstats_new_vm(struct kvmstats *ks, struct vm *vm, uint64_t now_ms)
{
	if (!ks->enabled || !vm || vm->exited || vm->ks)
		return;
	vm->ks = calloc(1, sizeof(*vm->ks));
	if (vm->ks)
		scan(ks, vm, now_ms);
}

void kvmstats_tick(struct kvmstats *ks, struct registry *reg, uint64_t now_ms)
{
	if (!ks->enabled)
		return;
	for (size_t i = 0; i < reg->nvms; i++) {
		struct vm *vm = reg->vms[i];
		struct vm_ks *k = vm->ks;

		if (vm->exited) {
			if (!k || k->final)
				continue;
			/* our fds keep the VM's KVM state: final values */
			read_vals(k);
			for (size_t j = 0; j < k->nfds; j++) {
				close(k->fds[j].fd);
				k->fds[j].fd = -1;
			}
			k->final = true;
			continue;
		}
		if (!k) {
			k = vm->ks = calloc(1, sizeof(*k));
			if (!k)
				continue;
		}
		if (now_ms >= k->next_scan_ms)
			scan(ks, vm, now_ms);
	}
}

/* --- JSON --- */

static cJSON *stat_json(const struct kp_ks_desc *d, const uint64_t *v)
{
	cJSON *o = cJSON_CreateObject(), *b;

	if (!o)
		return NULL;
	cJSON_AddStringToObject(o, "name", d->name);
	cJSON_AddStringToObject(o, "type", kp_ks_type_name(d->type));
	cJSON_AddStringToObject(o, "unit", kp_ks_unit_name(d->unit));
	cJSON_AddNumberToObject(o, "base", d->base);
	cJSON_AddNumberToObject(o, "exponent", d->exponent);
	if (d->type < KP_KS_LINEAR_HIST) {
		kp_json_add_u64(o, "value", v[d->index]);
		return o;
	}
	if (d->type == KP_KS_LINEAR_HIST)
		cJSON_AddNumberToObject(o, "bucket_size", d->bucket_size);
	b = cJSON_AddArrayToObject(o, "buckets");
	for (uint32_t i = 0; b && i < d->size; i++) {
		char t[24];
		cJSON *it;

		snprintf(t, sizeof(t), "%llu",
			 (unsigned long long)v[d->index + i]);
		it = cJSON_CreateRaw(t);
		if (it)
			cJSON_AddItemToArray(b, it);
	}
	return o;
}

static cJSON *fd_json(const struct ks_fd *f)
{
	cJSON *o = cJSON_CreateObject(), *a;

	if (!o)
		return NULL;
	if (f->vcpu >= 0)
		cJSON_AddNumberToObject(o, "vcpu", f->vcpu);
	cJSON_AddStringToObject(o, "id", f->id);
	cJSON_AddBoolToObject(o, "read", f->have_vals);
	cJSON_AddNumberToObject(o, "skipped", f->schema->skipped);
	a = cJSON_AddArrayToObject(o, "stats");
	for (uint32_t i = 0; a && f->have_vals && i < f->schema->ndesc; i++)
		cJSON_AddItemToArray(a,
				     stat_json(&f->schema->desc[i], f->vals));
	return o;
}

cJSON *kvmstats_json(struct kvmstats *ks, struct vm *vm)
{
	cJSON *o = cJSON_CreateObject(), *vcpus;
	const struct vm_ks *k = vm->ks;

	if (!o)
		return NULL;
	kvmstats_refresh(ks, vm);
	cJSON_AddStringToObject(o, "id", vm->id);
	cJSON_AddStringToObject(o, "name", vm->ident.name);
	cJSON_AddNumberToObject(o, "pid", vm->pid);
	cJSON_AddBoolToObject(o, "exited", vm->exited);
	cJSON_AddStringToObject(o, "source",
				k && !k->nfds && k->dbg ?
					"debugfs (per-VM sums)" :
					"KVM stats fds (pidfd_getfd)");
	if (!ks->enabled) {
		cJSON_AddStringToObject(o, "state", "disabled");
		cJSON_AddStringToObject(o, "reason", "kvm-stats = no");
	} else if (!k) {
		cJSON_AddStringToObject(o, "state", "pending");
		cJSON_AddStringToObject(o, "reason", "not scanned yet");
	} else {
		bool dbg = !k->nfds && k->dbg && k->dbg->have_vals;

		cJSON_AddStringToObject(o, "state",
					k->nfds || dbg ?
						(k->final ? "final" : "read") :
						"unavailable");
		cJSON_AddStringToObject(o, "reason", k->reason);
		cJSON_AddNumberToObject(o, "vcpu_fds", k->vcpu_fds);
	}
	cJSON_AddItemToObject(
		o, "vm_stats",
		k && k->nfds && k->fds[0].vcpu < 0 ? fd_json(&k->fds[0]) :
		k && !k->nfds && k->dbg		   ? ks_debugfs_json(k->dbg) :
						     cJSON_CreateNull());
	vcpus = cJSON_AddArrayToObject(o, "vcpus");
	for (size_t i = 0; k && vcpus && i < k->nfds; i++)
		if (k->fds[i].vcpu >= 0)
			cJSON_AddItemToArray(vcpus, fd_json(&k->fds[i]));
	return o;
}

/* --- discovery without BPF --- */

/* Does process @pid hold a KVM VM fd? */
static bool holds_vm_fd(int32_t pid)
{
	char dir[32], target[LINK_MAX_LEN];
	struct dirent *de;
	size_t seen = 0;
	bool found = false;
	DIR *d;

	snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
	d = opendir(dir);
	if (!d)
		return false;
	while (!found && (de = readdir(d)) && seen++ < KS_MAX_SCAN_FDS) {
		ssize_t n = readlinkat(dirfd(d), de->d_name, target,
				       sizeof(target) - 1);

		if (n > 0) {
			target[n] = '\0';
			found = !strcmp(target, "anon_inode:kvm-vm");
		}
	}
	closedir(d);
	return found;
}

static bool tracked(const struct registry *reg, uint32_t pid)
{
	for (size_t i = 0; i < reg->nvms; i++)
		if (reg->vms[i]->pid == pid && !reg->vms[i]->exited)
			return true;
	return false;
}

static int cmp_pid(const void *a, const void *b)
{
	uint32_t x = ((const struct ks_pid *)a)->pid;
	uint32_t y = ((const struct ks_pid *)b)->pid;

	return x < y ? -1 : x > y;
}

int kvmstats_discover(struct kvmstats *ks, struct registry *reg,
		      uint64_t now_ms)
{
	uint64_t tick_ns = 1000000000ull / (uint64_t)sysconf(_SC_CLK_TCK);
	bool full = now_ms >= ks->next_full_ms;
	struct ks_pid *seen = NULL;
	size_t nseen = 0, cap = 0;
	bool cut = false;
	struct dirent *de;
	int added = 0, self = getpid();
	DIR *d = opendir("/proc");

	if (!d)
		return -errno;
	/* other users' fd links: PTRACE_MODE_READ */
	if (ks->ptrace_cap)
		ks->ptrace_cap(true);
	while ((de = readdir(d))) {
		struct ks_pid key = { .first_ms = now_ms }, *k;
		int32_t pid;
		uint64_t ticks;
		uint32_t p;

		if (!parse_id(de->d_name, &pid) || pid == self)
			continue;
		p = key.pid = (uint32_t)pid;
		k = ks->nknown ? bsearch(&key, ks->known, ks->nknown,
					 sizeof(key), cmp_pid) :
				 NULL;
		if (k)
			key.first_ms = k->first_ms;
		if (nseen == cap && !cut) {
			size_t nc = cap ? cap * 2 : ks->nknown + 256;
			struct ks_pid *ns =
				nc <= KS_MAX_KNOWN ?
					realloc(seen, nc * sizeof(*ns)) :
					NULL;

			cut = !ns;
			if (ns) {
				seen = ns;
				cap = nc;
			}
		}
		if (!cut)
			seen[nseen++] = key;
		if ((!full && now_ms - key.first_ms >= KS_NEW_MS) ||
		    tracked(reg, p) || !holds_vm_fd(pid) ||
		    kp_proc_stat(pid, &ticks, NULL, 0))
			continue;
		if (!registry_note_vm(reg, p, ticks * tick_ns, NULL, now_ms))
			added++;
		else
			reg->vms_dropped++;
	}
	if (ks->ptrace_cap)
		ks->ptrace_cap(false);
	closedir(d);
	/* what the next passes need not look at again (a list cut short by
	 * the bound makes every pass a full one) */
	free(ks->known);
	ks->known = seen;
	ks->nknown = cut ? 0 : nseen;
	if (ks->nknown)
		qsort(ks->known, ks->nknown, sizeof(*ks->known), cmp_pid);
	if (full)
		ks->next_full_ms = now_ms + KS_FULL_PASS_MS;
	return added;
}
