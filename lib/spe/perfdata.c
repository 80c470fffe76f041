// SPDX-License-Identifier: GPL-2.0-only
/*
 * Arm SPE data inside a perf.data file (what `perf record -e arm_spe//`
 * writes on an arm64 host).  The layout is perf's documented file format
 * (tools/perf/Documentation/perf.data-file-format.txt):
 *
 *   header: magic "PERFILE2", header size, attr size, then the attrs,
 *           data and event-types sections ({u64 offset, u64 size} each)
 *           and a 256-bit feature bitmap;                      104 bytes
 *   data section: records, each {u32 type, u16 misc, u16 size} + body.
 *
 * PERF_RECORD_AUXTRACE_INFO (70) says which trace it is (type 4: Arm
 * SPE); each PERF_RECORD_AUXTRACE (71) record {u64 size, offset,
 * reference; u32 idx, tid, cpu, reserved} is followed by @size bytes of
 * trace (not counted in its header's size).  The trace of one AUX buffer
 * (idx: a CPU with per-CPU buffers) is the concatenation of its records'
 * data, in file order.  Little-endian files only (what arm64 writes).
 *
 * The writer makes the smallest file perf decodes (checked with Debian's
 * perf report -D and perf script in tests/spe/test_perfdata.c): one event
 * attr of a made-up PMU type with its id, AUXTRACE_INFO naming Arm SPE and
 * that PMU type, the AUXTRACE records, and a FINISHED_ROUND.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kvmprof/spe_perfdata.h>

#include "internal.h"

#define PERF_MAGIC2 0x32454c4946524550ULL /* "PERFILE2" */
#define PERF_HDR_SIZE 104
#define REC_AUXTRACE_INFO 70
#define REC_AUXTRACE 71
#define AUXTRACE_ARM_SPE 4
#define AUXTRACE_REC_SIZE 48
#define REC_FINISHED_ROUND 68
#define ATTR_SIZE 128 /* PERF_ATTR_SIZE_VER7 */
#define WR_PMU_TYPE 8 /* the attr and AUXTRACE_INFO agree */
#define WR_ID 1
/* attr.sample_type: IP, TID, TIME, CPU, PERIOD, IDENTIFIER */
#define WR_SAMPLE_TYPE (0x1 | 0x2 | 0x4 | 0x80 | 0x100 | 0x10000)
#define WR_SAMPLE_ID_ALL (1ULL << 18) /* attr flags bit */

static uint64_t le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

bool spe_perfdata_is(const uint8_t *buf, size_t len)
{
	return len >= 8 && le64(buf) == PERF_MAGIC2;
}

int spe_perfdata_walk(const uint8_t *buf, size_t len, spe_perfdata_fn fn,
		      void *arg)
{
	uint64_t off, end;
	bool spe = false, other = false;

	if (!spe_perfdata_is(buf, len))
		return -EBADMSG;
	if (len < PERF_HDR_SIZE || le64(buf + 8) != PERF_HDR_SIZE)
		return -EPROTONOSUPPORT; /* pipe mode, or not a file */
	off = le64(buf + 40);		 /* data section */
	end = off + le64(buf + 48);
	if (off > len || end > len || end < off)
		return -EBADMSG;
	while (off < end) {
		const uint8_t *r = buf + off;
		uint32_t type;
		uint16_t size;

		if (end - off < 8)
			return -EBADMSG;
		type = le32(r);
		size = (uint16_t)(r[6] | r[7] << 8);
		if (size < 8 || size > end - off)
			return -EBADMSG;
		if (type == REC_AUXTRACE_INFO) {
			if (size < 16)
				return -EBADMSG;
			if (le32(r + 8) == AUXTRACE_ARM_SPE)
				spe = true;
			else
				other = true;
		} else if (type == REC_AUXTRACE) {
			uint64_t dlen;
			int ret;

			if (size < AUXTRACE_REC_SIZE)
				return -EBADMSG;
			dlen = le64(r + 8);
			if (dlen > end - off - size)
				return -EBADMSG;
			if (other && !spe)
				return -ENOTSUP;
			ret = fn(arg, le32(r + 32), le32(r + 40), r + size,
				 dlen);
			if (ret)
				return ret;
			off += dlen;
		}
		off += size;
	}
	if (other && !spe)
		return -ENOTSUP;
	return spe ? 0 : -ENODATA;
}

/* ---- writing ---------------------------------------------------------------- */

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* A record header: type, misc 0, size. */
static void put_rec_hdr(uint8_t *p, uint32_t type, uint16_t size)
{
	put32(p, type);
	p[4] = p[5] = 0;
	p[6] = (uint8_t)size;
	p[7] = (uint8_t)(size >> 8);
}

