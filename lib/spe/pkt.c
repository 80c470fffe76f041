// SPDX-License-Identifier: GPL-2.0-only
/*
 * SPE packet layer: one packet from bytes.  Arm ARM (DDI 0487), SPE sample
 * record specification, "Packet headers": a packet starts with a 1-byte
 * short header, or a 2-byte extended header (Address and Counter packets
 * with an index above 7), followed by a little-endian payload whose size
 * the header gives.
 */
#include <errno.h>

#include "internal.h"

/* Header byte classification, each rule stated once from the encodings. */
#define HDR_IS_EV(h)	(((h) & SPE_HDR_EV_DS_MASK) == SPE_HDR_EVENTS)
#define HDR_IS_DS(h)	(((h) & SPE_HDR_EV_DS_MASK) == SPE_HDR_DATA_SOURCE)
#define HDR_IS_CTX(h)	(((h) & SPE_HDR_CTX_MASK) == SPE_HDR_CONTEXT)
#define HDR_IS_OP(h)	(((h) & SPE_HDR_OP_MASK) == SPE_HDR_OP_TYPE)
#define HDR_IS_EXT(h)	(((h) & SPE_HDR_EXT_MASK) == SPE_HDR_EXT)
#define HDR_IS_ADDR(h)	(((h) & SPE_HDR_ADDR_CNT_MASK) == SPE_HDR_ADDRESS)
#define HDR_IS_CNT(h)	(((h) & SPE_HDR_ADDR_CNT_MASK) == SPE_HDR_COUNTER)
#define HDR_SZ(h)	(1u << SPE_FIELD_GET(SPE_HDR_SZ, h))

#define HDR_TYPE(h)							\
	((h) == SPE_HDR_PAD ? SPE_PKT_PAD :				\
	 (h) == SPE_HDR_END ? SPE_PKT_END :				\
	 (h) == SPE_HDR_TS ? SPE_PKT_TIMESTAMP :			\
	 HDR_IS_EV(h) ? SPE_PKT_EVENTS :				\
	 HDR_IS_DS(h) ? SPE_PKT_DATA_SOURCE :				\
	 HDR_IS_CTX(h) ? SPE_PKT_CONTEXT :				\
	 HDR_IS_OP(h) ? SPE_PKT_OP_TYPE :				\
	 HDR_IS_EXT(h) ? SPE_HK_EXT :					\
	 HDR_IS_ADDR(h) ? SPE_PKT_ADDRESS :				\
	 HDR_IS_CNT(h) ? SPE_PKT_COUNTER : SPE_PKT_BAD)

/* Payload size: from bits [5:4] for every packet that has a payload. */
#define HDR_PLEN(h)							\
	(HDR_TYPE(h) == SPE_PKT_PAD || HDR_TYPE(h) == SPE_PKT_END ||	\
	 HDR_TYPE(h) == SPE_HK_EXT || HDR_TYPE(h) == SPE_PKT_BAD ?	\
	 0 : HDR_SZ(h))

#define HDR_INDEX(h)							\
	(HDR_IS_CTX(h) ? SPE_FIELD_GET(SPE_HDR_CTX_IDX, h) :		\
	 HDR_IS_OP(h) ? SPE_FIELD_GET(SPE_HDR_OP_CLASS, h) :		\
	 HDR_IS_EXT(h) ? SPE_FIELD_GET(SPE_HDR_EXT_IDX_HI, h) :		\
	 HDR_IS_ADDR(h) || HDR_IS_CNT(h) ?				\
	 SPE_FIELD_GET(SPE_HDR_IDX_LO, h) : 0)

#define HI(h)	{ HDR_TYPE(h), HDR_PLEN(h), HDR_INDEX(h), 0 }
#define HI4(h)	HI(h), HI((h) + 1), HI((h) + 2), HI((h) + 3)
#define HI16(h)	HI4(h), HI4((h) + 4), HI4((h) + 8), HI4((h) + 12)
#define HI64(h)	HI16(h), HI16((h) + 16), HI16((h) + 32), HI16((h) + 48)

const struct spe_hdr_info spe_hdr_tab[256] = {
	HI64(0x00), HI64(0x40), HI64(0x80), HI64(0xc0),
};

int spe_pkt_parse(const void *buf, size_t len, struct spe_pkt *ret_pkt)
{
	const uint8_t *p = buf;
	const struct spe_hdr_info *hi;
	unsigned int hlen = 1, index;

	if (!len)
		return -EAGAIN;
	hi = &spe_hdr_tab[p[0]];
	index = hi->index;
	if (hi->type == SPE_HK_EXT) {
		if (len < 2)
			return -EAGAIN;
		hi = &spe_hdr_tab[p[1]];
		if (hi->type != SPE_PKT_ADDRESS && hi->type != SPE_PKT_COUNTER)
			return -EBADMSG;
		index = index << 3 | hi->index;
		hlen = 2;
	}
	if (hi->type == SPE_PKT_BAD)
		return -EBADMSG;
	if (len < hlen + hi->plen)
		return -EAGAIN;

	ret_pkt->type = hi->type;
	ret_pkt->index = index;
	ret_pkt->payload_len = hi->plen;
	ret_pkt->len = hlen + hi->plen;
	ret_pkt->ext = hlen == 2;
	ret_pkt->payload = spe_load_le(p + hlen, hi->plen);
	return ret_pkt->len;
}

static const char *const pkt_type_names[SPE_PKT_NR_TYPES] = {
	[SPE_PKT_BAD] = "BAD",
	[SPE_PKT_PAD] = "PAD",
	[SPE_PKT_END] = "END",
	[SPE_PKT_TIMESTAMP] = "TS",
	[SPE_PKT_ADDRESS] = "ADDR",
	[SPE_PKT_COUNTER] = "LAT",
	[SPE_PKT_CONTEXT] = "CONTEXT",
	[SPE_PKT_OP_TYPE] = "OP-TYPE",
	[SPE_PKT_EVENTS] = "EVENTS",
	[SPE_PKT_DATA_SOURCE] = "DATA-SOURCE",
};

const char *spe_pkt_type_name(unsigned int type)
{
	return type < SPE_PKT_NR_TYPES ? pkt_type_names[type] : "?";
}
