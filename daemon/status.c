// SPDX-License-Identifier: GPL-2.0-only
/* The daemon's status snapshot, for /v1/status and /metrics: status.h. */
#include <errno.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include <kvmprof/events.h>
#include <kvmprof/json.h>
#include <kvmprof/kvmnames.h>
#include <kvmprof/util.h>
#include "config.h"
#include "daemon.h"
#include "kvmstats.h"
#include "probes.h"
#include "render.h"
#include "harvest.h"
#include "status.h"
#include "version.h"

int status_snapshot(struct daemon *d, struct status *s)
{
	size_t np = probes_count(d->probes);
	struct metrics_view *v = &s->v;
	double mono, boot, now;

	s->src = d->probes;
	s->probes = calloc(np ? np : 1, sizeof(*s->probes));
	if (!s->probes)
		return -ENOMEM;
	*v = (struct metrics_view){
		.reg = &d->reg,
		.exit_layout = probes_exit_layout(d->probes),
		.probes = s->probes,
		.nprobes = np,
		.spe = &d->spe.stats,
		.ks = &d->ks,
		.bpf = d->probes != NULL,
		.no_kvm_metrics = !d->opts.kvm_stats_metrics,
		.harvests = d->harvests,
		.harvest_errors = d->harvest_errors,
		.keys_deleted = d->keys_deleted,
		.max_counters = probes_max_counters(d->probes),
		.bpf_stats = d->bpf_stats_fd >= 0,
		.version = KVMPROF_VERSION,
		.libbpf_version = libbpf_version_string(),
		.reloads_ok = d->reloads_ok,
		.reloads_failed = d->reloads_failed,
		.last_reload_ok = d->last_reload_ok,
		.last_reload_ok_time = d->last_reload_ok_time,
		.pid = getpid(),
		.uptime_ms = kp_mono_ms() - d->started_ms,
		.interval_ms = d->opts.interval_ms,
		.grace_ms = d->opts.grace_ms,
		.count_cache = probes_count_cache(d->probes),
		.sched = probes_sched(d->probes),
		.irqfd = probes_irqfd(d->probes),
		.metrics_listen = d->metrics ? metrics_address(d->metrics) : "",
		.config_path = d->cfg && d->cfg->path ? d->cfg->path : "",
	};
	for (size_t i = 0; i < np; i++) {
		const struct probe *p = probes_get(d->probes, i);
		struct metrics_probe *mp = &s->probes[i];

		mp->name = p->name;
		mp->kind = p->kind;
		mp->state = probe_state_name(p->state);
		mp->reason = p->reason;
		mp->exit_probe = daemon_probe_silent(d, i) >= 0;
		mp->silent = daemon_probe_silent(d, i) == 1;
		mp->have_stats = !probes_prog_stats(d->probes, i, &mp->run_cnt,
						    &mp->run_time_ns);
	}
	if (!probes_drops(d->probes, s->drops))
		v->drops = s->drops;
	now = kp_unix_s();
	mono = kp_mono_s();
	v->start_time = now - (mono - (double)d->started_ms / 1e3);
	boot = (double)kp_clock_ns(CLOCK_BOOTTIME) / 1e9;
	v->boot_time = now - boot;
	return 0;
}

void status_release(struct status *s)
{
	free(s->probes);
	s->probes = NULL;
}

/* every figure is a non-negative integer: exact (kvmprof/json.h) */
static void add_num(cJSON *o, const char *k, uint64_t v)
{
	kp_json_add_u64(o, k, v);
}

static void add_probes(cJSON *arr, const struct status *s)
{
	const struct metrics_view *v = &s->v;

	for (size_t i = 0; arr && i < v->nprobes; i++) {
		const struct metrics_probe *p = &v->probes[i];
		cJSON *po = cJSON_CreateObject();

		if (!po)
			break;
		cJSON_AddStringToObject(po, "name", p->name);
		cJSON_AddStringToObject(po, "tracepoint", p->name);
		cJSON_AddStringToObject(po, "kind", p->kind);
		cJSON_AddStringToObject(po, "state", p->state);
		if (p->reason && p->reason[0])
			cJSON_AddStringToObject(po, "reason", p->reason);
		cJSON_AddBoolToObject(po, "loaded",
				      probes_get(s->src, i)->loaded);
		if (p->exit_probe)
			cJSON_AddBoolToObject(po, "silent", p->silent);
		if (p->silent)
			cJSON_AddStringToObject(po, "silent_reason",
						RENDER_PROBE_SILENT);
		render_probe_stats(po, p, v->bpf_stats);
		cJSON_AddItemToArray(arr, po);
	}
}

