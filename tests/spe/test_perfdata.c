// SPDX-License-Identifier: GPL-2.0-only
/*
 * perf.data written by lib/spe/perfdata.c, read by a real consumer:
 * Debian's perf (linux-perf) decodes Arm SPE from a file on any host.
 * perf report -D must print, for each AUXTRACE buffer, the packet lines
 * `kvmprof spe dump` prints for the same bytes; perf script must turn the
 * records into samples at the generator's PCs; our reader must give back
 * the streams.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <kvmprof/spe.h>
#include <kvmprof/spe_perfdata.h>
#include "util.h"

#define NREC 4000

struct chunk {
	uint32_t cpu;
	size_t off, len;
};

struct back {
	uint8_t *buf[2];
	size_t len[2];
};

static int on_aux(void *arg, uint32_t idx, uint32_t cpu, const uint8_t *data,
		  size_t len)
{
	struct back *b = arg;

	assert_int_equal(idx, cpu);
	assert_true(cpu < 2);
	b->buf[cpu] = realloc(b->buf[cpu], b->len[cpu] + len);
	assert_non_null(b->buf[cpu]);
	memcpy(b->buf[cpu] + b->len[cpu], data, len);
	b->len[cpu] += len;
	return 0;
}

/*
 * A packet line up to the first word of its description: Debian 12's perf
 * (6.1) describes some packets in fewer words than current perf, whose
 * texts our dump follows (e.g. "B" where current perf says "B IND
 * CR-RET"); offsets, bytes and packet kinds must agree.
 */
static void put_norm(FILE *f, const char *l)
{
	size_t n = strlen(l), cut = 61; /* ".  XXXXXXXX: " + 16 x 3 */

	while (cut < n && l[cut] == ' ')
		cut++;
	while (cut < n && l[cut] != ' ' && l[cut] != '\n')
		cut++;
	fprintf(f, "%.*s\n", (int)cut, l);
}

/* perf's packet lines: ".  XXXXXXXX:  bytes  description" */
static bool is_packet_line(const char *l)
{
	size_t i;

	if (strncmp(l, ".  ", 3))
		return false;
	for (i = 3; i < 11; i++)
		if (!strchr("0123456789abcdef", l[i]))
			return false;
	return l[11] == ':';
}

static char *run_perf(const char *args, const char *path)
{
	char cmd[512], *out = NULL;
	size_t len = 0;
	FILE *p, *m = open_memstream(&out, &len);
	char line[1024];

	snprintf(cmd, sizeof(cmd), "perf %s -i %s 2>/dev/null", args, path);
	p = popen(cmd, "r");
	assert_non_null(p);
	while (fgets(line, sizeof(line), p))
		fputs(line, m);
	assert_int_equal(pclose(p), 0);
	fclose(m);
	return out;
}

static void test_perf_reads_ours(void **state)
{
	struct spegen_opts go[2] = {
		{ .seed = 61, .layout = SPEGEN_N1 },
		{ .seed = 62, .layout = SPEGEN_N1 },
	};
	struct spe_perfdata_writer w;
	struct spe_record *truth[2];
	struct chunk *ch = calloc(2 * NREC, sizeof(*ch));
	struct back b;
	uint8_t *s[2];
	size_t len[2], rec[2] = { 0, 0 }, nch = 0, nlines = 0, npc = 0;
	char path[] = "/tmp/spe-perfdata-XXXXXX", *want, *got, *out, *l;
	size_t wlen = 0, glen = 0;
	FILE *wf, *gf;
	uint64_t rng = 3, fsize;
	int fd;

	(void)state;
	memset(&b, 0, sizeof(b));
	if (system("perf --version >/dev/null 2>&1")) {
		fprintf(stderr, "test_perfdata: perf missing (linux-perf)\n");
		exit(77);
	}
	assert_non_null(ch);
	for (int c = 0; c < 2; c++)
		assert_int_equal(spegen_stream(&go[c], NREC, &s[c], &len[c],
					       &truth[c]),
				 0);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	/* AUXTRACE records of 1..20 whole records, the two CPUs mixed */
	assert_int_equal(spe_perfdata_create(&w, path), 0);
	while (rec[0] < NREC || rec[1] < NREC) {
		int c = spegen_below(&rng, 2);
		size_t k = 1 + spegen_below(&rng, 20), from, to;

		if (rec[c] == NREC)
			c = !c;
		if (k > NREC - rec[c])
			k = NREC - rec[c];
		from = truth[c][rec[c]].offset;
		to = rec[c] + k < NREC ? truth[c][rec[c] + k].offset : len[c];
		ch[nch++] = (struct chunk){ c, from, to - from };
		assert_int_equal(
			spe_perfdata_aux(&w, c, s[c] + from, to - from), 0);
		rec[c] += k;
	}
	assert_int_equal(spe_perfdata_commit(&w), 0);

	/* our reader gives the streams back */
	{
		FILE *f = fopen(path, "r");
		uint8_t *buf;

		assert_non_null(f);
		fseek(f, 0, SEEK_END);
		fsize = ftell(f);
		rewind(f);
		buf = malloc(fsize);
		assert_int_equal(fread(buf, 1, fsize, f), fsize);
		fclose(f);
		assert_int_equal(spe_perfdata_walk(buf, fsize, on_aux, &b), 0);
		free(buf);
		for (int c = 0; c < 2; c++) {
			assert_int_equal(b.len[c], len[c]);
			assert_memory_equal(b.buf[c], s[c], len[c]);
			free(b.buf[c]);
		}
	}

	/* perf report -D: each buffer's packet lines, as our dump prints
	 * them for the same bytes */
	wf = open_memstream(&want, &wlen);
	for (size_t i = 0; i < nch; i++) {
		const uint8_t *p = s[ch[i].cpu] + ch[i].off;
		char line[SPE_DUMP_LINE_MAX];

		for (size_t pos = 0; pos < ch[i].len;) {
			pos += spe_dump_line(p + pos, ch[i].len - pos, pos,
					     0x410fd0c0, line, sizeof(line));
			put_norm(wf, line);
		}
	}
	fclose(wf);
	out = run_perf("report -D", path);
	gf = open_memstream(&got, &glen);
	for (l = strtok(out, "\n"); l; l = strtok(NULL, "\n"))
		if (is_packet_line(l)) {
			put_norm(gf, l);
			nlines++;
		}
	fclose(gf);
	assert_true(nlines > NREC);
	if (strcmp(want, got)) {
		/* the first line that differs */
		size_t i = 0;

		while (want[i] == got[i])
			i++;
		while (i && want[i - 1] != '\n')
			i--;
		fail_msg("perf report -D differs at:\nwant %.120s\ngot  %.120s",
			 want + i, got + i);
	}
	free(out);
	free(want);
	free(got);

	/* perf script: samples at the generator's PCs */
	out = run_perf("script -F ip", path);
	for (l = strtok(out, "\n"); l; l = strtok(NULL, "\n")) {
		uint64_t ip = strtoull(l, NULL, 16);
		bool found = false;

		for (int c = 0; c < 2 && !found; c++)
			for (size_t i = 0; i < NREC && !found; i++)
				found = spe_addr_canon(truth[c][i].addr[0]) ==
					ip;
		if (!found)
			fail_msg("perf script: ip %s is no PC", l);
		npc++;
	}
	assert_true(npc >= 2 * NREC);
	free(out);
	unlink(path);
	free(ch);
	for (int c = 0; c < 2; c++) {
		free(s[c]);
		free(truth[c]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_perf_reads_ours),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
