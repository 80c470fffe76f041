// SPDX-License-Identifier: GPL-2.0-only
/*
 * Function symbols for SPE PCs: from an ELF file's .symtab/.dynsym
 * (libelf) or a kallsyms-format text file.  Addresses are absolute, as
 * SPE reports them (vmlinux, kallsyms, non-PIE executables).
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <kvmprof/spe_profile.h>
#include <kvmprof/spe_symspec.h>

#define NAME_MAX_LEN	1024
#define NAMES_MAX	(256u << 20)	/* bytes of names kept */

struct builder {
	struct spe_symtab *t;
	size_t cap, names_cap;
	uint64_t text; /* _text, 0 if not seen */
};

static int add_sym(struct builder *b, uint64_t addr, uint64_t size,
		   const char *name, size_t len)
{
	struct spe_symtab *t = b->t;

	if (!len || len > NAME_MAX_LEN)
		return 0;	/* skipped */
	if (t->n == SPE_SYMS_MAX || t->names_len + len + 1 > NAMES_MAX)
		return -E2BIG;
	if (t->n == b->cap) {
		size_t cap = b->cap ? 2 * b->cap : 1024;
		struct spe_sym *s = realloc(t->syms, cap * sizeof(*s));

		if (!s)
			return -ENOMEM;
		t->syms = s;
		b->cap = cap;
	}
	if (t->names_len + len + 1 > b->names_cap) {
		size_t cap = b->names_cap ? 2 * b->names_cap : 65536;
		char *n;

		while (cap < t->names_len + len + 1)
			cap *= 2;
		n = realloc(t->names, cap);
		if (!n)
			return -ENOMEM;
		t->names = n;
		b->names_cap = cap;
	}
	t->syms[t->n++] = (struct spe_sym){
		.addr = addr, .size = size, .name = t->names_len,
	};
	memcpy(t->names + t->names_len, name, len);
	t->names[t->names_len + len] = '\0';
	t->names_len += len + 1;
	return 0;
}

static int cmp_sym(const void *a, const void *b)
{
	const struct spe_sym *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	/* sized symbols first at one address */
	return (x->size == 0) - (y->size == 0);
}

static void finish(struct spe_symtab *t)
{
	size_t w = 0;

	qsort(t->syms, t->n, sizeof(*t->syms), cmp_sym);
	/* one symbol per address */
	for (size_t i = 0; i < t->n; i++)
		if (!w || t->syms[w - 1].addr != t->syms[i].addr)
			t->syms[w++] = t->syms[i];
	t->n = w;
}

