// SPDX-License-Identifier: GPL-2.0-only
/*
 * The probes on the kvmprof patch tracepoints, end to end on this (stock)
 * kernel: kvmprofd loads them without attaching (--load-unavailable) and
 * the test drives them with BPF_PROG_TEST_RUN, exactly as the patched
 * kernel would call them, with `data` and `vcpu` pointing at real kernel
 * memory.  Expectations come from the SPE generator's ground truth and
 * from what was injected, never from the daemon.  This program: the SPE
 * data (kvm_spe_copy_out) to profiles, recordings and symbols; the counting
 * probes are test_e2e_counters.c.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include <kvmprof/abi.h>
#include <kvmprof/client.h>
#include <kvmprof/spe.h>
#include <kvmprof/spefile.h>
#include <zlib.h>
#include "harness.h"
#include "inject.h"
#include "probes_e2e.h"
#include "spestream.h"

/* at least *@arg SPE bytes received for the VM */
static bool bytes_at_least(const cJSON *spe, const void *arg)
{
	return jnum(spe, "bytes") >= *(const double *)arg;
}

/* SPE bytes received and lost (status) reach *@arg */
static bool all_accounted(const cJSON *st, const void *arg)
{
	return jnum(st, "spe_capture.bytes") +
		       jnum(st, "spe_capture.lost_bytes") >=
	       *(const double *)arg;
}

/* Wait until the daemon has received @bytes SPE bytes for VM @pid. */
static cJSON *wait_spe(const struct kpd *d, pid_t pid, double bytes)
{
	char path[96];

	snprintf(path, sizeof(path), "/v1/vms/%d/spe?refresh=1", (int)pid);
	return kpd_wait(d, path, bytes_at_least, &bytes, 10000);
}

static const cJSON *spe_vcpu(const cJSON *spe, int v)
{
	const cJSON *c;

	cJSON_ArrayForEach(c, jget(spe, "per_vcpu"))
		if (jnum(c, "vcpu") == v)
			return c;
	return NULL;
}

static int cmp_u64_desc(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x > y ? -1 : x < y;
}

/* Truth count of canonical PC @pc over streams @s. */
static uint64_t truth_pc(struct stream *s, int n, uint64_t pc)
{
	uint64_t c = 0;

	for (int v = 0; v < n; v++)
		for (size_t i = 0; i < s[v].nrec; i++)
			c += spe_rec_has_addr(&s[v].truth[i], SPE_ADDR_PC) &&
			     spe_addr_canon(s[v].truth[i].addr[SPE_ADDR_PC]) == pc;
	return c;
}

/* The VM profile (library aggregation inside the daemon) vs the truth. */
static void check_vm_profile(const cJSON *prof, struct stream *s, int n)
{
	uint64_t el[4] = {}, tot_lat = 0, ev[64] = {}, recs = 0, max_pc = 0;
	const cJSON *e;
	char k[96];

	assert_non_null(prof);
	for (int v = 0; v < n; v++)
		for (size_t i = 0; i < s[v].nrec; i++) {
			const struct spe_record *r = &s[v].truth[i];

			recs++;
			if (spe_rec_has_addr(r, SPE_ADDR_PC))
				el[spe_addr_el(r->addr[SPE_ADDR_PC])]++;
			tot_lat += spe_rec_has_cnt(r, 0);
			for (int b = 0; b < 64 && (r->flags & SPE_REC_EV); b++)
				ev[b] += (r->events >> b) & 1;
		}
	assert_int_equal(jnum(prof, "samples"), recs);
	for (int i = 0; i < 4; i++) {
		snprintf(k, sizeof(k), "el.el%d.samples", i);
		assert_int_equal(jnum(prof, k), el[i]);
	}
	assert_int_equal(jnum(prof, "latency.total.count"), tot_lat);
	for (int b = 0; b < 64; b++) {
		const char *name = spe_ev_name((unsigned int)b);

		if (!name || !ev[b])
			continue;
		snprintf(k, sizeof(k), "events.bits.%s", name);
		assert_int_equal(jnum(prof, k), ev[b]);
	}
	/* top PCs: each estimate brackets the truth (space-saving bound),
	 * and the heaviest PC is found exactly at the top */
	{
		uint64_t *all = calloc(recs, sizeof(*all)), m = 0;
		size_t na = 0;

		for (int v = 0; v < n; v++)
			for (size_t i = 0; i < s[v].nrec; i++)
				if (spe_rec_has_addr(&s[v].truth[i], SPE_ADDR_PC))
					all[na++] = spe_addr_canon(
						s[v].truth[i].addr[SPE_ADDR_PC]);
		qsort(all, na, sizeof(*all), cmp_u64_desc);
		for (size_t i = 0, run = 0; i < na; i++) {
			run = (i && all[i] == all[i - 1]) ? run + 1 : 1;
			if (run > m)
				m = run;
		}
		max_pc = m;
		free(all);
	}
	e = cJSON_GetArrayItem(jget(prof, "top_pcs.entries"), 0);
	assert_non_null(e);
	cJSON_ArrayForEach(e, jget(prof, "top_pcs.entries")) {
		uint64_t pc = strtoull(jget(e, "pc")->valuestring, NULL, 16);
		uint64_t t = truth_pc(s, n, pc);

		assert_true(t <= (uint64_t)jnum(e, "count"));
		assert_true(t + (uint64_t)jnum(e, "err") >=
			    (uint64_t)jnum(e, "count"));
	}
	e = cJSON_GetArrayItem(jget(prof, "top_pcs.entries"), 0);
	assert_int_equal(truth_pc(s, n,
				  strtoull(jget(e, "pc")->valuestring, NULL, 16)),
			 max_pc);
}