static void add_lost(cJSON *lost, const struct metrics_view *v)
{
	uint64_t total = 0;

	if (!lost || !v->drops)
		return;
	for (int i = 0; i < KP_DROP_MAX; i++) {
		if (!kp_drop_names[i])
			continue;
		add_num(lost, kp_drop_names[i], v->drops[i]);
		total += v->drops[i];
	}
	add_num(lost, "total", total);
}

cJSON *status_json(const struct status *s)
{
	const struct metrics_view *v = &s->v;
	cJSON *o = cJSON_CreateObject(), *spe, *service, *reg;

	if (!o)
		return NULL;
	cJSON_AddStringToObject(o, "version", v->version);
	add_num(o, "pid", v->pid);
	add_num(o, "uptime_ms", v->uptime_ms);
	cJSON_AddStringToObject(o, "kvm_exit_layout",
				kp_exit_layout_name(v->exit_layout));
	add_num(o, "harvest_interval_ms", v->interval_ms);
	add_num(o, "grace_ms", v->grace_ms);
	add_num(o, "harvests", v->harvests);
	add_num(o, "harvest_errors", v->harvest_errors);
	cJSON_AddBoolToObject(o, "bpf", v->bpf);
	if (v->ks) {
		cJSON *k = cJSON_AddObjectToObject(o, "kvm_stats");

		cJSON_AddBoolToObject(k, "enabled", v->ks->enabled);
		cJSON_AddBoolToObject(k, "cap_sys_ptrace",
				      v->ks->ptrace_cap != NULL);
		add_num(k, "scans", v->ks->scans);
		add_num(k, "fds_taken", v->ks->fds_taken);
		add_num(k, "scan_errors", v->ks->errors);
	}
	cJSON_AddBoolToObject(o, "bpf_stats", v->bpf_stats);
	if (!v->bpf_stats)
		cJSON_AddStringToObject(o, "bpf_stats_reason",
					RENDER_BPF_STATS_OFF);
	cJSON_AddStringToObject(o, "count_cache", v->count_cache);
	if (v->sched)
		cJSON_AddStringToObject(o, "sched", v->sched);
	if (v->irqfd)
		cJSON_AddStringToObject(o, "irqfd_attribution", v->irqfd);
	add_probes(cJSON_AddArrayToObject(o, "probes"), s);
	add_lost(cJSON_AddObjectToObject(o, "lost"), v);
	spe = cJSON_AddObjectToObject(o, "spe_capture");
	if (spe) {
		add_num(spe, "chunks", v->spe->chunks);
		add_num(spe, "bytes", v->spe->bytes);
		add_num(spe, "malformed", v->spe->malformed);
		add_num(spe, "unattributed", v->spe->unattributed);
		add_num(spe, "streams_dropped", v->spe->streams_dropped);
		add_num(spe, "lost_bytes",
			registry_total(v->reg, KP_EV_SPE_LOST_BYTES));
	}
	service = cJSON_AddObjectToObject(o, "service");
	if (service) {
		cJSON_AddStringToObject(service, "metrics_listen",
					v->metrics_listen);
		cJSON_AddStringToObject(service, "config", v->config_path);
		add_num(service, "reloads_ok", v->reloads_ok);
		add_num(service, "reloads_failed", v->reloads_failed);
		cJSON_AddBoolToObject(service, "last_reload_ok",
				      v->last_reload_ok);
	}
	reg = cJSON_AddObjectToObject(o, "registry");
	if (reg) {
		add_num(reg, "vms", v->reg->nvms);
		add_num(reg, "max_vms", v->reg->max_vms);
		add_num(reg, "vms_not_tracked", v->reg->vms_dropped);
		add_num(reg, "max_counters", v->max_counters);
		add_num(reg, "keys_deleted", v->keys_deleted);
		add_num(reg, "async_pf_completed_unattributed",
			v->reg->unattributed[KP_EV_APF_UNATTRIBUTED]);
		add_num(reg, "events_unattributed",
			registry_unattributed(v->reg));
	}
	return o;
}
