/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * SPE profile aggregation: what `kvmprof spe report` prints and what the
 * daemon keeps per VM.  Plain C fields, bounded memory (allocated once at
 * init, never per record), a JSON writer, symbols from ELF or kallsyms,
 * and input files (raw, gzip or zlib).
 */
#ifndef KVMPROF_SPE_PROFILE_H
#define KVMPROF_SPE_PROFILE_H

#include <stdio.h>

#include <kvmprof/spe.h>

/* ---- latency histograms ----------------------------------------------------
 *
 * Log-linear buckets over the 16-bit counters: values 0..3 exactly, then
 * four buckets per power of two (relative width <= 25%).
 */
#define SPE_HIST_BUCKETS	60

struct spe_hist {
	uint64_t count;
	uint64_t sum;
	uint64_t max;
	uint64_t bucket[SPE_HIST_BUCKETS];
};

unsigned int spe_hist_bucket(uint64_t v);
/* Smallest and largest value of bucket @b. */
uint64_t spe_hist_lo(unsigned int b);
uint64_t spe_hist_hi(unsigned int b);
void spe_hist_add(struct spe_hist *h, uint64_t v);
/* Upper bound of the bucket holding quantile @q (0..1); 0 when empty. */
uint64_t spe_hist_quantile(const struct spe_hist *h, double q);

/* ---- top-K (Misra-Gries with purges) ---------------------------------------
 *
 * The frequent-items summary of Misra and Gries (1982) as a hash table of
 * 2K counters that, when full, subtracts the median count from every
 * counter and forgets those left at zero (the "reverse purge" of Apache
 * DataSketches' frequent-items sketch).  After N items, every key's
 * estimate c (its counter plus the sum of all purges) and error err
 * satisfy c - err <= true count <= c, with err <= 2N / K; every key whose
 * true count exceeds err is present.  Until the first purge (at most 2K
 * distinct keys seen) the counts are exact (err 0).  After it, a
 * doorkeeper (TinyLFU's: one bit per hash, cleared at each purge) keeps
 * a long tail of keys out of the table: a key not held enters at its
 * second item since the last purge, its first only noted.  That costs a
 * key at most one item per purge, which each purge adds to the error (a
 * purge subtracts at least 1, so at most N / K more), and spares the
 * table the churn of keys seen once, which the next purge would drop.
 * An item is one bit test or one hash probe; a purge (amortised over at
 * least K new keys) sorts nothing.  Memory fixed at init: 4K..8K slots of
 * 16 bytes, 2K words and 8 bits a slot.
 */
struct spe_topk_entry {
	uint64_t key;
	uint64_t count;		/* estimate (upper bound) */
	uint64_t err;		/* overestimate bound for this key */
};

/* private: a hash slot (count 0: empty) */
struct spe_topk_slot {
	uint64_t key;
	uint64_t count; /* since the key came in, minus purges */
};

struct spe_topk {
	uint32_t cap;		/* K */
	uint32_t n;		/* keys held, at most 2K */
	uint64_t total;		/* items added */
	uint64_t offset;	/* sum of the purges: every entry's error */
	struct spe_topk_slot *hash; /* open addressing */
	uint32_t hmask;
	uint32_t max_n;	   /* 2K */
	uint64_t *scratch; /* 2K words for purges */
	uint64_t *door;	   /* doorkeeper bits, by a hash's top bits */
	uint32_t door_shift; /* 32 - log2(bits) */
	bool door_on;	     /* after the first purge */
};

#define SPE_TOPK_MAX		(1u << 20)

int spe_topk_init(struct spe_topk *t, uint32_t k);
void spe_topk_free(struct spe_topk *t);
void spe_topk_add(struct spe_topk *t, uint64_t key);
void spe_topk_clear(struct spe_topk *t);
/* Adds @b's counts to @a (same K); the bound holds for the union. */
int spe_topk_merge(struct spe_topk *a, const struct spe_topk *b);
/* Copies up to @max entries, highest count first (ties: lower key
 * first); returns how many. */
