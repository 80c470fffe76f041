/* SPDX-License-Identifier: GPL-2.0-only */
/* SPE library internals shared by the packet and record layers. */
#ifndef KVMPROF_SPE_INTERNAL_H
#define KVMPROF_SPE_INTERNAL_H

#include <string.h>

#include <kvmprof/spe.h>

/* Internal header kind for the first byte of a 2-byte extended header. */
#define SPE_HK_EXT	SPE_PKT_NR_TYPES

/*
 * What one header byte means when it starts a packet: type (SPE_PKT_BAD
 * for reserved encodings), payload length and index.  Indexed by the byte;
 * the table is derived from the header encodings in <kvmprof/spe.h>.
 */
struct spe_hdr_info {
	uint8_t type;
	uint8_t plen;
	uint8_t index;
	uint8_t pad;
};

extern const struct spe_hdr_info spe_hdr_tab[256];

/* Payload of @n (0..8) bytes at @p, little-endian. */
static inline uint64_t spe_load_le(const uint8_t *p, unsigned int n)
{
	uint64_t v = 0;

	for (unsigned int i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

/* 8 bytes at @p, little-endian, any alignment. */
static inline uint64_t spe_load_le64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	return v;
}

/* Mask of the low @n bytes, n in 0..8. */
static inline uint64_t spe_bytes_mask(unsigned int n)
{
	return n >= 8 ? ~0ULL : (1ULL << (8 * n)) - 1;
}

#endif
