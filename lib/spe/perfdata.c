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
 */
#include <errno.h>
#include <string.h>

#include <kvmprof/spe_perfdata.h>

#define PERF_MAGIC2		0x32454c4946524550ULL	/* "PERFILE2" */
#define PERF_HDR_SIZE		104
#define REC_AUXTRACE_INFO	70
#define REC_AUXTRACE		71
#define AUXTRACE_ARM_SPE	4
#define AUXTRACE_REC_SIZE	48

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

int spe_perfdata_walk(const uint8_t *buf, size_t len,
		      spe_perfdata_fn fn, void *arg)
{
	uint64_t off, end;
	bool spe = false, other = false;

	if (!spe_perfdata_is(buf, len))
		return -EBADMSG;
	if (len < PERF_HDR_SIZE || le64(buf + 8) != PERF_HDR_SIZE)
		return -EPROTONOSUPPORT;	/* pipe mode, or not a file */
	off = le64(buf + 40);			/* data section */
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
