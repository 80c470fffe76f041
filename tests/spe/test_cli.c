// SPDX-License-Identifier: GPL-2.0-only
/*
 * kvmprof spe dump|records|report, run in-process (cli/spe.c with a stub
 * dispatcher): perf-format dump lines, records equal to the generator's
 * truth through gzip, zlib and kvmprof recordings, report counts, and bad
 * files failing with no output.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include <kvmprof/spe_profile.h>
#include <kvmprof/spefile.h>

#include "../../cli/cli.h"
#include "util.h"

/* Runs `kvmprof [--json] spe ARGS...`; *ret_out gets stdout. */
static int run(char **ret_out, bool json, ...)
{
	struct cli_ctx ctx = { .json = json, .prog = "kvmprof" };
	char *argv[16];
	int argc = 0, saved, rc;
	FILE *tmp = tmpfile();
	size_t len;
	va_list ap;

	assert_non_null(tmp);
	va_start(ap, json);
	while (argc < 15 && (argv[argc] = va_arg(ap, char *)))
		argc++;
	va_end(ap);
	argv[argc] = NULL;
	fflush(stdout);
	saved = dup(STDOUT_FILENO);
	dup2(fileno(tmp), STDOUT_FILENO);
	rc = cmd_spe(&ctx, argc, argv);
	fflush(stdout);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	len = ftell(tmp);
	rewind(tmp);
	*ret_out = calloc(1, len + 1);
	assert_int_equal(fread(*ret_out, 1, len, tmp), len);
	fclose(tmp);
	return rc;
}

static char *tmp_path(const char *suffix)
{
	char *p = malloc(64);
	int fd;

	snprintf(p, 64, "/tmp/spe-cli-XXXXXX%s", suffix);
	fd = mkstemps(p, strlen(suffix));
	assert_true(fd >= 0);
	close(fd);
	return p;
}

static void write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
}

static void write_gzip(const char *path, const void *data, size_t len)
{
	gzFile g = gzopen(path, "wb");

	assert_non_null(g);
	assert_int_equal(gzwrite(g, data, len), (int)len);
	assert_int_equal(gzclose(g), Z_OK);
}

/* The truth records as `records --csv` should print them. */
static char *truth_csv(const struct spe_record *truth, size_t n,
		       const char *vcpu, uint64_t midr)
{
	char *buf;
	size_t len;
	FILE *f = open_memstream(&buf, &len);

	if (vcpu)
		fprintf(f, "vcpu,");
	spe_record_csv_header(f);
	for (size_t i = 0; i < n; i++) {
		if (vcpu)
			fprintf(f, "%s,", vcpu);
		spe_record_csv(f, &truth[i], midr);
	}
	fclose(f);
	return buf;
}

/* One perf line: ".  OFFSET:  bytes..." padded to 16 byte columns. */
static void perf_line(FILE *f, unsigned int off, const char *bytes,
		      unsigned int n, const char *desc)
{
	fprintf(f, ".  %08x:  %s%*s %s\n", off, bytes, 3 * (16 - n), "", desc);
}

