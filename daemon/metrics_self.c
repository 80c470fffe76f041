// SPDX-License-Identifier: GPL-2.0-only
/* Prometheus families of kvmprofd itself (see metrics.c). */
#include <stdio.h>
#include <string.h>

#include <kvmprof/events.h>
#include <kvmprof/util.h>
#include "metrics.h"
#include "metrics_int.h"
#include "registry.h"
#include "spe_capture.h"

const struct family metrics_self_families[] = {
	SELF("kvmprof_build_info", M_GAUGE, "kvmprofd build (always 1)",
	     metrics_emit_self),
	SELF("kvmprof_probe_attached", M_GAUGE,
	     "1 if the probe is attached; state and reason say why not",
	     metrics_emit_self),
	SELF("kvmprof_probe_silent", M_GAUGE,
	     "1 if the probe is attached but fires on no guest exit while "
	     "other KVM events show them (its counts are no measure)",
	     metrics_emit_self),
	SELF("kvmprof_bpf_prog_runs_total", M_COUNTER,
	     "Runs of the probe's BPF program (kernel BPF stats)",
	     metrics_emit_self),
	SELF("kvmprof_bpf_prog_run_seconds_total", M_COUNTER,
	     "Time spent in the probe's BPF program (kernel BPF stats)",
	     metrics_emit_self),
	SELF("kvmprof_bpf_stats_enabled", M_GAUGE,
	     "1 if kernel BPF run-time statistics are on", metrics_emit_self),
	SELF("kvmprof_events_lost_total", M_COUNTER,
	     "Events the BPF side could not record, by cause",
	     metrics_emit_self),
	SELF("kvmprof_spe_chunks_total", M_COUNTER,
	     "SPE chunks received from the BPF ring buffer", metrics_emit_self),
	SELF("kvmprof_spe_received_bytes_total", M_COUNTER,
	     "SPE bytes received from the BPF ring buffer", metrics_emit_self),
	SELF("kvmprof_spe_chunks_dropped_total", M_COUNTER,
	     "SPE chunks dropped by kvmprofd, by cause", metrics_emit_self),
	SELF("kvmprof_async_pf_unattributed_total", M_COUNTER,
	     "Completed async page faults no VM could be found for",
	     metrics_emit_self),
	SELF("kvmprof_events_unattributed_total", M_COUNTER,
	     "Events of KVM kernel threads whose VM is not known (no VM)",
	     metrics_emit_self),
	SELF("kvmprof_harvests_total", M_COUNTER,
	     "Harvests of the BPF counters", metrics_emit_self),
	SELF("kvmprof_harvest_errors_total", M_COUNTER, "Harvests that failed",
	     metrics_emit_self),
	SELF("kvmprof_vms", M_GAUGE,
	     "VMs in the registry (running or in their grace period)",
	     metrics_emit_self),
	SELF("kvmprof_vms_max", M_GAUGE, "VMs tracked at most (max-vms)",
	     metrics_emit_self),
	SELF("kvmprof_vms_not_tracked_total", M_COUNTER,
	     "VMs seen but not tracked (max-vms reached)", metrics_emit_self),
	SELF("kvmprof_bpf_counters_max", M_GAUGE,
	     "Entries of the BPF counter map (max-counters)",
	     metrics_emit_self),
	SELF("kvmprof_bpf_keys_deleted_total", M_COUNTER,
	     "BPF counter entries deleted after their VM exited",
	     metrics_emit_self),
	SELF("kvmprof_config_last_reload_successful", M_GAUGE,
	     "1 if the last configuration load succeeded", metrics_emit_self),
	SELF("kvmprof_config_last_reload_success_timestamp_seconds", M_GAUGE,
	     "Time of the last successful configuration load, Unix seconds",
	     metrics_emit_self),
	SELF("kvmprof_config_reloads_total", M_COUNTER,
	     "Configuration reloads (SIGHUP), by result", metrics_emit_self),
	SELF("process_start_time_seconds", M_GAUGE,
	     "Start time of kvmprofd, Unix seconds", metrics_emit_self),
};
const size_t metrics_nself = ARRAY_SIZE(metrics_self_families);
_Static_assert(ARRAY_SIZE(metrics_self_families) <= METRICS_MAX_SELF,
	       "METRICS_MAX_SELF too small");