static int load_elf(struct builder *b, int fd)
{
	Elf_Scn *scn = NULL;
	Elf *e;
	int ret = 0;

	if (elf_version(EV_CURRENT) == EV_NONE)
		return -ENOEXEC;
	e = elf_begin(fd, ELF_C_READ, NULL);
	if (!e)
		return -ENOEXEC;
	if (elf_kind(e) != ELF_K_ELF) {
		elf_end(e);
		return -ENOEXEC;
	}
	while (!ret && (scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;
		Elf_Data *data;
		size_t n;

		if (!gelf_getshdr(scn, &sh) ||
		    (sh.sh_type != SHT_SYMTAB && sh.sh_type != SHT_DYNSYM) ||
		    !sh.sh_entsize)
			continue;
		data = elf_getdata(scn, NULL);
		if (!data)
			continue;
		n = sh.sh_size / sh.sh_entsize;
		for (size_t i = 0; i < n && !ret; i++) {
			GElf_Sym sym;
			const char *name;
			int type;

			if (!gelf_getsym(data, i, &sym))
				break;
			type = GELF_ST_TYPE(sym.st_info);
			if ((type != STT_FUNC && type != STT_GNU_IFUNC &&
			     type != STT_NOTYPE) || !sym.st_value ||
			    sym.st_shndx == SHN_UNDEF)
				continue;
			name = elf_strptr(e, sh.sh_link, sym.st_name);
			if (name && !strcmp(name, "_text"))
				b->text = sym.st_value;
			if (name)
				ret = add_sym(b, sym.st_value, sym.st_size,
					      name, strlen(name));
		}
	}
	elf_end(e);
	return ret;
}

/* "ffffffff81000000 T _stext [module]" */
static int load_kallsyms(struct builder *b, FILE *f)
{
	char line[NAME_MAX_LEN + 128];
	size_t bytes = 0;
	int ret = 0;

	while (!ret && fgets(line, sizeof(line), f)) {
		char *p = line, *end, *name;
		unsigned long long addr;
		char type;

		bytes += strlen(line);
		if (bytes > SPE_SYMFILE_MAX)
			return -E2BIG;
		addr = strtoull(p, &end, 16);
		if (end == p || *end != ' ')
			return -ENOEXEC;
		p = end + 1;
		type = *p;
		if (!type || p[1] != ' ')
			return -ENOEXEC;
		name = p + 2;
		name[strcspn(name, " \t\r\n")] = '\0';
		if (!strcmp(name, "_text"))
			b->text = addr;
		/* text symbols only */
		if (type != 't' && type != 'T' && type != 'w' && type != 'W')
			continue;
		ret = add_sym(b, addr, 0, name, strlen(name));
	}
	if (!ret && ferror(f))
		ret = -EIO;
	return ret;
}

/*
 * "name size refcount deps state 0xaddr [taint]" (/proc/modules): a
 * symbol "[name]" over each module's core.  Returns -ENOEXEC at the first
 * line of another shape.
 */
static int load_modules(struct builder *b, FILE *f)
{
	char line[1024], name[256], addr[64];
	unsigned long long size;
	int ret = 0;

	while (!ret && fgets(line, sizeof(line), f)) {
		char sym[260];
		unsigned long long a;
		char *end;

		if (sscanf(line, "%255s %llu %*s %*s %*s %63s", name, &size,
			   addr) != 3 ||
		    strncmp(addr, "0x", 2))
			return -ENOEXEC;
		a = strtoull(addr, &end, 16);
		if (*end)
			return -ENOEXEC;
		snprintf(sym, sizeof(sym), "[%s]", name);
		ret = add_sym(b, a, size, sym, strlen(sym));
	}
	return ret;
}

static bool looks_like_modules(FILE *f)
{
	char line[1024], name[256], addr[64];
	unsigned long long size;
	bool ret;

	ret = fgets(line, sizeof(line), f) &&
	      sscanf(line, "%255s %llu %*s %*s %*s %63s", name, &size, addr) ==
		      3 &&
	      !strncmp(addr, "0x", 2);
	rewind(f);
	return ret;
}

/* One file of any of the three kinds into @b. */
static int load_file(struct builder *b, const char *path)
{
	unsigned char magic[4] = { 0 };
	FILE *f;
	int ret;

	f = fopen(path, "r");
	if (!f)
		return -errno;
	if (fread(magic, 1, 4, f) == 4 && !memcmp(magic, "\177ELF", 4)) {
		ret = load_elf(b, fileno(f));
	} else {
		rewind(f);
		ret = looks_like_modules(f) ? load_modules(b, f) :
					      load_kallsyms(b, f);
	}
	fclose(f);
	return ret;
}

static bool is_elf(const char *path)
{
	unsigned char magic[4] = { 0 };
	FILE *f = fopen(path, "r");
	bool ret = f && fread(magic, 1, 4, f) == 4 &&
		   !memcmp(magic, "\177ELF", 4);

	if (f)
		fclose(f);
	return ret;
}

/* The end of a load: sorted, or freed on error or when empty. */
static int built(struct spe_symtab *t, int ret)
{
	if (!ret && !t->n)
		ret = -ENOEXEC;
	if (ret) {
		spe_symtab_free(t);
		return ret;
	}
	finish(t);
	return 0;
}

int spe_symtab_load(struct spe_symtab *t, const char *path)
{
	struct builder b = { .t = t };
	int ret;

	memset(t, 0, sizeof(*t));
	ret = load_file(&b, path);
	return built(t, ret);
}

/*
 * PATH[@OFFSET][,PATH[@OFFSET]...]: kallsyms and /proc/modules files as
 * they are (runtime addresses); ELF files (a guest vmlinux) moved by
 * OFFSET, or, without one, by the guest's KASLR offset: kallsyms' _text
 * minus the ELF's _text when a kallsyms file is in the list.
 */
int spe_symtab_load_spec(struct spe_symtab *t, const char *spec)
{
	struct builder b = { .t = t };
	char path[4096];
	int ret;

	memset(t, 0, sizeof(*t));
	ret = spe_symspec_check(spec);
	if (ret)
		return ret;
	/* runtime-address files first: they give _text */
	for (int pass = 0; pass < 2 && !ret; pass++) {
		for (const char *p = spec; *p && !ret;) {
			size_t len = strcspn(p, ",");
			struct spe_symtab e;
			struct builder eb;
			uint64_t off = 0, kaslr;
			bool has_off = false;

			spe_symspec_item(p, len, path, sizeof(path), &has_off,
					 &off);
			p += len + (p[len] == ',');
			if (is_elf(path) != (pass == 1))
				continue;
			if (!pass) {
				ret = load_file(&b, path);
				continue;
			}
			memset(&e, 0, sizeof(e));
			eb = (struct builder){ .t = &e };
			ret = load_file(&eb, path);
			if (!ret && !has_off && b.text && !eb.text)
				ret = -ENODATA; /* no _text in ELF */
			kaslr = has_off ? off : b.text ? b.text - eb.text : 0;
			for (size_t i = 0; !ret && i < e.n; i++)
				ret = add_sym(&b, e.syms[i].addr + kaslr,
					      e.syms[i].size,
					      e.names + e.syms[i].name,
					      strlen(e.names + e.syms[i].name));
			spe_symtab_free(&e);
		}
	}
	return built(t, ret);
}
