// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <string.h>

#include <kvmprof/spefile.h>

static uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

int kp_spefile_is(const uint8_t *buf, size_t len)
{
	return len >= KP_SPEFILE_MAGIC_LEN &&
	       !memcmp(buf, KP_SPEFILE_MAGIC, KP_SPEFILE_MAGIC_LEN);
}

int kp_spefile_walk(const uint8_t *buf, size_t len, const char **ret_meta,
		    size_t *ret_meta_len, kp_spefile_fn fn, void *arg)
{
	size_t off = KP_SPEFILE_MAGIC_LEN;
	uint32_t mlen;

	if (!kp_spefile_is(buf, len) || len - off < 4)
		return -EBADMSG;
	mlen = get_le32(buf + off);
	off += 4;
	if (mlen > KP_SPEFILE_MAX_META || mlen > len - off)
		return -EBADMSG;
	*ret_meta = (const char *)buf + off;
	*ret_meta_len = mlen;
	off += mlen;
	while (off < len) {
		uint32_t vcpu, blen;
		int r;

		if (len - off < 8)
			return -EBADMSG;
		vcpu = get_le32(buf + off);
		blen = get_le32(buf + off + 4);
		off += 8;
		if (blen > len - off)
			return -EBADMSG;
		r = fn(arg, vcpu, buf + off, blen);
		if (r)
			return r;
		off += blen;
	}
	return 0;
}