static void check_profile(const cJSON *spe, struct stream *s, int n)
{
	assert_non_null(spe);
	for (int v = 0; v < n; v++) {
		const cJSON *c = spe_vcpu(spe, v);
		char k[32];

		assert_non_null(c);
		assert_int_equal(jnum(c, "samples"), s[v].nrec);
		for (int e = 0; e < 4; e++) {
			snprintf(k, sizeof(k), "samples_by_el.el%d", e);
			assert_int_equal(jnum(c, k), s[v].by_el[e]);
		}
		assert_int_equal(jnum(c, "bad_bytes"), 0);
		assert_int_equal(jnum(c, "dropped_records"), 0);
		assert_int_equal(jnum(c, "lost_chunks"), 0);
	}
}

static void ground_truth_two_vcpus_two_vms(void **state)
{
	struct stream s[2];
	uint64_t copies[3] = {}, errs[1] = {};
	struct inject in;
	char path[96];
	cJSON *spe, *vm;
	pid_t child;
	int prog, st;

	/* the second VM: a child process injecting at the same time */
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		struct stream cs;
		uint64_t cc[3] = {}, ce[1] = {};

		rng ^= 0x1234;
		if (inject_open(&in))
			_exit(3);
		prog = find_prog("kp_spe_copy_out", min_id);
		if (prog < 0)
			_exit(4);
		stream_make(&cs, 77, 5000);
		inject_streams(&in, prog, &cs, 1, cc, ce);
		_exit(0);
	}
	assert_int_equal(inject_open(&in), 0);
	prog = find_prog("kp_spe_copy_out", min_id);
	assert_true(prog >= 0);
	stream_make(&s[0], 1, 20000);
	stream_make(&s[1], 2, 20000);
	inject_streams(&in, prog, s, 2, copies, errs);
	assert_int_equal(waitpid(child, &st, 0), child);
	assert_int_equal(WEXITSTATUS(st), 0);

	spe = wait_spe(&kpd, getpid(), (double)(s[0].len + s[1].len));
	check_profile(spe, s, 2);
	check_vm_profile(jget(spe, "profile"), s, 2);
	assert_int_equal(jnum(spe, "bytes"), s[0].len + s[1].len);
	cJSON_Delete(spe);

	/* the kernel-side counters: copy-outs by reason, errors */
	snprintf(path, sizeof(path), "/v1/vms/%d?refresh=1", getpid());
	vm = kpd_get(&kpd, path);
	assert_non_null(vm);
	{
		double c[3] = {}, e = 0, bytes = 0;

		for (int v = 0; v < 2; v++) {
			const cJSON *pc = vcpu_of(vm, v);

			c[0] += jnum(
				pc,
				"spe_buffer.copy_outs_by_reason.buffer_full");
			c[1] += jnum(pc, "spe_buffer.copy_outs_by_reason.guest_stop");
			c[2] += jnum(pc, "spe_buffer.copy_outs_by_reason.vcpu_put");
			e += jnum(pc, "spe_buffer.copy_errors_by_errno.14");
			for (int r = 0; r < 3; r++) {
				static const char *const rn[] = { "buffer_full",
								  "guest_stop",
								  "vcpu_put" };
				char k[64];
				double b;

				snprintf(k, sizeof(k),
					 "spe_buffer.bytes_by_reason.%s", rn[r]);
				b = jnum(pc, k);
				bytes += b > 0 ? b : 0;
			}
		}
		for (int r = 0; r < 3; r++)
			assert_int_equal(c[r] < 0 ? 0 : c[r], copies[r]);
		assert_int_equal(e < 0 ? 0 : e, errs[0]);
		assert_int_equal(bytes, s[0].len + s[1].len);
	}
	cJSON_Delete(vm);

	/* the other VM never mixes with ours */
	{
		struct stream cs;

		stream_make(&cs, 77, 5000);
		spe = wait_spe(&kpd, child, (double)cs.len);
		check_profile(spe, &cs, 1);
		assert_null(spe_vcpu(spe, 1));
		cJSON_Delete(spe);
		stream_free(&cs);
	}
	close(prog);
	inject_close(&in);
	stream_free(&s[0]);
	stream_free(&s[1]);
}