static int wr(struct spe_perfdata_writer *w, const void *p, size_t n)
{
	if (!w->err && fwrite(p, 1, n, w->f) != n)
		w->err = -EIO;
	return w->err;
}

int spe_perfdata_create(struct spe_perfdata_writer *w, const char *path)
{
	uint8_t hdr[PERF_HDR_SIZE] = { 0 }, attr[ATTR_SIZE + 16] = { 0 };
	uint8_t id[8], info[32];
	int ret;

	memset(w, 0, sizeof(*w));
	snprintf(w->path, sizeof(w->path), "%s", path);
	ret = spe_tmp_fopen(path, w->tmp, sizeof(w->tmp), &w->f);
	if (ret)
		return ret;
	/* header: attrs right after it, the id after them, then data */
	put64(hdr, PERF_MAGIC2);
	put64(hdr + 8, PERF_HDR_SIZE);
	put64(hdr + 16, sizeof(attr));
	put64(hdr + 24, PERF_HDR_SIZE);
	put64(hdr + 32, sizeof(attr));
	w->data_off = PERF_HDR_SIZE + sizeof(attr) + sizeof(id);
	put64(hdr + 40, w->data_off);
	/* the attr: type, size, sample_period 1, sample_type, flags; ids */
	put32(attr, WR_PMU_TYPE);
	put32(attr + 4, ATTR_SIZE);
	put64(attr + 16, 1);
	put64(attr + 24, WR_SAMPLE_TYPE);
	put64(attr + 40, WR_SAMPLE_ID_ALL);
	put64(attr + ATTR_SIZE, PERF_HDR_SIZE + sizeof(attr));
	put64(attr + ATTR_SIZE + 8, sizeof(id));
	put64(id, WR_ID);
	/* AUXTRACE_INFO: Arm SPE, priv = { PMU type, per-CPU buffers } */
	memset(info, 0, sizeof(info));
	put_rec_hdr(info, REC_AUXTRACE_INFO, sizeof(info));
	put32(info + 8, AUXTRACE_ARM_SPE);
	put64(info + 16, WR_PMU_TYPE);
	put64(info + 24, 1);
	wr(w, hdr, sizeof(hdr));
	wr(w, attr, sizeof(attr));
	wr(w, id, sizeof(id));
	wr(w, info, sizeof(info));
	w->data_len = sizeof(info);
	if (w->err) {
		spe_perfdata_abort(w);
		return -EIO;
	}
	return 0;
}

int spe_perfdata_aux(struct spe_perfdata_writer *w, uint32_t cpu,
		     const void *data, size_t len)
{
	uint8_t rec[AUXTRACE_REC_SIZE] = { 0 };
	uint64_t *off;

	if (cpu >= SPE_PERFDATA_MAX_CPUS)
		return -E2BIG;
	if (!w->offs) {
		w->offs = calloc(SPE_PERFDATA_MAX_CPUS, sizeof(*w->offs));
		if (!w->offs)
			return -ENOMEM;
	}
	off = &w->offs[cpu];
	put_rec_hdr(rec, REC_AUXTRACE, sizeof(rec));
	put64(rec + 8, len);	     /* size */
	put64(rec + 16, *off);	     /* offset in the CPU's buffer */
	put32(rec + 32, cpu);	     /* idx */
	put32(rec + 36, UINT32_MAX); /* tid: any */
	put32(rec + 40, cpu);	     /* cpu */
	wr(w, rec, sizeof(rec));
	wr(w, data, len);
	*off += len;
	w->data_len += sizeof(rec) + len;
	return w->err;
}

/* Closes; renamed into place when @ret is 0, removed otherwise. */
static int finish(struct spe_perfdata_writer *w, int ret)
{
	if (w->f && fclose(w->f) && !ret)
		ret = -EIO;
	w->f = NULL;
	free(w->offs);
	w->offs = NULL;
	return spe_tmp_finish(w->tmp, w->path, ret);
}

int spe_perfdata_commit(struct spe_perfdata_writer *w)
{
	uint8_t rec[8], size[8];

	put_rec_hdr(rec, REC_FINISHED_ROUND, sizeof(rec));
	wr(w, rec, sizeof(rec));
	w->data_len += sizeof(rec);
	put64(size, w->data_len);
	if (!w->err &&
	    (fseek(w->f, 48, SEEK_SET) || fwrite(size, 1, 8, w->f) != 8))
		w->err = -EIO;
	return finish(w, w->err);
}

void spe_perfdata_abort(struct spe_perfdata_writer *w)
{
	finish(w, -ECANCELED);
}
