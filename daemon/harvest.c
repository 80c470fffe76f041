// SPDX-License-Identifier: GPL-2.0-only
/* BPF counters and VM announcements into the registry: see harvest.h. */
#include <stdlib.h>
#include <string.h>

#include <kvmprof/procfs.h>
#include <kvmprof/vmname.h>
#include <kvmprof/util.h>
#include "daemon.h"
#include "harvest.h"
#include "probes.h"
#include "steal.h"

/* Bounded who-ran-instead counters per vCPU (steal.h). */
static int prune_stolen(struct daemon *d, uint64_t now)
{
	struct kp_count *gone = NULL;
	size_t ngone = 0;
	int r = steal_prune(&d->reg, now, &gone, &ngone);

	if (ngone && !r)
		r = probes_delete_keys(d->probes, gone, ngone);
	if (!r)
		d->keys_deleted += ngone;
	free(gone);
	return r;
}

int daemon_probe_silent(const struct daemon *d, size_t i)
{
	const struct probe *p = probes_get(d->probes, i);
	uint32_t ev = KP_EV_NONE;

	if (!strcmp(p->name, "kvm_exit"))
		ev = KP_EV_EXIT;
	else if (!strcmp(p->name, "kvm_entry"))
		ev = KP_EV_ENTRY;
	if (ev == KP_EV_NONE)
		return -1;
	return p->state == PROBE_ATTACHED && registry_silent(&d->reg, ev);
}

static void note_silence(struct daemon *d)
{
	size_t n = probes_count(d->probes);

	d->reg.exits_silent = false;
	for (size_t i = 0; i < n; i++)
		if (!strcmp(probes_get(d->probes, i)->name, "kvm_exit"))
			d->reg.exits_silent = daemon_probe_silent(d, i) == 1;
}

int daemon_harvest(struct daemon *d)
{
	struct kp_count *snap = NULL, *stale = NULL;
	size_t n = 0, nstale = 0;
	uint64_t now = kp_mono_ms();
	int r;

	registry_mark_exited(&d->reg, now);
	if (d->probes) {
		r = probes_snapshot(d->probes, &snap, &n);
	} else {
		/* bpf = no: VMMs found by their KVM VM fd */
		r = kvmstats_discover(&d->ks, &d->reg, now);
		r = r < 0 ? r : 0;
	}
	/* final KVM stats of VMs just found gone, before they may leave */
	kvmstats_tick(&d->ks, &d->reg, now);
	if (r < 0)
		goto out;
	r = registry_update(&d->reg, snap, n, now, &stale, &nstale);
	if (!r)
		r = prune_stolen(d, now);
	if (nstale) {
		int dr = probes_delete_keys(d->probes, stale, nstale);

		if (!dr)
			d->keys_deleted += nstale;
		r = r ? r : dr;
		/* stale is sorted by VM: forget each VM once */
		for (size_t i = 0; i < nstale; i++)
			if (i == 0 ||
			    stale[i].key.tgid != stale[i - 1].key.tgid ||
			    stale[i].key.start_ns != stale[i - 1].key.start_ns)
				probes_forget_vm(d->probes, stale[i].key.tgid,
						 stale[i].key.start_ns);
	}
out:
	note_silence(d);
	free(snap);
	free(stale);
	d->harvests++;
	if (r < 0)
		d->harvest_errors++;
	return r;
}

int daemon_on_vm_event(void *ctx, void *data, size_t size)
{
	struct daemon *d = ctx;
	const struct kp_vm_event *e = data;
	char args[KP_ARGS_MAX + 1], comm[17], cgroup[2048], *argv[64];
	struct kp_vm_ident id;
	int argc;

	if (size < sizeof(*e))
		return 0;
	memcpy(args, e->args, e->args_len <= KP_ARGS_MAX ? e->args_len : 0);
	args[e->args_len <= KP_ARGS_MAX ? e->args_len : 0] = '\0';
	memcpy(comm, e->comm, 16);
	comm[16] = '\0';
	if (!e->args_len) {
		/* argv not readable in the VMM: try /proc, then comm only */
		ssize_t n = kp_proc_read((pid_t)e->tgid, "cmdline", args,
					 sizeof(args));

		argc = n > 0 ? kp_split_cmdline(args, (size_t)n, argv, 64) : 0;
	} else {
		argc = kp_split_cmdline(args, e->args_len, argv, 64);
	}
	if (kp_proc_read((pid_t)e->tgid, "cgroup", cgroup, sizeof(cgroup)) < 0)
		cgroup[0] = '\0';
	kp_vm_identify(argc, argv, comm, cgroup, &id);
	if (registry_note_vm(&d->reg, e->tgid, e->start_ns, &id, kp_mono_ms()))
		d->reg.vms_dropped++;
	else
		kvmstats_new_vm(&d->ks,
				registry_get(&d->reg, e->tgid, e->start_ns),
				kp_mono_ms());
	return 0;
}
