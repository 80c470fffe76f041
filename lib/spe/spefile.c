// SPDX-License-Identifier: GPL-2.0-only
/*
 * kvmprof recording files (KPSPE, include/kvmprof/spefile.h): the reader
 * (`kvmprof spe`) and the writer (`kvmprof record`).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include <kvmprof/spefile.h>

#include "internal.h"

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

/* ---- writing ---------------------------------------------------------------- */

static int gz_all(gzFile gz, const void *p, size_t len)
{
	while (len) {
		unsigned int n = len > (1u << 30) ? 1u << 30 :
						    (unsigned int)len;

		if (gzwrite(gz, p, n) != (int)n)
			return -EIO;
		p = (const uint8_t *)p + n;
		len -= n;
	}
	return 0;
}

static int put_le32(gzFile gz, uint32_t v)
{
	uint8_t b[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16),
			 (uint8_t)(v >> 24) };

	return gz_all(gz, b, 4);
}

int spe_tmp_create(const char *path, char *ret_tmp, size_t size)
{
	int fd;

	if (snprintf(ret_tmp, size, "%s.XXXXXX", path) >= (int)size)
		return -ENAMETOOLONG;
	fd = mkstemp(ret_tmp);
	return fd < 0 ? -errno : fd;
}

int spe_tmp_fopen(const char *path, char *ret_tmp, size_t size, FILE **ret_f)
{
	int fd = spe_tmp_create(path, ret_tmp, size);

	if (fd < 0)
		return fd;
	*ret_f = fdopen(fd, "w");
	if (*ret_f)
		return 0;
	close(fd);
	unlink(ret_tmp);
	return -ENOMEM;
}

int spe_tmp_finish(const char *tmp, const char *path, int ret)
{
	if (!ret && rename(tmp, path))
		ret = -errno;
	if (ret)
		unlink(tmp);
	return ret;
}

int kp_spefile_create(struct kp_spefile_writer *w, const char *path,
		      const char *meta)
{
	size_t mlen = strlen(meta);
	int fd;

	memset(w, 0, sizeof(*w));
	if (mlen > KP_SPEFILE_MAX_META)
		return -E2BIG;
	snprintf(w->path, sizeof(w->path), "%s", path);
	fd = spe_tmp_create(path, w->tmp, sizeof(w->tmp));
	if (fd < 0)
		return fd;
	w->gz = gzdopen(fd, "wb");
	if (!w->gz) {
		close(fd);
		unlink(w->tmp);
		return -ENOMEM;
	}
	if (gz_all(w->gz, KP_SPEFILE_MAGIC, KP_SPEFILE_MAGIC_LEN) ||
	    put_le32(w->gz, (uint32_t)mlen) || gz_all(w->gz, meta, mlen)) {
		kp_spefile_abort(w);
		return -EIO;
	}
	return 0;
}

int kp_spefile_block(struct kp_spefile_writer *w, uint32_t vcpu,
		     const void *data, size_t len)
{
	if (len > UINT32_MAX)
		return -E2BIG;
	if (put_le32(w->gz, vcpu) || put_le32(w->gz, (uint32_t)len) ||
	    gz_all(w->gz, data, len))
		return -EIO;
	return 0;
}

int kp_spefile_blocks(struct kp_spefile_writer *w, const void *blocks,
		      size_t len)
{
	return gz_all(w->gz, blocks, len);
}

/* Closes; renamed into place when @ret is 0, removed otherwise. */
static int finish(struct kp_spefile_writer *w, int ret)
{
	if (w->gz && gzclose(w->gz) != Z_OK && !ret)
		ret = -EIO;
	w->gz = NULL;
	return spe_tmp_finish(w->tmp, w->path, ret);
}

int kp_spefile_commit(struct kp_spefile_writer *w, const char *trailer)
{
	int ret = 0;

	if (trailer)
		ret = kp_spefile_block(w, KP_SPEFILE_TRAILER, trailer,
				       strlen(trailer));
	return finish(w, ret);
}

void kp_spefile_abort(struct kp_spefile_writer *w)
{
	finish(w, -ECANCELED);
}