struct demux {
	uint8_t *buf[KT_VCPUS];
	size_t len[KT_VCPUS];
	int trailers;
};

static int on_block(void *arg, uint32_t vcpu, const uint8_t *data, size_t len)
{
	struct demux *d = arg;

	if (vcpu == KP_SPEFILE_TRAILER) {
		d->trailers++;
		return 0;
	}
	if (vcpu >= KT_VCPUS)
		return -EINVAL;
	d->buf[vcpu] = realloc(d->buf[vcpu], d->len[vcpu] + len);
	memcpy(d->buf[vcpu] + d->len[vcpu], data, len);
	d->len[vcpu] += len;
	return 0;
}

/* Start VM @pid's raw SPE recording: the first raw read does. */
static void raw_recording_start(const struct kpd *d, pid_t pid)
{
	char path[96];
	uint8_t *buf = NULL;
	size_t len = 0;
	long status = 0;

	snprintf(path, sizeof(path), "/v1/vms/%d/spe/raw?cursor=0&refresh=1",
		 (int)pid);
	assert_int_equal(kp_api_get_raw(d->sock, path, &buf, &len, &status,
					NULL, NULL, 0),
			 0);
	assert_int_equal(status, 200);
	free(buf);
}

/* kvmprof record: the file holds exactly each vCPU's injected stream. */
static void record_roundtrip(void **state)
{
	char path[256], file[160], pidstr[16];
	struct stream s[2];
	uint64_t copies[3] = {}, errs[1] = {};
	struct inject in;
	struct demux dm = {};
	const char *meta;
	size_t mlen, len = 0, cap = 1 << 20;
	uint8_t *buf = malloc(cap);
	gzFile gz;
	pid_t rec;
	int prog, n;

	snprintf(file, sizeof(file), "%s/rec.kpspe", kpd.dir);
	snprintf(pidstr, sizeof(pidstr), "%d", getpid());
	assert_int_equal(inject_open(&in), 0);
	prog = find_prog("kp_spe_copy_out", min_id);
	assert_true(prog >= 0);
	/* recording starts with the first raw read: here, so that the
	 * recorder gets every block injected below */
	raw_recording_start(&kpd, getpid());
	{
		char *argv[] = { bin_path("kvmprof", path, sizeof(path)),
				 "--socket", kpd.sock, "record", pidstr, "-o",
				 file, "--duration", "3", NULL };

		rec = spawn(argv);
	}
	stream_make(&s[0], 11, 3000);
	stream_make(&s[1], 12, 3000);
	inject_streams(&in, prog, s, 2, copies, errs);
	assert_int_equal(wait_exit(rec), 0);

	gz = gzopen(file, "rb");
	assert_non_null(gz);
	while ((n = gzread(gz, buf + len, (unsigned int)(cap - len))) > 0) {
		len += (size_t)n;
		if (len == cap)
			buf = realloc(buf, cap *= 2);
	}
	gzclose(gz);
	assert_int_equal(kp_spefile_walk(buf, len, &meta, &mlen, on_block, &dm),
			 0);
	assert_non_null(memmem(meta, mlen, pidstr, strlen(pidstr)));
	assert_int_equal(dm.trailers, 1);
	for (int v = 0; v < 2; v++) {
		assert_int_equal(dm.len[v], s[v].len);
		assert_memory_equal(dm.buf[v], s[v].buf, s[v].len);
		free(dm.buf[v]);
	}
	/* and `kvmprof spe report` reads the recording back */
	{
		char *argv[] = { bin_path("kvmprof", path, sizeof(path)),
				 "--json", "spe", "report", file, NULL };
		char *out = NULL;
		cJSON *j;

		assert_int_equal(run_capture(argv, &out), 0);
		j = cJSON_Parse(out);
		assert_non_null(j);
		assert_int_equal(jnum(j, "samples"), s[0].nrec + s[1].nrec);
		cJSON_Delete(j);
		free(out);
	}
	stream_free(&s[0]);
	stream_free(&s[1]);
	free(buf);
	close(prog);
	inject_close(&in);
}