static void test_dump(void **state)
{
	static const uint8_t b[] = {
		0xb0, 0x50, 0x34, 0x12, 0x08, 0x00, 0x80, 0xff, 0xa0,
		0x99, 0x07, 0x00,
		0x49, 0x01,
		0x00, 0x00, 0x00,
		0x71, 0x2a, 0, 0, 0, 0, 0, 0, 0,
		0x02,
		0x01,
	};
	char *path = tmp_path(".bin"), *out, *want;
	size_t wlen;
	FILE *f = open_memstream(&want, &wlen);

	(void)state;
	write_file(path, b, sizeof(b));
	fprintf(f, ". ... ARM SPE data: size 0x1c bytes\n");
	perf_line(f, 0x00, "b0 50 34 12 08 00 80 ff a0", 9,
		  "PC 0xff800008123450 el1 ns=1");
	perf_line(f, 0x09, "99 07 00", 3, "LAT 7 ISSUE");
	perf_line(f, 0x0c, "49 01", 2, "ST GP-REG");
	perf_line(f, 0x0e, "00 00 00", 3, "PAD");
	perf_line(f, 0x11, "71 2a 00 00 00 00 00 00 00", 9, "TS 42");
	perf_line(f, 0x1a, "02", 1, "Bad packet!");
	perf_line(f, 0x1b, "01", 1, "END");
	fclose(f);
	assert_int_equal(run(&out, false, "dump", path, NULL), 0);
	assert_string_equal(out, want);
	free(out);
	free(want);
	/* JSON: one object per packet */
	assert_int_equal(run(&out, false, "dump", path, "--json", NULL), 0);
	{
		cJSON *j = cJSON_Parse(out);
		const cJSON *pk = cJSON_GetObjectItem(j, "packets");

		assert_int_equal(cJSON_GetArraySize(pk), 7);
		assert_string_equal(cJSON_GetObjectItem(
			cJSON_GetArrayItem(pk, 1), "desc")->valuestring,
			"LAT 7 ISSUE");
		cJSON_Delete(j);
	}
	free(out);
	unlink(path);
	free(path);
}

static void test_records_gzip_zlib(void **state)
{
	struct spegen_opts go = { .seed = 21, .layout = SPEGEN_MIXED };
	struct spe_record *truth;
	char *gz = tmp_path(".gz"), *zl = tmp_path(".z"), *out, *want;
	uint8_t *buf, *z;
	size_t len, nrec = 20000;
	uLongf zlen;

	(void)state;
	assert_int_equal(spegen_stream(&go, nrec, &buf, &len, &truth), 0);
	want = truth_csv(truth, nrec, NULL, 0);
	write_gzip(gz, buf, len);
	assert_int_equal(run(&out, false, "records", gz, "--csv", NULL), 0);
	assert_true(!strcmp(out, want));
	free(out);

	zlen = compressBound(len);
	z = malloc(zlen);
	assert_int_equal(compress2(z, &zlen, buf, len, 6), Z_OK);
	write_file(zl, z, zlen);
	assert_int_equal(run(&out, false, "records", "--csv", zl, NULL), 0);
	assert_true(!strcmp(out, want));
	free(out);

	/* JSON: a document with every record and the decoder's counts */
	assert_int_equal(run(&out, false, "records", zl, "--json", NULL), 0);
	{
		cJSON *j = cJSON_Parse(out);
		const cJSON *r = cJSON_GetObjectItem(j, "records");
		const cJSON *d = cJSON_GetObjectItem(j, "decoder");

		assert_non_null(j);
		assert_int_equal(cJSON_GetArraySize(r), nrec);
		assert_int_equal(cJSON_GetObjectItem(d, "records")->valuedouble,
				 nrec);
		assert_int_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(r, 7),
						     "offset")->valuedouble,
				 truth[7].offset);
		cJSON_Delete(j);
	}
	free(out);

	/* truncated compressed data: an error and no output */
	write_file(gz, z, zlen / 2);
	assert_int_equal(run(&out, false, "records", gz, NULL), 1);
	assert_string_equal(out, "");
	free(out);
	unlink(gz);
	unlink(zl);
	free(gz);
	free(zl);
	free(z);
	free(want);
	free(buf);
	free(truth);
}

static void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = v >> (8 * i);
}

/* Which of two streams gives the next chunk (1..@max bytes, *ret_n). */
static int next_chunk(uint64_t *rng, const size_t pos[2], const size_t len[2],
		      size_t max, size_t *ret_n)
{
	int v = spegen_below(rng, 2);
	size_t n = 1 + spegen_below(rng, max);

	if (pos[v] == len[v])
		v = !v;
	*ret_n = n < len[v] - pos[v] ? n : len[v] - pos[v];
	return v;
}

/* `records --csv` of two vCPUs (0 then 1) with these truths. */
static char *two_vcpu_csv(struct spe_record *const truth[2], size_t nrec,
			  uint64_t midr)
{
	char *want0 = truth_csv(truth[0], nrec, "0", midr);
	char *want1 = truth_csv(truth[1], nrec, "1", midr);
	char *both = malloc(strlen(want0) + strlen(want1) + 1);

	assert_non_null(both);
	strcpy(both, want0);
	strcat(both, strchr(want1, '\n') + 1); /* one header */
	free(want0);
	free(want1);
	return both;
}

