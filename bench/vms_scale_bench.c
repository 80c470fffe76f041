// SPDX-License-Identifier: GPL-2.0-only
/*
 * kvmprofd at host scale, simulated: a registry of N VMs (2 vCPUs, 24
 * counters each, as the harvest sees them) folded, routed and rendered by
 * the daemon's own code (registry.c, api_route.c, render.c).  Reports the
 * process' RSS, the harvest fold, GET /v1/vms and GET /v1/vms/{name} per
 * size, each size in a fresh process.  Prints `BENCH {json}` lines.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <kvmprof/json.h>
#include <kvmprof/util.h>
#include "api_route.h"
#include "registry.h"
#include "render.h"

#define VCPUS 2
#define REPS 7

static int alive(uint32_t pid, uint64_t start_ns)
{
	return 1;
}

static void identify(uint32_t pid, struct kp_vm_ident *id)
{
	memset(id, 0, sizeof(*id));
	snprintf(id->name, sizeof(id->name), "vm-%u", pid);
	snprintf(id->vmm, sizeof(id->vmm), "qemu");
}

/* The counters of VM @pid: exits, wake-ups, PIO, MMIO, two histograms. */
static size_t vm_counts(struct kp_count *c, uint32_t pid, uint64_t v)
{
	static const uint32_t ev[][2] = {
		{ KP_EV_USERSPACE_EXIT, 2 },
		{ KP_EV_USERSPACE_EXIT, 6 },
		{ KP_EV_PIO, 0x3f8 },
		{ KP_EV_MMIO, 2 },
		{ KP_EV_VCPU_WAKEUP, 2 },
		{ KP_EV_VCPU_WAKEUP, 3 },
		{ KP_EV_EXIT, 1 },
		{ KP_EV_EXIT, 12 },
		{ KP_EV_EXIT, 30 },
		{ KP_EV_EXIT, 48 },
		{ KP_EV_ENTRY, 0 },
		{ KP_EV_EXIT_LAT, 9 },
		{ KP_EV_EXIT_LAT, 10 },
		{ KP_EV_EXIT_LAT, 11 },
		{ KP_EV_EXIT_LAT, 12 },
		{ KP_EV_WAKEUP_LAT, 14 },
		{ KP_EV_WAKEUP_LAT, 16 },
		{ KP_EV_WAKEUP_LAT, 18 },
		{ KP_EV_WAKEUP_LAT, 20 },
		{ KP_EV_HALT_POLL_NS, 1 },
		{ KP_EV_LAT_SUM, KP_EV_EXIT_LAT },
		{ KP_EV_LAT_SUM, KP_EV_WAKEUP_LAT },
		{ KP_EV_SET_IRQ, 4 },
		{ KP_EV_MSI_SET_IRQ, 0 },
	};
	size_t n = 0;

	for (int vc = 0; vc < VCPUS; vc++)
		for (size_t i = 0; i < ARRAY_SIZE(ev); i++)
			c[n++] = (struct kp_count){
				.key = { .tgid = pid,
					 .start_ns = 1000 + pid,
					 .vcpu = vc,
					 .event = ev[i][0],
					 .sub = ev[i][1] },
				.value = v + i,
			};
	return n;
}

static long rss_kib(void)
{
	char line[128];
	long kib = -1;
	FILE *f = fopen("/proc/self/status", "r");

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld", &kib) == 1)
			break;
	if (f)
		fclose(f);
	return kib;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static uint64_t median(uint64_t *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_u64);
	return v[n / 2];
}

/* GET @url as the API answers it, without the socket: its length. */
static size_t get(struct registry *r, const char *url)
{
	struct api_query q = {};
	struct api_route rt;
	cJSON *o = NULL;
	struct vm *vm;
	char *text;
	size_t len;

	if (api_route_parse(url, &q, &rt))
		return 0;
	if (rt.target == API_VMS) {
		o = render_vms(r, 0);
	} else {
		vm = registry_find(r, rt.ref);
		if (vm)
			o = render_vm(vm, KP_EXIT_LAYOUT_X86, 0, NULL, false);
	}
	text = o ? cJSON_PrintUnformatted(o) : NULL;
	len = text ? strlen(text) : 0;
	cJSON_free(text);
	cJSON_Delete(o);
	return len;
}

static int run(uint32_t nvms)
{
	static const struct registry_ops ops = { alive, identify };
	size_t per = vm_counts((struct kp_count[VCPUS * 32]){}, 0, 0);
	size_t n = (size_t)nvms * per, vms_len = 0, vm_len = 0;
	uint64_t fold[REPS], all[REPS], one[REPS * 8], t;
	struct kp_count *snap = calloc(n, sizeof(*snap));
	struct registry r;
	long rss0 = rss_kib();
	char url[64];

	if (!snap)
		return 1;
	registry_init(&r, nvms, 30000, &ops);
	for (int rep = 0; rep < REPS; rep++) {
		size_t k = 0, nstale = 0;
		struct kp_count *stale = NULL;

		for (uint32_t p = 1; p <= nvms; p++)
			k += vm_counts(snap + k, 100000 + p, rep);
		t = kp_mono_ns();
		if (registry_update(&r, snap, k, 1000 + rep, &stale, &nstale))
			return 1;
		fold[rep] = kp_mono_ns() - t;
		free(stale);
		t = kp_mono_ns();
		vms_len = get(&r, "/v1/vms");
		all[rep] = kp_mono_ns() - t;
	}
	for (size_t i = 0; i < ARRAY_SIZE(one); i++) {
		/* by name, spread over the registry (lookups are by scan) */
		snprintf(url, sizeof(url), "/v1/vms/vm-%u",
			 100000 + 1 + (uint32_t)((i * 7919) % nvms));
		t = kp_mono_ns();
		vm_len = get(&r, url);
		one[i] = kp_mono_ns() - t;
	}
	if (r.nvms != nvms || !vms_len || !vm_len)
		return 1;
	printf("BENCH {\"bench\":\"vms_scale\",\"vms\":%u,\"counters\":%zu,"
	       "\"rss_kib\":%ld,\"rss_growth_kib\":%ld,"
	       "\"harvest_fold_ms\":%.2f,\"get_vms_ms\":%.2f,"
	       "\"get_vms_bytes\":%zu,\"get_vm_us\":%.1f,"
	       "\"get_vm_bytes\":%zu}\n",
	       nvms, n, rss_kib(), rss_kib() - rss0,
	       (double)median(fold, REPS) / 1e6,
	       (double)median(all, REPS) / 1e6, vms_len,
	       (double)median(one, ARRAY_SIZE(one)) / 1e3, vm_len);
	fflush(stdout);
	registry_fini(&r);
	free(snap);
	return 0;
}

int main(void)
{
	static const uint32_t sizes[] = { 256, 1024, 4096 };
	int rc = 0;

	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
		pid_t pid = fork();
		int st;

		if (pid == 0)
			_exit(run(sizes[i]));
		if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) ||
		    WEXITSTATUS(st))
			rc = 1;
	}
	return rc;
}