void metrics_emit_self(struct mbuf *b, const struct metrics_view *v,
		       const struct family *f, const struct vm_out *vms,
		       size_t n)
{
	const char *name = f->name;
	char a[128], c[160];

#define IS(s) (!strcmp(name, s))
	if (IS("kvmprof_build_info")) {
		metrics_esc(a, sizeof(a), v->version ? v->version : "");
		metrics_esc(c, sizeof(c),
			    v->libbpf_version ? v->libbpf_version : "");
		metrics_putf(b, "%s{version=\"%s\",libbpf=\"%s\"} 1\n", name, a,
			     c);
	} else if (IS("kvmprof_probe_attached")) {
		for (size_t i = 0; i < v->nprobes; i++) {
			const struct metrics_probe *p = &v->probes[i];

			metrics_esc(a, sizeof(a), p->state);
			metrics_esc(c, sizeof(c), p->reason ? p->reason : "");
			metrics_putf(b,
				     "%s{probe=\"%s\",kind=\"%s\",state=\"%s\","
				     "reason=\"%s\"} %d\n",
				     name, p->name, p->kind, a, c,
				     !strcmp(p->state, "attached"));
		}
	} else if (IS("kvmprof_probe_silent")) {
		for (size_t i = 0; i < v->nprobes; i++)
			if (v->probes[i].exit_probe)
				metrics_putf(b, "%s{probe=\"%s\"} %d\n", name,
					     v->probes[i].name,
					     v->probes[i].silent);
	} else if (IS("kvmprof_bpf_prog_runs_total") ||
		   IS("kvmprof_bpf_prog_run_seconds_total")) {
		for (size_t i = 0; i < v->nprobes; i++) {
			const struct metrics_probe *p = &v->probes[i];

			if (!p->have_stats || !v->bpf_stats)
				continue;
			if (IS("kvmprof_bpf_prog_runs_total"))
				metrics_putf(b, "%s{probe=\"%s\"} %llu\n", name,
					     p->name,
					     (unsigned long long)p->run_cnt);
			else
				metrics_putf(b, "%s{probe=\"%s\"} %.9f\n", name,
					     p->name,
					     (double)p->run_time_ns / 1e9);
		}
	} else if (IS("kvmprof_bpf_stats_enabled")) {
		metrics_putf(b, "%s %d\n", name, v->bpf_stats);
	} else if (IS("kvmprof_events_lost_total")) {
		for (int i = 0; v->drops && i < KP_DROP_MAX; i++)
			if (kp_drop_names[i])
				metrics_putf(b, "%s{cause=\"%s\"} %llu\n", name,
					     kp_drop_names[i],
					     (unsigned long long)v->drops[i]);
	} else if (IS("kvmprof_spe_chunks_total") && v->spe) {
		metrics_putf(b, "%s %llu\n", name,
			     (unsigned long long)v->spe->chunks);
	} else if (IS("kvmprof_spe_received_bytes_total") && v->spe) {
		metrics_putf(b, "%s %llu\n", name,
			     (unsigned long long)v->spe->bytes);
	} else if (IS("kvmprof_spe_chunks_dropped_total") && v->spe) {
		metrics_putf(b, "%s{cause=\"malformed\"} %llu\n", name,
			     (unsigned long long)v->spe->malformed);
		metrics_putf(b, "%s{cause=\"unattributed\"} %llu\n", name,
			     (unsigned long long)v->spe->unattributed);
		metrics_putf(b, "%s{cause=\"too_many_vcpus\"} %llu\n", name,
			     (unsigned long long)v->spe->streams_dropped);
	} else if (IS("kvmprof_async_pf_unattributed_total") && v->reg) {
		metrics_putf(b, "%s %llu\n", name,
			     (unsigned long long)v->reg
				     ->unattributed[KP_EV_APF_UNATTRIBUTED]);
	} else if (IS("kvmprof_events_unattributed_total") && v->reg) {
		metrics_putf(b, "%s %llu\n", name,
			     (unsigned long long)registry_unattributed(v->reg));
	} else if (IS("kvmprof_harvests_total")) {
		metrics_putf(b, "%s %llu\n", name,
			     (unsigned long long)v->harvests);
	} else if (IS("kvmprof_harvest_errors_total")) {
		metrics_putf(b, "%s %llu\n", name,
			     (unsigned long long)v->harvest_errors);
	} else if (IS("kvmprof_vms") && v->reg) {
		metrics_putf(b, "%s %zu\n", name, v->reg->nvms);
	} else if (IS("kvmprof_vms_max") && v->reg) {
		metrics_putf(b, "%s %zu\n", name, v->reg->max_vms);
	} else if (IS("kvmprof_vms_not_tracked_total") && v->reg) {
		metrics_putf(b, "%s %llu\n", name,
			     (unsigned long long)v->reg->vms_dropped);
	} else if (IS("kvmprof_bpf_counters_max")) {
		metrics_putf(b, "%s %u\n", name, v->max_counters);
	} else if (IS("kvmprof_bpf_keys_deleted_total")) {
		metrics_putf(b, "%s %llu\n", name,
			     (unsigned long long)v->keys_deleted);
	} else if (IS("kvmprof_config_last_reload_successful")) {
		metrics_putf(b, "%s %d\n", name, v->last_reload_ok);
	} else if (IS("kvmprof_config_last_reload_success_timestamp_seconds")) {
		metrics_putf(b, "%s %.3f\n", name, v->last_reload_ok_time);
	} else if (IS("kvmprof_config_reloads_total")) {
		metrics_putf(b, "%s{result=\"success\"} %llu\n", name,
			     (unsigned long long)v->reloads_ok);
		metrics_putf(b, "%s{result=\"failure\"} %llu\n", name,
			     (unsigned long long)v->reloads_failed);
	} else if (IS("process_start_time_seconds")) {
		metrics_putf(b, "%s %.3f\n", name, v->start_time);
	}
#undef IS
}