/*
 * `records --csv` prints @want and `report --json` counts @samples on an
 * N1 (from the file, or @midr when not NULL).
 */
static void check_two(const char *path, const char *midr, const char *want,
		      double samples)
{
	char *out;
	cJSON *j;

	assert_int_equal(run(&out, false, "records", path, "--csv",
			     midr ? "--midr" : NULL, midr, NULL),
			 0);
	assert_true(!strcmp(out, want));
	free(out);
	assert_int_equal(run(&out, false, "report", path, "--json",
			     midr ? "--midr" : NULL, midr, NULL),
			 0);
	j = cJSON_Parse(out);
	assert_non_null(j);
	assert_string_equal(cJSON_GetObjectItem(j, "cpu")->valuestring,
			    "neoverse-n1");
	assert_int_equal(cJSON_GetObjectItem(j, "samples")->valuedouble,
			 samples);
	cJSON_Delete(j);
	free(out);
}

/* `report FILE` fails with nothing on stdout. */
static void expect_report_error(const char *path)
{
	char *out;

	assert_int_equal(run(&out, false, "report", path, NULL), 1);
	assert_string_equal(out, "");
	free(out);
}

static void free_two(uint8_t *s[2], struct spe_record *truth[2])
{
	for (int v = 0; v < 2; v++) {
		free(s[v]);
		free(truth[v]);
	}
}

/* A kvmprof recording: two vCPUs' streams in interleaved blocks. */
static void test_recording(void **state)
{
	static const char meta[] = "{\"vm\":\"t\",\"midr\":\"0x410fd0c0\"}";
	struct spegen_opts go[2] = {
		{ .seed = 31, .layout = SPEGEN_N1 },
		{ .seed = 32, .layout = SPEGEN_VAR },
	};
	struct spe_record *truth[2];
	uint8_t *s[2], *rec;
	size_t len[2], pos[2] = { 0, 0 }, rlen = 0, nrec = 3000;
	char *path = tmp_path(".gz"), *both;
	uint64_t rng = 5;

	(void)state;
	for (int v = 0; v < 2; v++)
		assert_int_equal(spegen_stream(&go[v], nrec, &s[v], &len[v],
					       &truth[v]), 0);
	rec = malloc(len[0] + len[1] + 65536);
	memcpy(rec, KP_SPEFILE_MAGIC, KP_SPEFILE_MAGIC_LEN);
	rlen = KP_SPEFILE_MAGIC_LEN;
	put_le32(rec + rlen, sizeof(meta) - 1);
	memcpy(rec + rlen + 4, meta, sizeof(meta) - 1);
	rlen += 4 + sizeof(meta) - 1;
	while (pos[0] < len[0] || pos[1] < len[1]) {
		size_t n;
		int v = next_chunk(&rng, pos, len, 700, &n);

		put_le32(rec + rlen, v);
		put_le32(rec + rlen + 4, n);
		memcpy(rec + rlen + 8, s[v] + pos[v], n);
		rlen += 8 + n;
		pos[v] += n;
	}
	write_gzip(path, rec, rlen);

	/* the MIDR comes from the metadata: N1 data source names; one
	 * header, vCPU 0's records, then vCPU 1's */
	both = two_vcpu_csv(truth, nrec, 0x410fd0c0);
	check_two(path, NULL, both, 2 * nrec);

	/* a cut recording is malformed */
	write_gzip(path, rec, rlen - 3);
	expect_report_error(path);
	unlink(path);
	free(path);
	free(rec);
	free(both);
	free_two(s, truth);
}

static void put_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = v >> (8 * i);
}

/*
 * A perf.data file assembled by hand from perf's file format: header, an
 * empty attrs section, and a data section with AUXTRACE_INFO (@aux_type),
 * a COMM record, and each CPU's stream in AUXTRACE records of random
 * sizes, interleaved.
 */
