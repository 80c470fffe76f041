/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * kvmprof SPE recording files (`kvmprof record`), read by `kvmprof spe`.
 * The file is gzip-compressed; decompressed it is:
 *
 *   magic "KPSPE\0" + u16 version (1)                     8 bytes
 *   u32 meta_len, meta_len bytes of JSON                   recording metadata
 *   blocks: u32 vcpu, u32 len, len bytes of raw SPE data   per vCPU, in order
 *
 * all little-endian.  A block with vcpu KP_SPEFILE_TRAILER carries JSON
 * written at the end (duration, blocks lost).  Each vCPU's blocks
 * concatenated form that vCPU's SPE stream.
 */
#ifndef KVMPROF_SPEFILE_H
#define KVMPROF_SPEFILE_H

#include <stddef.h>
#include <stdint.h>

#define KP_SPEFILE_MAGIC "KPSPE\0\1\0"
#define KP_SPEFILE_MAGIC_LEN 8
#define KP_SPEFILE_TRAILER 0xffffffffu
#define KP_SPEFILE_MAX_META (64u << 10)

/* One block: @vcpu's next @len bytes (or the trailer's JSON). */
typedef int (*kp_spefile_fn)(void *arg, uint32_t vcpu, const uint8_t *data,
			     size_t len);

/* Is @buf (decompressed) a kvmprof recording? */
int kp_spefile_is(const uint8_t *buf, size_t len);

/*
 * Walks a decompressed recording: *ret_meta and *ret_meta_len point at the
 * metadata JSON inside @buf, then @fn is called for each block.  Returns
 * 0, the first non-zero return of @fn, or -EBADMSG for a malformed file
 * (truncated block, oversized metadata).
 */
int kp_spefile_walk(const uint8_t *buf, size_t len, const char **ret_meta,
		    size_t *ret_meta_len, kp_spefile_fn fn, void *arg);

#endif
