// SPDX-License-Identifier: GPL-2.0-only
/*
 * Prometheus text exposition format 0.0.4, rendered from a metrics_view.
 *
 * Table-driven.  Every family is a row of families[] below:
 *  - per-VM families take the VM's BPF counters (struct kp_count) whose
 *    event is in .events, per vCPU (labels vm, vcpu) or per VM (label vm),
 *    and the event's row (kp_event_labels()) turns (event, sub) into the
 *    remaining label pairs.  Counters with the same label
 *    text are summed; at most MAX_SERIES distinct label texts per VM/vCPU,
 *    the rest is summed into .overflow.
 *  - histograms (.type M_HISTOGRAM) take a log2-of-nanoseconds event
 *    (abi.h: bucket 0 holds 0, bucket b holds [2^(b-1), 2^b)) and are
 *    exposed in seconds with cumulative buckets le = 2^L ns for L in
 *    HIST_LE_LOG2[]; _sum from the KP_EV_LAT_SUM counter whose sub is
 *    the histogram's event.
 *  - self-metrics have .emit, a function writing the samples.
 * The per-VM families are the event table's (lib/events.c): a new counted
 * event is a row there (plus its line in docs/service.md); the VM
 * metadata and self-metrics are rows here.
 *
 * Series names: base units (seconds, bytes), counters end in _total.
 * Labels: vm (the VM's name; see vm_labels()), vcpu, and small closed sets
 * (reason, direction, ...); no pid on per-event series: the pid is on
 * kvmprof_vm_info only.  A VM's series go when the VM leaves the registry
 * (the grace period after its exit, during which its final counts stay).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kvmprof/abi.h>
#include <kvmprof/events.h>
#include <kvmprof/util.h>
#include "metrics.h"
#include "metrics_int.h"
#include "registry.h"
#include "spe_capture.h"

#define MAX_SERIES 64		/* label texts per family, VM and vCPU */
#define LABELS_MAX 160

static const unsigned int HIST_LE_LOG2[] = {
	8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30, 32, 34
};