static size_t perfdata(uint8_t *out, uint8_t *const s[2], const size_t len[2],
		       uint32_t aux_type)
{
	size_t pos[2] = { 0, 0 }, n = 104;
	uint64_t rng = 9;

	memset(out, 0, 104);
	memcpy(out, "PERFILE2", 8);
	put_le64(out + 8, 104);	 /* header size */
	put_le64(out + 16, 136); /* attr size */
	put_le64(out + 24, 104); /* attrs: empty */
	put_le64(out + 40, 104); /* data offset */
	/* AUXTRACE_INFO: type, reserved, priv[2] */
	memset(out + n, 0, 32);
	put_le32(out + n, 70);
	out[n + 6] = 32;
	put_le32(out + n + 8, aux_type);
	n += 32;
	/* COMM: pid, tid, "vcpu0\0" padded */
	memset(out + n, 0, 24);
	put_le32(out + n, 3);
	out[n + 6] = 24;
	memcpy(out + n + 16, "vcpu0", 6);
	n += 24;
	while (pos[0] < len[0] || pos[1] < len[1]) {
		size_t k;
		int c = next_chunk(&rng, pos, len, 5000, &k);

		memset(out + n, 0, 48);
		put_le32(out + n, 71);
		out[n + 6] = 48;
		put_le64(out + n + 8, k);	  /* size */
		put_le64(out + n + 16, pos[c]);	  /* offset */
		put_le32(out + n + 32, c);	  /* idx */
		put_le32(out + n + 36, 1000 + c); /* tid */
		put_le32(out + n + 40, c);	  /* cpu */
		memcpy(out + n + 48, s[c] + pos[c], k);
		n += 48 + k;
		pos[c] += k;
	}
	put_le64(out + 48, n - 104); /* data size */
	return n;
}

/* perf.data in: the same records as the raw streams inside it. */
static void test_perfdata(void **state)
{
	struct spegen_opts go[2] = {
		{ .seed = 51, .layout = SPEGEN_N1 },
		{ .seed = 52, .layout = SPEGEN_MIXED },
	};
	struct spe_record *truth[2];
	uint8_t *s[2], *pd;
	size_t len[2], n, nrec = 3000;
	char *path = tmp_path(".data"), *both;

	(void)state;
	for (int c = 0; c < 2; c++)
		assert_int_equal(spegen_stream(&go[c], nrec, &s[c], &len[c],
					       &truth[c]),
				 0);
	pd = malloc(len[0] + len[1] + (1 << 20));
	assert_non_null(pd);
	n = perfdata(pd, s, len, 4);
	write_file(path, pd, n);
	both = two_vcpu_csv(truth, nrec, 0x410fd0c0);
	check_two(path, "n1", both, 2 * nrec);
	/* gzip-compressed too */
	write_gzip(path, pd, n);
	check_two(path, "n1", both, 2 * nrec);
	/* another trace (Intel PT), a cut file: errors, nothing printed */
	write_file(path, pd, perfdata(pd, s, len, 1));
	expect_report_error(path);
	write_file(path, pd, perfdata(pd, s, len, 4) - 100);
	expect_report_error(path);
	unlink(path);
	free(path);
	free(pd);
	free(both);
	free_two(s, truth);
}

