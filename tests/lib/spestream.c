// SPDX-License-Identifier: GPL-2.0-only
/* Synthetic SPE streams, injected (spestream.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "spegen.h"
#include "spestream.h"

void stream_make(struct stream *s, uint64_t seed, size_t nrec)
{
	struct spegen_opts o = { .seed = seed, .layout = SPEGEN_MIXED };

	memset(s, 0, sizeof(*s));
	assert_int_equal(spegen_stream(&o, nrec, &s->buf, &s->len, &s->truth),
			 0);
	s->nrec = nrec;
	for (size_t i = 0; i < nrec; i++)
		if (spe_rec_has_addr(&s->truth[i], SPE_ADDR_PC))
			s->by_el[spe_addr_el(s->truth[i].addr[SPE_ADDR_PC])]++;
}

void stream_free(struct stream *s)
{
	free(s->buf);
	free(s->truth);
}
uint64_t rng = 0x9e3779b97f4a7c15ull;

uint64_t rnd(uint64_t n)
{
	/* splitmix64 */
	uint64_t z = (rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return (z ^ (z >> 31)) % n;
}
void inject_streams(struct inject *in, int prog, struct stream *s, int n,
		    uint64_t *copies, uint64_t *errs)
{
	for (;;) {
		int live = 0, v;
		size_t len;

		for (v = 0; v < n; v++)
			live += s[v].pos < s[v].len;
		if (!live)
			break;
		do
			v = (int)rnd((uint64_t)n);
		while (s[v].pos >= s[v].len);
		len = 1 + rnd(rnd(4) ? 4096 : 65536);
		if (len > s[v].len - s[v].pos)
			len = s[v].len - s[v].pos;
		uint8_t reason = (uint8_t)rnd(3);
		int ret = rnd(10) ? 0 : -14;

		assert_int_equal(
			inject_copy_out(in, prog, v, s[v].buf + s[v].pos, len,
					0xffff800000000000ull + s[v].pos,
					reason, ret),
			0);
		copies[reason]++;
		errs[0] += ret != 0;
		s[v].pos += len;
	}
}
void inject_pieces(struct inject *in, int prog, const struct stream *s,
		   size_t piece)
{
	for (size_t off = 0; off < s->len; off += piece)
		assert_int_equal(inject_copy_out(in, prog, 0, s->buf + off,
						 s->len - off < piece ?
							 s->len - off :
							 piece,
						 off, 0, 0),
				 0);
}