static void top_pcs_symbolized(void **state)
{
	struct kpd d3;
	struct inject in;
	struct stream s;
	char symdir[64], symfile[160], arg[256], comm[32] = "";
	uint32_t mid = max_prog_id();
	const cJSON *e;
	uint64_t pc;
	cJSON *spe;
	FILE *f;
	int prog;

	f = fopen("/proc/self/comm", "r");
	assert_non_null(f);
	assert_non_null(fgets(comm, sizeof(comm), f));
	fclose(f);
	comm[strcspn(comm, "\n")] = '\0';
	stream_make(&s, 21, 4000);
	/* the heaviest PC of the stream, found by the first run below */
	{
		const char *const extra[] = { "--interval-ms", "100",
					      "--load-unavailable", NULL };

		assert_int_equal(kpd_start(&d3, extra), 0);
	}
	assert_int_equal(inject_open(&in), 0);
	prog = find_prog_of(d3.pid, "kp_spe_copy_out", mid);
	assert_true(prog >= 0);
	inject_pieces(&in, prog, &s, 65536);
	spe = wait_spe(&d3, getpid(), (double)s.len);
	e = cJSON_GetArrayItem(jget(spe, "profile.top_pcs.entries"), 0);
	assert_non_null(e);
	pc = strtoull(jget(e, "pc")->valuestring, NULL, 16);
	assert_null(jget(e, "symbol"));	/* no symbols configured */
	cJSON_Delete(spe);
	close(prog);
	assert_int_equal(kpd_stop(&d3), 0);

	/* kallsyms-format file: a function 0x10 below it, the next 0x100
	 * above it; readable by the unprivileged user the daemon runs as */
	snprintf(symdir, sizeof(symdir), "/tmp/kvmprof-syms.XXXXXX");
	assert_non_null(mkdtemp(symdir));
	assert_int_equal(chmod(symdir, 0755), 0);
	snprintf(symfile, sizeof(symfile), "%s/guest.kallsyms", symdir);
	f = fopen(symfile, "w");
	assert_non_null(f);
	fprintf(f, "%016llx T kp_hot_function\n%016llx t kp_next_function\n",
		(unsigned long long)(pc - 0x10),
		(unsigned long long)(pc + 0x100));
	fchmod(fileno(f), 0644);
	fclose(f);
	snprintf(arg, sizeof(arg), "%s:%s", comm, symfile);
	{
		const char *const extra[] = { "--interval-ms", "100",
					      "--load-unavailable",
					      "--guest-symbols", arg, NULL };

		mid = max_prog_id();
		assert_int_equal(kpd_start(&d3, extra), 0);
	}
	prog = find_prog_of(d3.pid, "kp_spe_copy_out", mid);
	assert_true(prog >= 0);
	inject_pieces(&in, prog, &s, 65536);
	spe = wait_spe(&d3, getpid(), (double)s.len);
	e = cJSON_GetArrayItem(jget(spe, "profile.top_pcs.entries"), 0);
	assert_non_null(e);
	assert_int_equal(strtoull(jget(e, "pc")->valuestring, NULL, 16), pc);
	assert_null(jget(spe, "profile.symbols_error"));
	assert_non_null(jget(e, "symbol"));
	assert_string_equal(jget(e, "symbol")->valuestring, "kp_hot_function");
	assert_int_equal(jnum(e, "offset"), 0x10);
	cJSON_Delete(spe);
	unlink(symfile);
	rmdir(symdir);
	close(prog);
	inject_close(&in);
	stream_free(&s);
	assert_int_equal(kpd_stop(&d3), 0);
}

