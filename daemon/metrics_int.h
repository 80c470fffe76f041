/* SPDX-License-Identifier: GPL-2.0-only */
/* Inside the Prometheus renderer: metrics.c and metrics_self.c. */
#ifndef KVMPROFD_METRICS_INT_H
#define KVMPROFD_METRICS_INT_H

#include <stddef.h>
#include <stdint.h>

struct metrics_view;
struct vm;

/* The output, bounded: after an error (-E2BIG, -ENOMEM) writes do nothing. */
struct mbuf {
	char *p;
	size_t len, cap, max;
	int err;
};

void metrics_put(struct mbuf *b, const char *s, size_t n);
void metrics_putf(struct mbuf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/*
 * A label value, escaped for the text format (\\, \", \n) and made valid
 * UTF-8 (Prometheus rejects a scrape otherwise): invalid bytes become '?'.
 * Truncated to fit @len.
 */
void metrics_esc(char *out, size_t len, const char *in);

/* A VM as exported, with the value of its vm label. */
struct vm_out {
	const struct vm *vm;
	char label[96];		/* escaped value of the vm label */
};

enum mtype { M_COUNTER, M_GAUGE, M_HISTOGRAM };
enum scope { PER_VCPU, PER_VM };

struct family;
typedef void (*emit_fn)(struct mbuf *b, const struct metrics_view *v,
			const struct family *f, const struct vm_out *vms,
			size_t nvms);

struct family {
	const char *name;
	enum mtype type;
	const char *help;
	uint64_t events;	/* bit per enum kp_event */
	enum scope scope;
	bool ns;		/* values in ns, exposed in seconds */
	const char *overflow;	/* label text for series past MAX_SERIES */
	emit_fn emit;		/* self-metrics and VM metadata */
};

/* clang-format off */
#define SELF(n, t, h, fn) { .name = n, .type = t, .help = h, .emit = fn }
/* clang-format on */

/* The daemon's own families (metrics_self.c), after the per-VM ones. */
#define METRICS_MAX_SELF 32
extern const struct family metrics_self_families[];
extern const size_t metrics_nself;
void metrics_emit_self(struct mbuf *b, const struct metrics_view *v,
		       const struct family *f, const struct vm_out *vms,
		       size_t n);

/* KVM's own statistics of the VMs (metrics_kvm.c), after all others. */
struct kvmstats;
void metrics_emit_kvm(struct mbuf *b, struct kvmstats *ks,
		      const struct vm_out *vms, size_t nvms);

#endif
