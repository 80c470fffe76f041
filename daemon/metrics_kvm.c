// SPDX-License-Identifier: GPL-2.0-only
/*
 * KVM's own statistics (kvmstats.h) as Prometheus families, named and
 * typed from their descriptors:
 *  - kvmprof_kvm_vm_<name> for the VM's statistics, kvmprof_kvm_vcpu_<name>
 *    for the vCPUs' ones, summed over the VM's vCPUs (peaks: their
 *    maximum), label vm: the series do not grow with the vCPU count
 *    (GET /v1/vms/{ref}/kvm-stats has them per vCPU);
 *  - cumulative: counter, name + _total; instant and peak: gauge;
 *    linear and log histograms: histogram (cumulative buckets, le the
 *    inclusive upper bound of KVM's half-open integer ranges, no _sum:
 *    KVM keeps none);
 *  - units from the descriptor, values in base units: seconds (a _ns,
 *    _us or _ms ending replaced by _seconds), bytes (_bytes), cycles
 *    (_cycles); booleans 0/1 (summed: vCPUs with it set).  A _hist
 *    ending is dropped from histogram names.
 * A descriptor set that names a family already emitted (another kernel's
 * KVM after a module reload) is skipped rather than split into two
 * families.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kvmprof/kvmstats.h>
#include "kvmstats.h"
#include "metrics.h"
#include "metrics_int.h"
#include "registry.h"

#define NAME_MAX_LEN 160

static bool ends_with(const char *s, size_t len, const char *suf)
{
	size_t n = strlen(suf);

	return len >= n && !memcmp(s + len - n, suf, n);
}

/* The family name of descriptor @d (@vcpu: a vCPU statistic). */
static void family_name(char *out, size_t len, const struct kp_ks_desc *d,
			bool vcpu)
{
	static const char *const time_suf[] = { "_ns", "_us", "_ms" };
	size_t n = strlen(d->name);
	const char *unit = "";

	if (d->type >= KP_KS_LINEAR_HIST && ends_with(d->name, n, "_hist"))
		n -= 5;
	if (d->unit == KP_KS_SECONDS) {
		for (size_t i = 0; i < 3; i++)
			if (ends_with(d->name, n, time_suf[i]))
				n -= 3;
		unit = ends_with(d->name, n, "_seconds") ? "" : "_seconds";
	} else if (d->unit == KP_KS_BYTES) {
		unit = ends_with(d->name, n, "_bytes") ? "" : "_bytes";
	} else if (d->unit == KP_KS_CYCLES) {
		unit = ends_with(d->name, n, "_cycles") ? "" : "_cycles";
	}
	snprintf(out, len, "kvmprof_kvm_%s_%.*s%s%s", vcpu ? "vcpu" : "vm",
		 (int)n, d->name, unit,
		 d->type == KP_KS_CUMULATIVE ? "_total" : "");
}

/* @raw in the descriptor's base unit, exact for negative powers of 10. */
static void value_text(char *out, size_t len, const struct kp_ks_desc *d,
		       uint64_t raw)
{
	if (!d->exponent) {
		snprintf(out, len, "%" PRIu64, raw);
	} else if (d->base == 10 && d->exponent < 0 && d->exponent >= -18) {
		uint64_t p = 1;
		int digits = -d->exponent;
		size_t n;

		for (int i = 0; i < digits; i++)
			p *= 10;
		n = (size_t)snprintf(out, len, "%" PRIu64 ".%0*" PRIu64,
				     raw / p, digits, raw % p);
		while (n > 2 && out[n - 1] == '0' && out[n - 2] != '.')
			out[--n] = '\0';
	} else {
		snprintf(out, len, "%.17g", (double)raw * kp_ks_scale(d));
	}
}

/* Was a descriptor of this name emitted by an earlier schema? */
static bool emitted_before(const struct kvmstats *ks, size_t si, bool vcpu,
			   const bool *used, const char *name)
{
	for (size_t i = 0; i < si; i++)
		if (used[i * 2 + vcpu] && kp_ks_find(&ks->schemas[i], name))
			return true;
	return false;
}

