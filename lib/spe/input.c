// SPDX-License-Identifier: GPL-2.0-only
/*
 * SPE input files: raw, gzip (RFC 1952, concatenated members too) or zlib
 * (RFC 1950), decompressed whole into memory with a size limit.  Neither
 * magic can start an SPE stream (0x1f and 0x78 are not packet headers),
 * so the detection is unambiguous for SPE data.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <kvmprof/spe_profile.h>

struct growbuf {
	uint8_t *p;
	size_t len, cap, max;
};

static int grow(struct growbuf *b, size_t need)
{
	size_t cap = b->cap ? b->cap : 1 << 16;
	uint8_t *p;

	if (need > b->max)
		return -EFBIG;
	while (cap < need)
		cap *= 2;
	if (cap > b->max)
		cap = b->max;
	if (cap <= b->cap)
		return 0;
	p = realloc(b->p, cap);
	if (!p)
		return -ENOMEM;
	b->p = p;
	b->cap = cap;
	return 0;
}

/* Reads all of @fd into @b. */
static int read_all(int fd, struct growbuf *b)
{
	for (;;) {
		ssize_t n;
		int ret;

		if (b->len == b->cap) {
			ret = grow(b, b->len + 1);
			if (ret)
				return ret;
		}
		n = read(fd, b->p + b->len, b->cap - b->len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (!n)
			return 0;
		b->len += n;
	}
}

static bool is_gzip(const uint8_t *p, size_t len)
{
	return len >= 2 && p[0] == 0x1f && p[1] == 0x8b;
}

/* RFC 1950 header: deflate, window <= 32K, check bits. */
static bool is_zlib(const uint8_t *p, size_t len)
{
	return len >= 2 && (p[0] & 0x0f) == 8 && (p[0] >> 4) <= 7 &&
	       ((p[0] << 8) | p[1]) % 31 == 0;
}

bool spe_input_is_compressed(const uint8_t *p, size_t len)
{
	return is_gzip(p, len) || is_zlib(p, len);
}

static int inflate_all(const uint8_t *in, size_t len, bool gzip,
		       struct growbuf *out)
{
	z_stream z = { 0 };
	int ret, zr;

	if (inflateInit2(&z, gzip ? 16 + MAX_WBITS : MAX_WBITS) != Z_OK)
		return -ENOMEM;
	z.next_in = (Bytef *)in;
	for (;;) {
		size_t chunk = len - (size_t)((const uint8_t *)z.next_in - in);

		z.avail_in = chunk > UINT32_MAX ? UINT32_MAX : chunk;
		if (out->len == out->cap) {
			ret = grow(out, out->len + 1);
			if (ret)
				goto out;
		}
		z.next_out = out->p + out->len;
		z.avail_out = out->cap - out->len > UINT32_MAX ?
			      UINT32_MAX : out->cap - out->len;
		zr = inflate(&z, Z_NO_FLUSH);
		out->len = (uint8_t *)z.next_out - out->p;
		if (zr == Z_STREAM_END) {
			size_t used = (const uint8_t *)z.next_in - in;

			if (used == len) {
				ret = 0;
				goto out;
			}
			/* another gzip member may follow; nothing else may */
			if (!gzip || !is_gzip(in + used, len - used)) {
				ret = -EBADMSG;
				goto out;
			}
			inflateReset(&z);
			continue;
		}
		if (zr == Z_BUF_ERROR && z.avail_out)
			zr = Z_DATA_ERROR;	/* input ended early */
		if (zr != Z_OK && zr != Z_BUF_ERROR) {
			ret = zr == Z_MEM_ERROR ? -ENOMEM : -EBADMSG;
			goto out;
		}
	}
out:
	inflateEnd(&z);
	return ret;
}

int spe_input_load(const char *path, size_t max, uint8_t **ret_buf,
		   size_t *ret_len, enum spe_input_fmt *ret_fmt)
{
	struct growbuf raw = { .max = max }, out = { .max = max };
	enum spe_input_fmt fmt = SPE_IN_RAW;
	int fd, ret;

	if (!strcmp(path, "-")) {
		fd = STDIN_FILENO;
	} else {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return -errno;
	}
	/* compressed files can be larger than what they hold: read the raw
	 * bytes under the same limit */
	ret = read_all(fd, &raw);
	if (fd != STDIN_FILENO)
		close(fd);
	if (ret)
		goto fail;
	if (is_gzip(raw.p, raw.len))
		fmt = SPE_IN_GZIP;
	else if (is_zlib(raw.p, raw.len))
		fmt = SPE_IN_ZLIB;
	if (fmt != SPE_IN_RAW) {
		ret = inflate_all(raw.p, raw.len, fmt == SPE_IN_GZIP, &out);
		free(raw.p);
		if (ret)
			goto fail_out;
		raw = out;
	}
	*ret_buf = raw.p;
	*ret_len = raw.len;
	if (ret_fmt)
		*ret_fmt = fmt;
	return 0;
fail_out:
	free(out.p);
	return ret;
fail:
	free(raw.p);
	return ret;
}

/*
 * A regular file is mapped (page-cache pages, no copy): reading 256 MiB
 * into fresh anonymous memory cost more than decoding it.  Raw data stays
 * mapped; compressed data is inflated from the mapping.
 */
int spe_input_open(struct spe_input *in, const char *path, size_t max)
{
	struct growbuf out = { .max = max };
	struct stat st;
	uint8_t *map;
	int fd, ret;

	memset(in, 0, sizeof(*in));
	fd = strcmp(path, "-") ? open(path, O_RDONLY | O_CLOEXEC) : -1;
	if (fd < 0 || fstat(fd, &st) || !S_ISREG(st.st_mode) || !st.st_size) {
		if (fd >= 0)
			close(fd);
		else if (strcmp(path, "-"))
			return -errno;
		return spe_input_load(path, max, &in->data, &in->len, &in->fmt);
	}
	if ((uint64_t)st.st_size > max) {
		close(fd);
		return -EFBIG;
	}
	map = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd,
		   0);
	ret = map == MAP_FAILED ? -errno : 0;
	close(fd);
	if (ret)
		return ret;
	if (is_gzip(map, st.st_size))
		in->fmt = SPE_IN_GZIP;
	else if (is_zlib(map, st.st_size))
		in->fmt = SPE_IN_ZLIB;
	if (in->fmt == SPE_IN_RAW) {
		madvise(map, st.st_size, MADV_SEQUENTIAL);
		in->data = map;
		in->len = st.st_size;
		in->map_len = st.st_size;
		return 0;
	}
	ret = inflate_all(map, st.st_size, in->fmt == SPE_IN_GZIP, &out);
	munmap(map, st.st_size);
	if (ret) {
		free(out.p);
		return ret;
	}
	in->data = out.p;
	in->len = out.len;
	return 0;
}

void spe_input_close(struct spe_input *in)
{
	if (in->map_len)
		munmap(in->data, in->map_len);
	else
		free(in->data);
	memset(in, 0, sizeof(*in));
}