/* A small ring and a lazy consumer: the flood is lost, counted exactly. */
static void ring_overflow_counted(void **state)
{
	static const char *const extra[] = {
		"--interval-ms", "100", "--load-unavailable",
		"--spe-ring-kib", "64", "--spe-wakeup-kib", "1048576",
		"--spe-poll-ms", "1500", NULL };
	struct kpd d2;
	struct inject in;
	struct stream s, s2;
	uint32_t mid = max_prog_id();
	double got, lost, before;
	char path[96];
	cJSON *spe, *vm, *st;
	int prog;

	assert_int_equal(kpd_start(&d2, extra), 0);
	assert_int_equal(inject_open(&in), 0);
	prog = find_prog_of(d2.pid, "kp_spe_copy_out", mid);
	assert_true(prog >= 0);
	stream_make(&s, 5, 8000);	/* ~512 KiB into a 64 KiB ring */
	for (size_t off = 0; off < s.len; off += 4096)
		assert_int_equal(inject_copy_out(&in, prog, 0, s.buf + off,
						 s.len - off < 4096 ?
							 s.len - off : 4096,
						 off, 0, 0), 0);
	/* one poll drains what fitted: all is received or lost */
	cJSON_Delete(kpd_wait(&d2, "/v1/status?refresh=1", all_accounted,
			      &(double){ (double)s.len }, 5000));
	snprintf(path, sizeof(path), "/v1/vms/%d?refresh=1", getpid());
	vm = kpd_get(&d2, path);
	assert_non_null(vm);
	lost = jnum(vcpu_of(vm, 0), "spe_buffer.lost_bytes_by_cause.ring_full");
	cJSON_Delete(vm);
	spe = wait_spe(&d2, getpid(), 1);
	got = jnum(spe, "bytes");
	cJSON_Delete(spe);
	assert_true(lost > 0);
	assert_int_equal(got + lost, s.len);
	st = kpd_get(&d2, "/v1/status");
	assert_int_equal(jnum(st, "spe_capture.lost_bytes"), lost);
	cJSON_Delete(st);

	/* the daemon is still up and later data still counts */
	spe = wait_spe(&d2, getpid(), 1);
	before = jnum(spe_vcpu(spe, 0), "samples");
	cJSON_Delete(spe);
	stream_make(&s2, 6, 20);
	assert_int_equal(inject_copy_out(&in, prog, 0, s2.buf, s2.len, 0, 0, 0),
			 0);
	spe = wait_spe(&d2, getpid(), got + (double)s2.len);
	/* a gap came before: at most the record in progress is given up */
	assert_true(jnum(spe_vcpu(spe, 0), "samples") >= before + 19);
	assert_true(jnum(spe_vcpu(spe, 0), "samples") <= before + 20);
	assert_true(jnum(spe_vcpu(spe, 0), "lost_chunks") > 0);
	cJSON_Delete(spe);
	close(prog);
	inject_close(&in);
	stream_free(&s);
	stream_free(&s2);
	assert_int_equal(kpd_stop(&d2), 0);
}
int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ground_truth_two_vcpus_two_vms),
		cmocka_unit_test(record_roundtrip),
		cmocka_unit_test(top_pcs_symbolized),
		cmocka_unit_test(ring_overflow_counted),
	};

	return probes_e2e_main("test_e2e_spe", tests,
			       sizeof(tests) / sizeof(tests[0]));
}