size_t spe_topk_sorted(const struct spe_topk *t,
		       struct spe_topk_entry *ret_entries, size_t max);

/* ---- profile --------------------------------------------------------------- */

struct spe_profile_opts {
	uint64_t midr;		/* selects the data source table */
	uint32_t top_pcs;	/* K of the PC sketch (0: 4096) */
	uint32_t top_ctx;	/* K of the CONTEXTIDR sketch (0: 256) */
};

struct spe_profile {
	uint64_t midr;
	uint32_t cpu;			/* enum spe_cpu */
	uint64_t samples;		/* records added */
	uint64_t no_pc;			/* ... without a PC */
	uint64_t el[4];			/* by exception level of the PC */
	uint64_t el_ns[4][2];		/* by EL and NS bit */
	/* operation mix */
	uint64_t no_op;
	uint64_t op_class[4];
	uint64_t op_sub[SPE_OPS_NR];
	uint64_t loads, stores;
	uint64_t br_cond, br_ind, br_call, br_ret;
	/* events */
	uint64_t ev_records;		/* records with an Events packet */
	uint64_t ev[64];		/* per event bit */
	/* latencies: total, issue, translation */
	struct spe_hist lat[SPE_CNT_NR_KNOWN];
	/* data source */
	uint64_t ds_records;
	uint64_t ds[SPE_DS_NR];		/* decoded for the CPU */
	uint64_t ds_raw[16];		/* raw values 0..15 */
	uint64_t ds_raw_other;
	/* who and where */
	uint64_t no_ctx;
	struct spe_topk ctx;		/* CONTEXTIDR_EL1 (guest PID) */
	struct spe_topk pcs;		/* PC, canonical address */
	/* time */
	uint64_t ts_records;
	uint64_t ts_first, ts_last;	/* min and max timestamp */
	/* private: lookup tables, and counts of batches not yet folded
	 * into the fields above (batch.c, spe_profile_sync()) */
	uint16_t op_tab[4][256];
	uint8_t ds_tab[16];
	struct spe_profile_acc *acc;
};

int spe_profile_init(struct spe_profile *p, const struct spe_profile_opts *o);
void spe_profile_free(struct spe_profile *p);
/* Forgets the samples, keeps the configuration and memory. */
void spe_profile_clear(struct spe_profile *p);
void spe_profile_add(struct spe_profile *p, const struct spe_record *r);
/*
 * The same for @n records, faster: without a branch on what each record
 * holds, the op types, events, latencies and data sources are counted by
 * value in small tables, and the top-K probes are started first.  Those
 * counts reach the profile's fields at spe_profile_sync(): call it before
 * reading them (spe_profile_decode*() do at their end).
 */
void spe_profile_add_batch(struct spe_profile *p, const struct spe_record *r,
			   size_t n);
/* Folds what spe_profile_add_batch() counted into the fields. */
void spe_profile_sync(struct spe_profile *p);

/*
 * The same in two parts, for two threads (lib/spe/pipe.c): the batch
 * without the top-K adds, whose keys go to @keys[0..n), and those adds.
 * Both parts in record order give exactly spe_profile_add_batch().
 */
struct spe_topk_keys {
	uint64_t pc;  /* canonical PC */
	uint32_t ctx; /* CONTEXTIDR_EL1 */
	uint32_t has; /* bit 0: PC, bit 1: CONTEXTIDR_EL1 */
};
void spe_profile_add_batch_keys(struct spe_profile *p,
				const struct spe_record *r, size_t n,
				struct spe_topk_keys *keys);
void spe_profile_add_keys(struct spe_profile *p,
			  const struct spe_topk_keys *keys, size_t n);

