// SPDX-License-Identifier: GPL-2.0-only
/*
 * Symbols (kallsyms, /proc/modules, ELF, the KASLR offset) and compressed
 * input, as the profile and its report read them.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include <cmocka.h>

#include <kvmprof/spe_profile.h>

#include "util.h"

static char *write_tmp(const void *data, size_t len)
{
	char *path = strdup("/tmp/spe-test-XXXXXX");
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
	return path;
}

static void test_kallsyms(void **state)
{
	static const char ks[] = "ffff800008000000 T _stext\n"
				 "ffff800008010000 t do_one_thing\n"
				 "ffff800008010400 D some_data\n"
				 "ffff800008010800 T another_thing\t[mymod]\n"
				 "ffff800008000000 T _stext_alias\n";
	struct spe_symtab t;
	uint64_t off;
	char *path = write_tmp(ks, sizeof(ks) - 1);

	(void)state;
	assert_int_equal(spe_symtab_load(&t, path), 0);
	assert_int_equal(t.n, 3); /* data skipped, one per address */
	assert_string_equal(spe_symtab_lookup(&t, 0xffff800008010004ULL, &off),
			    "do_one_thing");
	assert_int_equal(off, 4);
	/* up to the next text symbol: data symbols do not cut it */
	assert_string_equal(spe_symtab_lookup(&t, 0xffff800008010500ULL, &off),
			    "do_one_thing");
	assert_string_equal(spe_symtab_lookup(&t, 0xffff800008010800ULL, &off),
			    "another_thing");
	assert_null(spe_symtab_lookup(&t, 0xffff7fffffffffffULL, &off));
	assert_null(spe_symtab_lookup(&t, 0xffff800009000000ULL, &off));
	spe_symtab_free(&t);
	unlink(path);
	free(path);

	path = write_tmp("not a symbol file\n", 18);
	assert_int_equal(spe_symtab_load(&t, path), -ENOEXEC);
	unlink(path);
	free(path);
	assert_int_equal(spe_symtab_load(&t, "/nonexistent/x"), -ENOENT);
}

/* Our own ELF: a function's symbol is found at and inside it. */
static void test_elf_symbols(void **state)
{
	struct spe_symtab t;
	uint64_t addr = 0, off;
	size_t i;

	(void)state;
	assert_int_equal(spe_symtab_load(&t, "/proc/self/exe"), 0);
	for (i = 0; i < t.n; i++)
		if (!strcmp(t.names + t.syms[i].name, "test_elf_symbols"))
			addr = t.syms[i].addr;
	assert_true(addr != 0);
	assert_string_equal(spe_symtab_lookup(&t, addr + 1, &off),
			    "test_elf_symbols");
	assert_int_equal(off, 1);
	spe_symtab_free(&t);
}

static uint64_t sym_addr(const struct spe_symtab *t, const char *name)
{
	for (size_t i = 0; i < t->n; i++)
		if (!strcmp(t->names + t->syms[i].name, name))
			return t->syms[i].addr;
	return 0;
}

/*
 * A guest vmlinux (this test program with a _text symbol added by
 * objcopy) under KASLR: the offset given, or derived from a kallsyms
 * _text; modules from a /proc/modules file.
 */
