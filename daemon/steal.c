// SPDX-License-Identifier: GPL-2.0-only
/* Who a vCPU waited for: see steal.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kvmprof/abi.h>
#include <kvmprof/json.h>
#include <kvmprof/procfs.h>
#include "steal.h"

struct steal_name {
	uint32_t tid;
	uint32_t tgid;
	uint64_t ms; /* named at (monotonic ms), 0: empty */
	char comm[16];
	char vm[64]; /* the VM whose VMM the thread is in, or "" */
};

/* direct-mapped by thread id: a collision names the thread afresh */
static struct steal_name names[STEAL_NAMES];

void steal_reset(void)
{
	memset(names, 0, sizeof(names));
}

static struct steal_name *slot(uint32_t tid)
{
	return &names[(tid * 2654435761u) % STEAL_NAMES];
}

/* "Name:\t...\n" and "Tgid:\t...\n" of /proc/TID/status */
static void name_from_proc(struct steal_name *n)
{
	char buf[1024], *p;
	ssize_t len = kp_proc_read((pid_t)n->tid, "status", buf, sizeof(buf));

	if (len < 0)
		return; /* gone: keep what it was called */
	p = strstr(buf, "Name:\t");
	if (p)
		sscanf(p + 6, "%15[^\n]", n->comm);
	p = strstr(buf, "\nTgid:\t");
	if (p)
		n->tgid = (uint32_t)strtoul(p + 7, NULL, 10);
}

static void note_name(const struct registry *r, uint32_t tid, uint64_t now_ms)
{
	struct steal_name *n = slot(tid);

	if (n->ms && n->tid == tid && now_ms - n->ms < STEAL_NAME_TTL_MS)
		return;
	if (n->tid != tid || !n->ms) {
		memset(n, 0, sizeof(*n));
		n->tid = tid;
		if (!tid)
			snprintf(n->comm, sizeof(n->comm), "idle");
	}
	n->ms = now_ms ? now_ms : 1;
	if (!tid)
		return;
	name_from_proc(n);
	n->vm[0] = '\0';
	for (size_t i = 0; i < r->nvms; i++)
		if (r->vms[i]->pid == n->tgid && !r->vms[i]->exited)
			snprintf(n->vm, sizeof(n->vm), "%s",
				 r->vms[i]->ident.name);
}

static int cmp_value_desc(const void *a, const void *b)
{
	uint64_t x = ((const struct kp_count *)a)->value;
	uint64_t y = ((const struct kp_count *)b)->value;

	return x == y ? 0 : x > y ? -1 : 1;
}

static bool is_stolen(const struct kp_count *c, int32_t vcpu)
{
	return c->key.event == KP_EV_STOLEN_BY && c->key.vcpu == vcpu;
}

/* The smallest value the STEAL_KEEP largest of @c[0..n) reach, and how
 * many of them may have it. */
static int threshold(const struct kp_count *c, size_t n, uint64_t *ret,
		     size_t *ret_ties)
{
	struct kp_count *tmp = malloc(n * sizeof(*tmp));

	if (!tmp)
		return -ENOMEM;
	memcpy(tmp, c, n * sizeof(*tmp));
	qsort(tmp, n, sizeof(*tmp), cmp_value_desc);
	*ret = tmp[STEAL_KEEP - 1].value;
	*ret_ties = 0;
	for (size_t i = 0; i < STEAL_KEEP; i++)
		*ret_ties += tmp[i].value == *ret;
	free(tmp);
	return 0;
}

static int prune_vm(const struct registry *r, struct vm *vm, uint64_t now_ms,
		    struct kp_count **ret, size_t *ret_n)
{
	size_t i = 0, w = 0;

	/* counts are sorted by (vcpu, event, sub): a vCPU's run is one */
	while (i < vm->ncounts) {
		int32_t vcpu = vm->counts[i].key.vcpu;
		size_t j = i, ties = 0;
		uint64_t thr = 0;

		if (!is_stolen(&vm->counts[i], vcpu)) {
			vm->counts[w++] = vm->counts[i++];
			continue;
		}
		while (j < vm->ncounts && is_stolen(&vm->counts[j], vcpu))
			j++;
		if (j - i > STEAL_KEEP &&
		    threshold(vm->counts + i, j - i, &thr, &ties))
			return -ENOMEM;
		for (size_t k = i; k < j; k++) {
			struct kp_count c = vm->counts[k];
			struct kp_count *nr;

			/* the STEAL_KEEP largest (the first of equals) */
			if (j - i <= STEAL_KEEP || c.value > thr ||
			    (c.value == thr && ties && ties--)) {
				note_name(r, c.key.sub, now_ms);
				vm->counts[w++] = c;
				continue;
			}
			nr = realloc(*ret, (*ret_n + 1) * sizeof(*nr));
			if (!nr)
				return -ENOMEM;
			nr[(*ret_n)++] = c;
			*ret = nr;
		}
		i = j;
	}
	vm->ncounts = w;
	return 0;
}

int steal_prune(struct registry *r, uint64_t now_ms, struct kp_count **ret,
		size_t *ret_n)
{
	int err = 0;

	*ret = NULL;
	*ret_n = 0;
	for (size_t i = 0; i < r->nvms && !err; i++)
		if (!r->vms[i]->exited) /* its keys go with it */
			err = prune_vm(r, r->vms[i], now_ms, ret, ret_n);
	return err;
}

bool steal_render(const struct vm *vm, int32_t vcpu, cJSON *sched)
{
	struct kp_count top[STEAL_TOP + 1];
	uint64_t shown = 0, delay;
	size_t n = 0;
	cJSON *arr;

	arr = cJSON_AddArrayToObject(sched, "stolen_by");
	if (!arr)
		return false;
	/* insertion into the STEAL_TOP largest, largest first */
	for (size_t i = 0; i < vm->ncounts; i++) {
		size_t k;

		if (!is_stolen(&vm->counts[i], vcpu))
			continue;
		for (k = n; k > 0 && top[k - 1].value < vm->counts[i].value;
		     k--)
			top[k] = top[k - 1];
		top[k] = vm->counts[i];
		if (n < STEAL_TOP)
			n++;
	}
	for (size_t k = 0; k < n; k++) {
		const struct steal_name *nm = slot(top[k].key.sub);
		cJSON *e = cJSON_CreateObject();

		if (!e)
			return false;
		kp_json_add_u64(e, "tid", top[k].key.sub);
		/* null: gone before it could be named */
		if (nm->ms && nm->tid == top[k].key.sub && nm->comm[0]) {
			cJSON_AddStringToObject(e, "comm", nm->comm);
			kp_json_add_u64(e, "pid", nm->tgid);
			if (nm->vm[0])
				cJSON_AddStringToObject(e, "vm", nm->vm);
		} else {
			cJSON_AddNullToObject(e, "comm");
		}
		kp_json_add_u64(e, "ns", top[k].value);
		cJSON_AddItemToArray(arr, e);
		shown += top[k].value;
	}
	delay = vm_sum(vm, false, vcpu, KP_EV_VCPU_DELAY, true, 0);
	kp_json_add_u64(sched, "stolen_other_ns",
			delay > shown ? delay - shown : 0);
	return true;
}