/*
 * A helper thread doing the top-K adds of spe_profile_add_batch() while
 * the caller decodes and counts the rest: the same results as one thread.
 * Between spe_pipe_add() and spe_pipe_flush(), a profile's top-K belong
 * to the helper (flush before reading them, merging or freeing).
 */
struct spe_pipe;
int spe_pipe_new(struct spe_pipe **ret);
/* Flushes, stops the helper, frees; NULL is fine. */
void spe_pipe_free(struct spe_pipe *q);
/* @p must have been made by spe_profile_init() (with its tables). */
void spe_pipe_add(struct spe_pipe *q, struct spe_profile *p,
		  const struct spe_record *r, size_t n);
/* Returns when the helper has done every add handed to it. */
void spe_pipe_flush(struct spe_pipe *q);
/*
 * spe_dec_feed() on all of @buf with its records added to @p (through
 * @q's helper when @q is not NULL, as spe_pipe_add()), faster: records
 * that match the decoder's templates are counted straight from their
 * bytes (lib/spe/fused.c).  The same profile.  Adds the records with a PC
 * by its EL to @by_el[0..3] when not NULL.  Returns the records added.
 */
uint64_t spe_profile_feed(struct spe_profile *p, struct spe_pipe *q,
			  struct spe_dec *dec, const void *buf, size_t len,
			  uint64_t *by_el);
/* Adds @b (same MIDR and K, both synced) to @a: -EINVAL if they differ. */
int spe_profile_merge(struct spe_profile *a, const struct spe_profile *b);
/* Adds decoder counters. */
void spe_dec_stats_add(struct spe_dec_stats *sum,
		       const struct spe_dec_stats *st);

/* One SPE byte stream (a vCPU's, or a whole raw file). */
struct spe_stream_in {
	const uint8_t *buf;
	size_t len;
};

/*
 * Decodes @n streams (a decoder each, from its start) into @p (as
 * spe_profile_init() or spe_profile_clear() left it; otherwise on one
 * thread), on up to @threads threads (1: this one; 2: the bytes shared
 * out in ranges as the threads go, cut at checked record boundaries, each
 * thread's ranges decoded into its own profile, merged at the end;
 * lib/spe/parallel.c).  The counters (and the top-K within its bound) do
 * not depend on @threads.  *@ret_st (if not NULL): the decoders' counters
 * summed.
 */
int spe_profile_decode_streams(struct spe_profile *p,
			       const struct spe_stream_in *streams, size_t n,
			       unsigned int threads,
			       struct spe_dec_stats *ret_st);
/* The same for one stream, the first @len bytes of file @fd, read as it
 * goes (pread, so each thread reads its own ranges). */
int spe_profile_decode_fd(struct spe_profile *p, int fd, uint64_t len,
			  unsigned int threads, struct spe_dec_stats *ret_st);
/* Threads worth using: 2 when there are two CPUs online, unless the
 * environment says KVMPROF_SPE_THREADS=1. */
unsigned int spe_profile_threads(void);
/* Decodes @len bytes with @dec into the profile (spe_dec_run() with
 * batches); @finish: the end of the stream. */
int spe_profile_decode(struct spe_profile *p, struct spe_dec *dec,
		       const void *buf, size_t len, bool finish);

/* Rates, as fractions (0 when the denominator is 0). */
struct spe_profile_rates {
	double l1d_miss;	/* L1D refill / L1D access */
	double llc_miss;	/* LLC miss / LLC access */
	double tlb_miss;	/* TLB walk / TLB access */
	double mispredict;	/* mispredicted / branches */
	double remote;		/* remote access / loads and stores */
	double not_taken;	/* not taken / conditional branches */
};

void spe_profile_rates(const struct spe_profile *p,
		       struct spe_profile_rates *ret);

/* ---- symbols --------------------------------------------------------------- */

struct spe_sym {
	uint64_t addr;
	uint64_t size;		/* 0: up to the next symbol */
	uint32_t name;		/* offset in names */
};