static void test_symbols_kaslr(void **state)
{
	const uint64_t kaslr = 0x40000000;
	char vmlinux[] = "/tmp/spe-vmlinux-XXXXXX", cmd[4200], spec[256];
	char self[4096];
	ssize_t n;
	struct spe_symtab t;
	uint64_t fn, text, off;
	char *ks, *mods, line[128];
	int fd;

	(void)state;
	fd = mkstemp(vmlinux);
	assert_true(fd >= 0);
	close(fd);
	/* this program's file (in the shell, /proc/self is objcopy) */
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	assert_true(n > 0);
	self[n] = '\0';
	snprintf(cmd, sizeof(cmd),
		 "objcopy --add-symbol _text=.text:1,global "
		 "%s %s",
		 self, vmlinux);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(spe_symtab_load(&t, vmlinux), 0);
	fn = sym_addr(&t, "test_symbols_kaslr");
	text = sym_addr(&t, "_text");
	assert_true(fn && text);
	spe_symtab_free(&t);
	snprintf(line, sizeof(line), "%llx T _text\n",
		 (unsigned long long)(text + kaslr));
	ks = write_tmp(line, strlen(line));
	snprintf(line, sizeof(line),
		 "mymod 8192 0 - Live 0xffff000012340000\n"
		 "other 4096 1 mymod, Live 0xffff000012350000 (O)\n");
	mods = write_tmp(line, strlen(line));

	/* derived from kallsyms' _text */
	snprintf(spec, sizeof(spec), "%s,%s", vmlinux, ks);
	assert_int_equal(spe_symtab_load_spec(&t, spec), 0);
	assert_string_equal(spe_symtab_lookup(&t, fn + kaslr + 4, &off),
			    "test_symbols_kaslr");
	assert_int_equal(off, 4);
	spe_symtab_free(&t);
	/* given, with modules */
	snprintf(spec, sizeof(spec), "%s@%#llx,%s", vmlinux,
		 (unsigned long long)kaslr, mods);
	assert_int_equal(spe_symtab_load_spec(&t, spec), 0);
	assert_string_equal(spe_symtab_lookup(&t, fn + kaslr, &off),
			    "test_symbols_kaslr");
	assert_string_equal(spe_symtab_lookup(&t, 0xffff000012340010, &off),
			    "[mymod]");
	assert_int_equal(off, 0x10);
	assert_string_equal(spe_symtab_lookup(&t, 0xffff000012350ff0, &off),
			    "[other]");
	assert_null(spe_symtab_lookup(&t, 0xffff000012351000, &off));
	spe_symtab_free(&t);
	/* errors: a bad offset, an ELF without _text next to kallsyms */
	snprintf(spec, sizeof(spec), "%s@zz", vmlinux);
	assert_int_equal(spe_symtab_load_spec(&t, spec), -EINVAL);
	snprintf(spec, sizeof(spec), "/proc/self/exe,%s", ks);
	assert_int_equal(spe_symtab_load_spec(&t, spec), -ENODATA);
	assert_int_equal(spe_symtab_load_spec(&t, "/nonexistent"), -ENOENT);
	unlink(vmlinux);
	unlink(ks);
	unlink(mods);
	free(ks);
	free(mods);
}

static void test_input(void **state)
{
	uint8_t data[5000], gz[6000], *out;
	size_t len;
	enum spe_input_fmt fmt;
	uLongf zlen = sizeof(gz);
	char *path;
	gzFile g;
	int fd;

	(void)state;
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = i * 7;
	/* raw */
	path = write_tmp(data, sizeof(data));
	assert_int_equal(spe_input_load(path, 1 << 20, &out, &len, &fmt), 0);
	assert_int_equal(fmt, SPE_IN_RAW);
	assert_int_equal(len, sizeof(data));
	assert_memory_equal(out, data, len);
	free(out);
	assert_int_equal(spe_input_load(path, 100, &out, &len, &fmt), -EFBIG);
	unlink(path);
	free(path);
	/* zlib, whole and truncated */
	assert_int_equal(compress2(gz, &zlen, data, sizeof(data), 6), Z_OK);
	path = write_tmp(gz, zlen);
	assert_int_equal(spe_input_load(path, 1 << 20, &out, &len, &fmt), 0);
	assert_int_equal(fmt, SPE_IN_ZLIB);
	assert_int_equal(len, sizeof(data));
	assert_memory_equal(out, data, len);
	free(out);
	assert_int_equal(spe_input_load(path, 1000, &out, &len, &fmt), -EFBIG);
	unlink(path);
	free(path);
	path = write_tmp(gz, zlen - 5);
	assert_int_equal(spe_input_load(path, 1 << 20, &out, &len, &fmt),
			 -EBADMSG);
	unlink(path);
	free(path);
	/* gzip, two members */
	path = strdup("/tmp/spe-test-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	for (int m = 0; m < 2; m++) {
		g = gzdopen(dup(fd), "ab");
		assert_non_null(g);
		assert_int_equal(gzwrite(g, data, sizeof(data)), sizeof(data));
		assert_int_equal(gzclose(g), Z_OK);
	}
	close(fd);
	assert_int_equal(spe_input_load(path, 1 << 20, &out, &len, &fmt), 0);
	assert_int_equal(fmt, SPE_IN_GZIP);
	assert_int_equal(len, 2 * sizeof(data));
	assert_memory_equal(out, data, sizeof(data));
	assert_memory_equal(out + sizeof(data), data, sizeof(data));
	free(out);
	/* trailing junk after a member */
	fd = open(path, O_WRONLY | O_APPEND);
	assert_int_equal(write(fd, "junk", 4), 4);
	close(fd);
	assert_int_equal(spe_input_load(path, 1 << 20, &out, &len, &fmt),
			 -EBADMSG);
	unlink(path);
	free(path);
	assert_int_equal(spe_input_load("/nonexistent/x", 1 << 20, &out, &len,
					&fmt),
			 -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kallsyms),
		cmocka_unit_test(test_elf_symbols),
		cmocka_unit_test(test_symbols_kaslr),
		cmocka_unit_test(test_input),
	};

	return cmocka_run_group_tests_name("symbols", tests, NULL, NULL);
}
