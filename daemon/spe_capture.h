/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Guest SPE capture, user-space side: chunks from the BPF ring buffer
 * (struct kp_spe_hdr + bytes) are fed into one streaming decoder per vCPU
 * and the records folded into the VM's profile.  A gap in a vCPU's chunk
 * sequence (ring full) is a discontinuity: the decoder resynchronises and
 * the loss is counted.  Memory per VM is bounded (vCPU streams, raw
 * recording window).
 */
#ifndef KVMPROFD_SPE_CAPTURE_H
#define KVMPROFD_SPE_CAPTURE_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include <kvmprof/abi.h>

struct registry;
struct vm;
struct vm_spe;

#define SPE_MAX_VCPU_STREAMS 512
#define SPE_EL_NR 4

struct spe_capture_stats {
	uint64_t chunks;		/* chunks received */
	uint64_t bytes;			/* SPE bytes received */
	uint64_t malformed;		/* chunks with an inconsistent header */
	uint64_t unattributed;		/* chunks for VMs we do not track */
	uint64_t streams_dropped;	/* vCPUs beyond SPE_MAX_VCPU_STREAMS */
};

struct spe_capture {
	struct registry *reg;
	uint64_t raw_max;		/* bytes of raw recording per VM */
	uint64_t midr;			/* CPU of the guests' SPE data (data
					 * source tables); 0: generic */
	uint32_t top_pcs;		/* K of each VM's top-PC sketch */
	/* guest symbol file configured for a VM name, or NULL */
	const char *(*symbols_for)(void *ctx, const char *vm_name);
	void *symbols_ctx;
	struct spe_capture_stats stats;
	/* the top-K adds on a helper thread (NULL: this one) */
	struct spe_pipe *pipe;
};

/* Also sets @reg's on_vm_free hook: call after registry_init(). */
void spe_capture_init(struct spe_capture *c, struct registry *reg,
		      uint64_t raw_max);

/*
 * Builds the profiles on two threads from now on (spe_pipe_add(): the
 * same profiles); 0 or -errno.  spe_capture_fini() stops the helper.
 */
int spe_capture_threads(struct spe_capture *c);
void spe_capture_fini(struct spe_capture *c);

/* ring_buffer_sample_fn for kp_spe_rb (ctx: struct spe_capture). */
int spe_capture_chunk(void *ctx, void *data, size_t size);

/* Free a VM's SPE state (called when the VM leaves the registry). */
void vm_spe_free(struct vm_spe *s);

/* The VM's SPE profile as JSON (NULL: no memory).  Symbols come from the
 * file configured for the VM, loaded on first use. */
cJSON *render_vm_spe(struct spe_capture *c, struct vm *vm);

/*
 * Raw recording: bytes captured for @vm since stream position @cursor,
 * as blocks {u32 vcpu, u32 len, bytes} appended to @ret_buf (malloc'ed),
 * at most @max bytes.  Starts recording on first use.  *ret_next is the
 * cursor for the next call and *ret_lost the bytes that fell out of the
 * window since @cursor.  Returns 0 or -errno.
 */
int spe_raw_read(struct spe_capture *c, struct vm *vm, uint64_t cursor,
		 size_t max, uint8_t **ret_buf, size_t *ret_len,
		 uint64_t *ret_next, uint64_t *ret_lost);

/*
 * The VM's guest SPE samples of the last @seconds as gzipped pprof
 * (spe_pprof_write(), labels vm, vcpu, el, op, data_source), decoded from
 * the raw recording window, which the first call starts (the samples
 * before are not kept): *@ret_span_ms is the time the profile covers.
 * *@ret_buf is malloc'ed.  0 or -errno (-E2BIG: too many distinct
 * samples).
 */
int spe_pprof_window(struct spe_capture *c, struct vm *vm, unsigned int seconds,
		     uint8_t **ret_buf, size_t *ret_len, uint64_t *ret_span_ms);

#endif