struct spe_symtab {
	struct spe_sym *syms;	/* sorted by address */
	size_t n;
	char *names;
	size_t names_len;
};

#define SPE_SYMS_MAX		(1u << 23)	/* symbols kept */
#define SPE_SYMFILE_MAX		(1ull << 31)	/* kallsyms file bytes */

/*
 * Loads function symbols from an ELF file (.symtab and .dynsym) or from a
 * kallsyms-format text file ("ADDR TYPE NAME [module]").  -errno on error
 * (-ENOEXEC: neither format, -E2BIG: over the limits).
 */
int spe_symtab_load(struct spe_symtab *t, const char *path);
/*
 * A guest's symbols from a list "PATH[@OFFSET][,PATH[@OFFSET]...]":
 * kallsyms-format files and /proc/modules-format files ("[module]" over
 * each module) at their runtime addresses; ELF files (the guest's
 * vmlinux) moved by OFFSET, or by the KASLR offset derived from a
 * kallsyms file in the list (its _text minus the ELF's).  -EINVAL: bad
 * list; -ENODATA: no _text in the ELF to derive the offset from.
 */
int spe_symtab_load_spec(struct spe_symtab *t, const char *spec);
void spe_symtab_free(struct spe_symtab *t);
/* Name of the function containing @addr, NULL if none; *ret_off is the
 * offset in it. */
const char *spe_symtab_lookup(const struct spe_symtab *t, uint64_t addr,
			      uint64_t *ret_off);

/* ---- output ---------------------------------------------------------------- */

/*
 * Writes the profile as one JSON object: counts, rates, histograms (with
 * p50/p90/p99), data sources, top @ntop PCs (with symbols when @syms) and
 * CONTEXTIDR values, plus @st when not NULL.  Returns 0 or -EIO.
 */
int spe_profile_json(FILE *f, const struct spe_profile *p,
		     const struct spe_symtab *syms,
		     const struct spe_dec_stats *st, size_t ntop);
/* The same, with "symbols_error": -@syms_err when the symbols could not be
 * loaded (@syms_err < 0); the daemon's form. */
int spe_profile_json_ex(FILE *f, const struct spe_profile *p,
			const struct spe_symtab *syms,
			const struct spe_dec_stats *st, size_t ntop,
			int syms_err);

/* One record as a CSV line (and the header line) or a JSON object. */
int spe_record_csv_header(FILE *f);
int spe_record_csv(FILE *f, const struct spe_record *r, uint64_t midr);
int spe_record_json(FILE *f, const struct spe_record *r, uint64_t midr);

/* A JSON string literal (quotes and escapes) for @s. */
void spe_json_str(FILE *f, const char *s);

/* ---- input ----------------------------------------------------------------- */

enum spe_input_fmt { SPE_IN_RAW, SPE_IN_GZIP, SPE_IN_ZLIB };

#define SPE_INPUT_MAX		(4ull << 30)	/* decompressed bytes */

/*
 * Reads a whole file ("-": standard input), decompressing gzip (also
 * concatenated members) or zlib data, raw otherwise.  At most @max bytes
 * after decompression (-EFBIG beyond); -EBADMSG for corrupt or truncated
 * compressed data.  The caller frees *ret_buf.
 */
int spe_input_load(const char *path, size_t max, uint8_t **ret_buf,
		   size_t *ret_len, enum spe_input_fmt *ret_fmt);
/* Do these first bytes start gzip or zlib data? */
bool spe_input_is_compressed(const uint8_t *p, size_t len);

/* A whole input file in memory, as spe_input_load() gives it, but a raw
 * regular file is mapped rather than copied.  Close with
 * spe_input_close(). */
struct spe_input {
	uint8_t *data;
	size_t len;
	enum spe_input_fmt fmt;
	size_t map_len; /* private: bytes mapped, 0: allocated */
};

int spe_input_open(struct spe_input *in, const char *path, size_t max);
void spe_input_close(struct spe_input *in);

#endif
