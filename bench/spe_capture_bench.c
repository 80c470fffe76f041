// SPDX-License-Identifier: GPL-2.0-only
/*
 * SPE capture path, end to end: kvm_spe_copy_out (driven through
 * BPF_PROG_TEST_RUN with real kernel memory, as the patched kernel calls
 * it) -> BPF chunking into the ring buffer -> kvmprofd -> per-vCPU decode
 * into the VM's profile.  Reports bytes/s with zero loss (the injector
 * waits for the daemon to drain each batch, so nothing is dropped and the
 * figure is what the pipeline sustains), and the BPF program's cost from
 * the kernel's BPF stats.  Prints `BENCH {json}`.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <kvmprof/client.h>
#include <kvmprof/util.h>
#include "harness.h"
#include "inject.h"
#include "spegen.h"

#define COPY (256 * 1024)	/* KP_SPE_MAX_CHUNKS * KP_SPE_CHUNK */
#define ROUNDS 5

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double spe_bytes(const struct kpd *d, char *path, double *ret_lost)
{
	cJSON *j = NULL, *vm = NULL;
	long st;
	double b = -1;

	if (!kp_api_get(d->sock, path, &j, &st) && st == 200)
		b = jnum(j, "bytes");
	cJSON_Delete(j);
	if (ret_lost) {
		char p2[96];

		snprintf(p2, sizeof(p2), "/v1/vms/%d?refresh=1", getpid());
		*ret_lost = 0;
		if (!kp_api_get(d->sock, p2, &vm, &st) && st == 200) {
			const cJSON *c;

			cJSON_ArrayForEach(c, jget(vm, "per_vcpu")) {
				double l = jnum(c, "spe_buffer.lost_bytes_by_cause.ring_full");

				*ret_lost += l > 0 ? l : 0;
			}
		}
		cJSON_Delete(vm);
	}
	return b;
}

/* SPE bytes the daemon has received, all VMs (cheap to ask). */
static double status_bytes(const struct kpd *d)
{
	cJSON *j = NULL;
	long st;
	double b = -1;

	if (!kp_api_get(d->sock, "/v1/status", &j, &st) && st == 200)
		b = jnum(j, "spe_capture.bytes");
	cJSON_Delete(j);
	return b;
}

int main(int argc, char **argv)
{
	static const char *const extra[] = { "--interval-ms", "1000",
		"--load-unavailable", "--spe-ring-kib", "65536", "--bpf-stats",
		NULL };
	size_t total = argc > 1 ? strtoull(argv[1], NULL, 0) : 256u << 20;
	double gbps[ROUNDS];
	size_t batch = 32u << 20, sent = 0;
	struct spegen_opts go = { .seed = 42, .layout = SPEGEN_N1 };
	const char *why = kvm_bpf_missing();
	struct spe_record *truth;
	struct inject in;
	struct kpd d;
	uint8_t *buf;
	size_t len;
	char path[96];
	double t0, t1, lost = 0, samples = 0;
	uint64_t cnt = 0, ns = 0;
	int prog;
	uint32_t min_id;

	if (why) {
		fprintf(stderr, "spe_capture_bench: SKIPPED (%s)\n", why);
		return 0;
	}
	/* 64 MiB of Neoverse-N1-like records, replayed until @total */
	if (spegen_stream(&go, (64u << 20) / 64, &buf, &len, &truth))
		return 1;
	min_id = max_prog_id();
	if (kpd_start(&d, extra) || inject_open(&in))
		return 1;
	prog = find_prog_of(d.pid, "kp_spe_copy_out", min_id);
	if (prog < 0)
		return 1;
	snprintf(path, sizeof(path), "/v1/vms/%d/spe?refresh=0", getpid());
	for (int round = 0; round < ROUNDS; round++) {
	size_t goal = sent + total;

	t0 = kp_mono_s();
	while (sent < goal) {
		size_t end = sent + batch;

		for (; sent < end && sent < goal; sent += COPY) {
			size_t off = sent % len, n = COPY;

			if (n > len - off)
				n = len - off;
			if (inject_copy_out(&in, prog, (int)((sent / COPY) & 1),
					    buf + off, n, sent, 0, 0))
				return 1;
			if (n < COPY)
				sent -= COPY - n;
		}
		/* wait for the daemon to drain: zero loss by construction
		 * (polling the cheap status, not the profile) */
		while (status_bytes(&d) < (double)sent)
			usleep(5000);
	}
	t1 = kp_mono_s();
	gbps[round] = (double)total / (t1 - t0) / 1e9;
	fprintf(stderr, "round %d: %.3f GB/s\n", round + 1, gbps[round]);
	}
	qsort(gbps, ROUNDS, sizeof(gbps[0]), cmp_double);
	spe_bytes(&d, path, &lost);
	{
		cJSON *j = NULL, *st = NULL;
		long s;
		const cJSON *p;

		if (!kp_api_get(d.sock, path, &j, &s))
			samples = jnum(j, "samples");
		cJSON_Delete(j);
		if (!kp_api_get(d.sock, "/v1/status", &st, &s))
			cJSON_ArrayForEach(p, jget(st, "probes"))
				if (!strcmp(jget(p, "name")->valuestring,
					    "kvm_spe_copy_out")) {
					cnt = (uint64_t)jnum(p, "run_cnt");
					ns = (uint64_t)jnum(p, "run_time_ns");
				}
		cJSON_Delete(st);
	}
	printf("BENCH {\"name\":\"spe_capture_end_to_end\",\"rounds\":%d,"
	       "\"bytes_per_round\":%zu,\"gbps_median\":%.3f,"
	       "\"gbps_best\":%.3f,\"samples\":%.0f,\"lost_bytes\":%.0f,"
	       "\"copy_outs\":%llu,\"bpf_ns_per_copy_out\":%.0f,"
	       "\"bpf_gbps\":%.2f,\"target_gbps\":1.0,"
	       "\"meets_target\":%s}\n",
	       ROUNDS, total, gbps[ROUNDS / 2], gbps[ROUNDS - 1], samples, lost,
	       (unsigned long long)cnt, cnt ? (double)ns / (double)cnt : 0,
	       ns ? (double)sent / (double)ns : 0,
	       gbps[ROUNDS / 2] >= 1.0 && lost == 0 ? "true" : "false");
	inject_close(&in);
	kpd_stop(&d);
	free(buf);
	free(truth);
	return 0;
}
