// SPDX-License-Identifier: GPL-2.0-only
/*
 * Symbol table lookups (no library needed; loading is in symbols.c).
 */
#include <stdlib.h>
#include <string.h>

#include <kvmprof/spe_profile.h>

void spe_symtab_free(struct spe_symtab *t)
{
	free(t->syms);
	free(t->names);
	memset(t, 0, sizeof(*t));
}

const char *spe_symtab_lookup(const struct spe_symtab *t, uint64_t addr,
			      uint64_t *ret_off)
{
	size_t lo = 0, hi = t ? t->n : 0;
	const struct spe_sym *s;

	/* last symbol at or below @addr */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (t->syms[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return NULL;
	s = &t->syms[lo - 1];
	if (s->size && addr - s->addr >= s->size)
		return NULL;
	/* unsized (kallsyms): trust it up to the next symbol, within 1 MiB */
	if (!s->size && lo == t->n && addr - s->addr >= (1u << 20))
		return NULL;
	if (ret_off)
		*ret_off = addr - s->addr;
	return t->names + s->name;
}