static void test_report(void **state)
{
	struct spegen_opts go = { .seed = 41, .layout = SPEGEN_N1 };
	struct spe_record *truth;
	char *path = tmp_path(".bin"), *ks = tmp_path(".syms"), *out;
	uint64_t el[4] = { 0 }, hot = 0;
	uint8_t *buf;
	size_t len, nrec = 30000, best = 0;
	FILE *f;

	(void)state;
	assert_int_equal(spegen_stream(&go, nrec, &buf, &len, &truth), 0);
	write_file(path, buf, len);
	/* the hottest PC, counted from the truth */
	{
		struct spe_topk t;
		struct spe_topk_entry e;

		assert_int_equal(spe_topk_init(&t, 1 << 16), 0);
		for (size_t i = 0; i < nrec; i++) {
			el[spe_addr_el(truth[i].addr[0])]++;
			spe_topk_add(&t, spe_addr_canon(truth[i].addr[0]));
		}
		assert_int_equal(spe_topk_sorted(&t, &e, 1), 1);
		assert_int_equal(e.err, 0);
		hot = e.key;
		best = e.count;
		spe_topk_free(&t);
	}
	f = fopen(ks, "w");
	fprintf(f, "%016llx T hot_function\n", (unsigned long long)hot - 8);
	fclose(f);

	assert_int_equal(run(&out, true, "report", path, "--symbols", ks,
			     "--top", "3", NULL), 0);
	{
		cJSON *j = cJSON_Parse(out);
		const cJSON *top, *e0, *els;
		char hex[32];

		assert_non_null(j);
		assert_int_equal(cJSON_GetObjectItem(j, "samples")->valuedouble,
				 nrec);
		els = cJSON_GetObjectItem(j, "el");
		assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(els,
			"el0"), "samples")->valuedouble, el[0]);
		assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(els,
			"el1"), "samples")->valuedouble, el[1]);
		top = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "top_pcs"),
					  "entries");
		assert_int_equal(cJSON_GetArraySize(top), 3);
		e0 = cJSON_GetArrayItem(top, 0);
		snprintf(hex, sizeof(hex), "0x%llx", (unsigned long long)hot);
		assert_string_equal(cJSON_GetObjectItem(e0, "pc")->valuestring,
				    hex);
		assert_int_equal(cJSON_GetObjectItem(e0, "count")->valuedouble,
				 best);
		assert_string_equal(cJSON_GetObjectItem(e0,
			"symbol")->valuestring, "hot_function");
		assert_int_equal(cJSON_GetObjectItem(e0, "offset")->valuedouble,
				 8);
		cJSON_Delete(j);
	}
	free(out);
	/* text: the sections are there */
	assert_int_equal(run(&out, false, "report", path, "--midr", "n1",
			     "--symbols", ks, NULL), 0);
	assert_non_null(strstr(out, "cpu neoverse-n1"));
	assert_non_null(strstr(out, "By exception level:"));
	assert_non_null(strstr(out, "Latency (cycles):"));
	assert_non_null(strstr(out, "Data source"));
	assert_non_null(strstr(out, "hot_function+0x8"));
	free(out);
	unlink(path);
	unlink(ks);
	free(path);
	free(ks);
	free(buf);
	free(truth);
}

static void test_errors(void **state)
{
	static const char text[] = "this is a text file, not SPE data\n";
	char *path = tmp_path(".txt"), *out;

	(void)state;
	write_file(path, text, sizeof(text) - 1);
	assert_int_equal(run(&out, false, "records", path, NULL), 1);
	assert_string_equal(out, "");
	free(out);
	assert_int_equal(run(&out, false, "dump", "/nonexistent/file", NULL),
			 1);
	assert_string_equal(out, "");
	free(out);
	/* with --json the error is a JSON object on stdout */
	assert_int_equal(run(&out, true, "report", path, NULL), 1);
	assert_non_null(strstr(out, "\"error\""));
	assert_non_null(strstr(out, "not SPE data"));
	free(out);
	assert_int_equal(run(&out, false, "report", NULL), 1);
	free(out);
	assert_int_equal(run(&out, false, "records", path, "--bogus", NULL), 1);
	free(out);
	assert_int_equal(run(&out, false, "records", path, "--csv", "--json",
			     NULL), 1);
	free(out);
	assert_int_equal(run(&out, false, "report", path, "--midr", "zz",
			     NULL), 1);
	free(out);
	assert_int_equal(run(&out, false, "report", path, "--symbols", path,
			     NULL), 1);
	free(out);
	assert_int_equal(run(&out, false, "frobnicate", path, NULL), 1);
	free(out);
	unlink(path);
	free(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dump),
		cmocka_unit_test(test_records_gzip_zlib),
		cmocka_unit_test(test_recording),
		cmocka_unit_test(test_perfdata),
		cmocka_unit_test(test_report),
		cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