void metrics_put(struct mbuf *b, const char *s, size_t n)
{
	if (b->err)
		return;
	if (b->len + n + 1 > b->max) {
		b->err = -E2BIG;
		return;
	}
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 16384;
		char *np;

		while (cap < b->len + n + 1)
			cap *= 2;
		if (cap > b->max)
			cap = b->max;
		np = realloc(b->p, cap);
		if (!np) {
			b->err = -ENOMEM;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void metrics_putf(struct mbuf *b, const char *fmt, ...)
{
	char tmp[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	metrics_put(b, tmp,
		    (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

/* see metrics_int.h */
void metrics_esc(char *out, size_t len, const char *in)
{
	const unsigned char *s = (const unsigned char *)in;
	size_t o = 0;

	while (*s && o + 5 < len) {
		unsigned char c = *s;
		size_t n = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 :
			   (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
		bool ok = n > 0;

		for (size_t i = 1; ok && i < n; i++)
			ok = (s[i] & 0xc0) == 0x80;
		if (ok && n == 2 && c < 0xc2)
			ok = false;	/* overlong */
		if (ok && n == 3 && ((c == 0xe0 && s[1] < 0xa0) ||
				     (c == 0xed && s[1] >= 0xa0)))
			ok = false;	/* overlong, surrogates */
		if (ok && n == 4 && ((c == 0xf0 && s[1] < 0x90) ||
				     c > 0xf4 || (c == 0xf4 && s[1] >= 0x90)))
			ok = false;
		if (!ok) {
			out[o++] = '?';
			s++;
			continue;
		}
		if (c == '\\' || c == '"') {
			out[o++] = '\\';
			out[o++] = (char)c;
		} else if (c == '\n') {
			out[o++] = '\\';
			out[o++] = 'n';
		} else {
			memcpy(out + o, s, n);
			o += n;
		}
		s += n;
	}
	out[o] = '\0';
}

static int cmp_vm(const void *a, const void *b)
{
	const struct vm *x = ((const struct vm_out *)a)->vm;
	const struct vm *y = ((const struct vm_out *)b)->vm;
	int c = strcmp(x->ident.name, y->ident.name);

	if (c)
		return c;
	/* oldest first, running or exited: a label holds while both live */
	if (x->first_seen_ms != y->first_seen_ms)
		return x->first_seen_ms < y->first_seen_ms ? -1 : 1;
	return strcmp(x->id, y->id);
}

/*
 * The VMs exported and their vm label: the VM's name.  Names are not
 * unique: the oldest VM of a name in the registry (running, or exited and
 * in its grace period) gets it plainly, later ones get "name/id".  Every
 * VM is exported, so an exited VM's final counts stay scrapeable under
 * the label it had while running, for its whole grace period.
 */
static size_t vm_labels(const struct registry *r, struct vm_out **ret)
{
	struct vm_out *o;
	size_t n = 0, w = 0;

	*ret = NULL;
	if (!r || !r->nvms)
		return 0;
	o = calloc(r->nvms, sizeof(*o));
	if (!o)
		return 0;
	for (size_t i = 0; i < r->nvms; i++)
		o[n++].vm = r->vms[i];
	qsort(o, n, sizeof(*o), cmp_vm);
	for (size_t i = 0; i < n; i++) {
		const struct vm *vm = o[i].vm;
		bool first = i == 0 || strcmp(o[i - 1].vm->ident.name,
					      vm->ident.name);
		char raw[160];

		if (first)
			snprintf(raw, sizeof(raw), "%s",
				 vm->ident.name[0] ? vm->ident.name : vm->id);
		else
			snprintf(raw, sizeof(raw), "%s/%s", vm->ident.name,
				 vm->id);
		o[w].vm = vm;
		metrics_esc(o[w].label, sizeof(o[w].label), raw);
		w++;
	}
	*ret = o;
	return w;
}

/* --- the families --- */
#define EV(e) (1ull << (e))

static void emit_vm_info(struct mbuf *, const struct metrics_view *,
			 const struct family *, const struct vm_out *, size_t);
static void emit_vm_running(struct mbuf *, const struct metrics_view *,
			    const struct family *, const struct vm_out *,
			    size_t);
static void emit_vm_vcpus(struct mbuf *, const struct metrics_view *,
			  const struct family *, const struct vm_out *, size_t);
static void emit_vm_start(struct mbuf *, const struct metrics_view *,
			  const struct family *, const struct vm_out *, size_t);

static const struct family meta_families[] = {
	SELF("kvmprof_vm_info", M_GAUGE,
	     "VM metadata (always 1): name, kvmprof id, VMM process id, VMM "
	     "kind, UUID, libvirt scope name",
	     emit_vm_info),
	SELF("kvmprof_vm_running", M_GAUGE,
	     "1 while the VMM runs, 0 once it exited (its series stay for the "
	     "grace period)",
	     emit_vm_running),
	SELF("kvmprof_vm_vcpus", M_GAUGE, "vCPUs seen with events",
	     emit_vm_vcpus),
	SELF("kvmprof_vm_start_time_seconds", M_GAUGE,
	     "Start time of the VMM process, Unix seconds", emit_vm_start),
};

#define NMETA (ARRAY_SIZE(meta_families))

/* VM metadata, the families of the event table (lib/events.c), self. */
static struct family families[NMETA + KP_EV_MAX + METRICS_MAX_SELF];
static size_t nfamilies;

static void families_init(void)
{
	size_t n = 0;

	if (nfamilies)
		return;
	for (size_t i = 0; i < NMETA; i++)
		families[n++] = meta_families[i];
	for (size_t i = 0; i < kp_events_nr; i++) {
		const struct kp_event_desc *e = &kp_events[i];
		size_t j;

		if (!e->family)
			continue;
		for (j = NMETA; j < n; j++)
			if (!strcmp(families[j].name, e->family))
				break;
		if (j == n)
			families[n++] = (struct family){
				.name = e->family,
				.type = e->hist ? M_HISTOGRAM : M_COUNTER,
				.help = e->help,
				.scope = e->vm_scope ? PER_VM : PER_VCPU,
				.ns = e->ns,
				.overflow = e->overflow,
			};
		families[j].events |= EV(e->event);
	}
	for (size_t i = 0; i < metrics_nself; i++)
		families[n++] = metrics_self_families[i];
	nfamilies = n;
}

const char *const *metrics_family_names(void)
{
	static const char *names[NMETA + KP_EV_MAX + METRICS_MAX_SELF + 1];

	families_init();
	for (size_t i = 0; i < nfamilies; i++)
		names[i] = families[i].name;
	return names;
}

static void header(struct mbuf *b, const struct family *f)
{
	static const char *const types[] = { "counter", "gauge", "histogram" };

	/* help texts are ours: no backslash or newline to escape */
	metrics_putf(b, "# HELP %s %s\n# TYPE %s %s\n", f->name, f->help,
		     f->name, types[f->type]);
}

/* --- per-VM families from the BPF counters --- */
struct series {
	char labels[LABELS_MAX];
	uint64_t value;
};

struct group {
	struct series s[MAX_SERIES + 1];	/* + overflow */
	size_t n;
	uint64_t hist[KP_HIST_BUCKETS];
	uint64_t sum_ns;	/* histograms: sum of the observed values */
	bool any;
};

static void group_add(struct group *g, const struct family *f,
		      const char *labels, uint64_t v)
{
	size_t i;

	g->any = true;
	for (i = 0; i < g->n; i++)
		if (!strcmp(g->s[i].labels, labels)) {
			g->s[i].value += v;
			return;
		}
	if (g->n < MAX_SERIES) {
		snprintf(g->s[g->n].labels, LABELS_MAX, "%s", labels);
		g->s[g->n++].value = v;
		return;
	}
	/* past MAX_SERIES: the overflow series */
	if (g->n == MAX_SERIES) {
		snprintf(g->s[g->n].labels, LABELS_MAX, "%s",
			 f->overflow ? f->overflow : labels);
		g->s[g->n++].value = 0;
	}
	g->s[MAX_SERIES].value += v;
}

/* 2^l ns in seconds, exact: "0.000000256" */
static void le_text(char *buf, size_t len, unsigned int l)
{
	unsigned long long ns = 1ull << l;
	size_t n;

	n = (size_t)snprintf(buf, len, "%llu.%09llu", ns / 1000000000ull,
			     ns % 1000000000ull);
	while (n > 2 && buf[n - 1] == '0' && buf[n - 2] != '.')
		buf[--n] = '\0';
}

static void group_emit(struct mbuf *b, const struct family *f,
		       const char *prefix, const struct group *g)
{
	if (!g->any)
		return;
	if (f->type == M_HISTOGRAM) {
		uint64_t cum = 0, total = 0;
		size_t next = 0;
		char le[32];

		for (size_t i = 0; i < KP_HIST_BUCKETS; i++)
			total += g->hist[i];
		for (size_t k = 0; k < ARRAY_SIZE(HIST_LE_LOG2); k++) {
			for (; next <= HIST_LE_LOG2[k]; next++)
				cum += g->hist[next];
			le_text(le, sizeof(le), HIST_LE_LOG2[k]);
			metrics_putf(b, "%s_bucket{%s,le=\"%s\"} %llu\n",
				     f->name, prefix, le,
				     (unsigned long long)cum);
		}
		metrics_putf(b, "%s_bucket{%s,le=\"+Inf\"} %llu\n", f->name,
			     prefix, (unsigned long long)total);
		metrics_putf(b, "%s_sum{%s} %llu.%09llu\n", f->name, prefix,
			     (unsigned long long)(g->sum_ns / 1000000000ull),
			     (unsigned long long)(g->sum_ns % 1000000000ull));
		metrics_putf(b, "%s_count{%s} %llu\n", f->name, prefix,
			     (unsigned long long)total);
		return;
	}
	for (size_t i = 0; i < g->n; i++) {
		unsigned long long v = g->s[i].value;

		metrics_putf(b, "%s{%s%s%s} ", f->name, prefix,
			     g->s[i].labels[0] ? "," : "", g->s[i].labels);
		if (f->ns) /* exact: seconds and nanoseconds */
			metrics_putf(b, "%llu.%09llu\n", v / 1000000000ull,
				     v % 1000000000ull);
		else
			metrics_putf(b, "%llu\n", v);
	}
}

/* A counter's labels from its event row: 'name="value",...' */
static int label_text(const struct metrics_view *v, const struct kp_count *c,
		      char *buf, size_t len)
{
	const struct kp_event_desc *e = kp_event(c->key.event);
	struct kp_ev_labels l;
	int n = e ? kp_event_labels(e, c->key.sub, v->exit_layout, true, &l) :
		    -1;

	buf[0] = '\0';
	if (n == 1)
		snprintf(buf, len, "%s=\"%s\"", e->labels[0], l.v[0]);
	else if (n == 2)
		snprintf(buf, len, "%s=\"%s\",%s=\"%s\"", e->labels[0], l.v[0],
			 e->labels[1], l.v[1]);
	return n < 0 ? -1 : 0;
}

static void emit_counts(struct mbuf *b, const struct metrics_view *v,
			const struct family *f, const struct vm_out *o,
			struct group *g)
{
	const struct vm *vm = o->vm;
	char prefix[LABELS_MAX], labels[LABELS_MAX];
	size_t i = 0;

	while (i < vm->ncounts) {
		int32_t vcpu = vm->counts[i].key.vcpu;
		size_t j = i;

		g->n = 0;
		memset(g->hist, 0, sizeof(g->hist));
		g->sum_ns = 0;
		g->any = false;
		/* counts are sorted by vcpu: one group per vCPU, or all */
		for (; j < vm->ncounts; j++) {
			const struct kp_count *c = &vm->counts[j];

			if (f->scope == PER_VCPU && c->key.vcpu != vcpu)
				break;
			/* a histogram's sum: event LAT_SUM, sub = its event */
			if (f->type == M_HISTOGRAM &&
			    c->key.event == KP_EV_LAT_SUM && c->key.sub < 64 &&
			    (f->events & EV(c->key.sub))) {
				g->sum_ns += c->value;
				continue;
			}
			if (c->key.event >= 64 || !(f->events & EV(c->key.event)))
				continue;
			if (f->type == M_HISTOGRAM) {
				if (c->key.sub < KP_HIST_BUCKETS) {
					g->hist[c->key.sub] += c->value;
					g->any = true;
				}
				continue;
			}
			if (label_text(v, c, labels, sizeof(labels)) < 0)
				continue;
			group_add(g, f, labels, c->value);
		}
		if (f->scope == PER_VCPU && vcpu < 0) {
			i = j;	/* events outside vCPU threads: not per vCPU */
			continue;
		}
		if (f->scope == PER_VCPU)
			snprintf(prefix, sizeof(prefix), "vm=\"%s\",vcpu=\"%d\"",
				 o->label, vcpu);
		else
			snprintf(prefix, sizeof(prefix), "vm=\"%s\"", o->label);
		group_emit(b, f, prefix, g);
		i = j;
	}
}

/* --- VM metadata --- */
static void emit_vm_info(struct mbuf *b, const struct metrics_view *v,
			 const struct family *f, const struct vm_out *vms,
			 size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct vm *vm = vms[i].vm;
		char name[96], vmm[48], uuid[80], scope[96];

		metrics_esc(name, sizeof(name), vm->ident.name);
		metrics_esc(vmm, sizeof(vmm), vm->ident.vmm);
		metrics_esc(uuid, sizeof(uuid), vm->ident.uuid);
		metrics_esc(scope, sizeof(scope), vm->ident.scope_name);
		metrics_putf(b,
			     "%s{vm=\"%s\",name=\"%s\",id=\"%s\",pid=\"%u\","
			     "vmm=\"%s\",uuid=\"%s\",scope_name=\"%s\"} 1\n",
			     f->name, vms[i].label, name, vm->id, vm->pid, vmm,
			     uuid, scope);
	}
}

static void emit_vm_running(struct mbuf *b, const struct metrics_view *v,
			    const struct family *f, const struct vm_out *vms,
			    size_t n)
{
	for (size_t i = 0; i < n; i++)
		metrics_putf(b, "%s{vm=\"%s\"} %d\n", f->name, vms[i].label,
			     vms[i].vm->exited ? 0 : 1);
}

static void emit_vm_vcpus(struct mbuf *b, const struct metrics_view *v,
			  const struct family *f, const struct vm_out *vms,
			  size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct vm *vm = vms[i].vm;
		size_t c = 0;

		/* counts are sorted by vcpu */
		for (size_t k = 0; k < vm->ncounts; k++)
			if (vm->counts[k].key.vcpu >= 0 &&
			    (k == 0 || vm->counts[k - 1].key.vcpu !=
					       vm->counts[k].key.vcpu))
				c++;
		metrics_putf(b, "%s{vm=\"%s\"} %zu\n", f->name, vms[i].label,
			     c);
	}
}

static void emit_vm_start(struct mbuf *b, const struct metrics_view *v,
			  const struct family *f, const struct vm_out *vms,
			  size_t n)
{
	if (v->boot_time <= 0)
		return;
	for (size_t i = 0; i < n; i++)
		metrics_putf(b, "%s{vm=\"%s\"} %.3f\n", f->name, vms[i].label,
			     v->boot_time + (double)vms[i].vm->start_ns / 1e9);
}

int metrics_render(const struct metrics_view *v, size_t max, char **ret_buf,
		   size_t *ret_len)
{
	struct mbuf b = { .max = max };
	struct vm_out *vms = NULL;
	struct group *g;
	size_t nvms;

	g = malloc(sizeof(*g));
	if (!g)
		return -ENOMEM;
	nvms = vm_labels(v->reg, &vms);
	if (v->reg && v->reg->nvms && !vms) {
		free(g);
		return -ENOMEM;
	}
	families_init();
	for (size_t i = 0; i < nfamilies && !b.err; i++) {
		const struct family *f = &families[i];

		header(&b, f);
		if (f->emit) {
			f->emit(&b, v, f, vms, nvms);
			continue;
		}
		for (size_t k = 0; k < nvms; k++)
			emit_counts(&b, v, f, &vms[k], g);
	}
	if (!v->no_kvm_metrics)
		metrics_emit_kvm(&b, v->ks, vms, nvms);
	free(g);
	free(vms);
	if (b.err) {
		free(b.p);
		return b.err;
	}
	if (!b.p)
		metrics_put(&b, "", 0);
	*ret_buf = b.p;
	*ret_len = b.len;
	return b.err;
}