/* Sum (peaks: max) of @d over @vm's fds of schema @s and scope @vcpu. */
static bool aggregate(const struct vm *vm, const struct kp_ks_schema *s,
		      const struct kp_ks_desc *d, bool vcpu, uint64_t *acc)
{
	const struct vm_ks *k = vm->ks;
	bool any = false;

	memset(acc, 0, d->size * sizeof(*acc));
	for (size_t i = 0; k && i < k->nfds; i++) {
		const struct ks_fd *f = &k->fds[i];

		if (f->schema != s || (f->vcpu >= 0) != vcpu || !f->have_vals)
			continue;
		any = true;
		for (uint32_t j = 0; j < d->size; j++) {
			uint64_t x = f->vals[d->index + j];

			if (d->type == KP_KS_PEAK)
				acc[j] = x > acc[j] ? x : acc[j];
			else
				acc[j] += x;
		}
	}
	return any;
}

static void emit_hist(struct mbuf *b, const char *name, const char *vm,
		      const struct kp_ks_desc *d, const uint64_t *acc)
{
	uint64_t cum = 0, le;
	char t[48];

	for (uint32_t j = 0; j < d->size; j++) {
		cum += acc[j];
		if (!kp_ks_bucket_le(d, j, &le))
			continue;
		value_text(t, sizeof(t), d, le);
		metrics_putf(b, "%s_bucket{vm=\"%s\",le=\"%s\"} %" PRIu64 "\n",
			     name, vm, t, cum);
	}
	metrics_putf(b, "%s_bucket{vm=\"%s\",le=\"+Inf\"} %" PRIu64 "\n", name,
		     vm, cum);
	metrics_putf(b, "%s_count{vm=\"%s\"} %" PRIu64 "\n", name, vm, cum);
}

static void emit_desc(struct mbuf *b, const struct kp_ks_schema *s,
		      const struct kp_ks_desc *d, bool vcpu,
		      const struct vm_out *vms, size_t nvms, uint64_t *acc)
{
	char name[NAME_MAX_LEN], t[48];
	bool header = false;

	family_name(name, sizeof(name), d, vcpu);
	for (size_t i = 0; i < nvms; i++) {
		if (!aggregate(vms[i].vm, s, d, vcpu, acc))
			continue;
		if (!header) {
			metrics_putf(b,
				     "# HELP %s KVM's %s statistic %s (%s, "
				     "unit %s, %u^%d)%s.\n# TYPE %s %s\n",
				     name, vcpu ? "vCPU" : "VM", d->name,
				     kp_ks_type_name(d->type),
				     kp_ks_unit_name(d->unit), d->base,
				     d->exponent,
				     vcpu ? (d->type == KP_KS_PEAK ?
						     ", max over the vCPUs" :
						     ", sum over the vCPUs") :
					    "",
				     name,
				     d->type == KP_KS_CUMULATIVE ? "counter" :
				     d->type >= KP_KS_LINEAR_HIST ?
								   "histogram" :
								   "gauge");
			header = true;
		}
		if (d->type >= KP_KS_LINEAR_HIST) {
			emit_hist(b, name, vms[i].label, d, acc);
			continue;
		}
		value_text(t, sizeof(t), d, acc[0]);
		metrics_putf(b, "%s{vm=\"%s\"} %s\n", name, vms[i].label, t);
	}
}

void metrics_emit_kvm(struct mbuf *b, struct kvmstats *ks,
		      const struct vm_out *vms, size_t nvms)
{
	bool used[KS_MAX_SCHEMAS * 2] = { false };
	uint64_t *acc;

	if (!ks || !ks->enabled || !ks->nschemas)
		return;
	acc = calloc(KP_KS_MAX_SIZE, sizeof(*acc));
	if (!acc) {
		b->err = b->err ? b->err : -ENOMEM;
		return;
	}
	/* this scrape's values; which schema serves which scope */
	for (size_t i = 0; i < nvms; i++) {
		const struct vm_ks *k = vms[i].vm->ks;

		kvmstats_read(vms[i].vm->ks);
		for (size_t j = 0; k && j < k->nfds; j++)
			used[(size_t)(k->fds[j].schema - ks->schemas) * 2 +
			     (k->fds[j].vcpu >= 0)] = true;
	}
	for (size_t si = 0; si < ks->nschemas; si++) {
		const struct kp_ks_schema *s = &ks->schemas[si];

		for (int vcpu = 0; vcpu < 2; vcpu++) {
			if (!used[si * 2 + vcpu])
				continue;
			for (uint32_t i = 0; i < s->ndesc && !b->err; i++)
				if (!emitted_before(ks, si, vcpu, used,
						    s->desc[i].name))
					emit_desc(b, s, &s->desc[i], vcpu, vms,
						  nvms, acc);
		}
	}
	free(acc);
}
