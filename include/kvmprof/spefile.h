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
 * concatenated form that vCPU's SPE stream.  Reader and writer:
 * lib/spe/spefile.c (the writer needs zlib).
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

/*
 * Writing: to a temporary file next to the target, renamed by
 * kp_spefile_commit(), so nothing half-written is ever left at @path.
 */
struct kp_spefile_writer {
	void *gz; /* gzFile */
	char path[4096];
	char tmp[4096];
};

/* Starts a recording with the metadata JSON @meta.  0 or -errno. */
int kp_spefile_create(struct kp_spefile_writer *w, const char *path,
		      const char *meta);
/* One block of @vcpu. */
int kp_spefile_block(struct kp_spefile_writer *w, uint32_t vcpu,
		     const void *data, size_t len);
/* Blocks already in the file's form ({u32 vcpu, u32 len, bytes}...), as
 * the daemon's /v1/vms/{ref}/spe/raw serves them. */
int kp_spefile_blocks(struct kp_spefile_writer *w, const void *blocks,
		      size_t len);
/* Writes the trailer JSON (if not NULL), closes and renames; on error the
 * temporary file is removed. */
int kp_spefile_commit(struct kp_spefile_writer *w, const char *trailer);
/* Gives up: closes and removes the temporary file. */
void kp_spefile_abort(struct kp_spefile_writer *w);

#endif
