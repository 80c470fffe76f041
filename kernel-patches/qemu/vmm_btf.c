// SPDX-License-Identifier: GPL-2.0-only
/* kvmprof test VMM: "btf" (tracepoint prototypes from BTF) */
#include "vmm.h"


/* BTF */

static const struct btf_type *btf_types[1 << 20];
static unsigned int btf_ntypes;
static const char *btf_str;

static const char *btf_name(const struct btf_type *t)
{
	return btf_str + t->name_off;
}

static size_t btf_type_size(const struct btf_type *t)
{
	unsigned int vlen = BTF_INFO_VLEN(t->info);

	switch (BTF_INFO_KIND(t->info)) {
	case BTF_KIND_INT:
	case BTF_KIND_VAR:
	case BTF_KIND_DECL_TAG:
		return sizeof(*t) + 4;
	case BTF_KIND_ARRAY:
		return sizeof(*t) + sizeof(struct btf_array);
	case BTF_KIND_STRUCT:
	case BTF_KIND_UNION:
		return sizeof(*t) + vlen * sizeof(struct btf_member);
	case BTF_KIND_ENUM:
		return sizeof(*t) + vlen * sizeof(struct btf_enum);
	case BTF_KIND_ENUM64:
		return sizeof(*t) + vlen * sizeof(struct btf_enum64);
	case BTF_KIND_FUNC_PROTO:
		return sizeof(*t) + vlen * sizeof(struct btf_param);
	case BTF_KIND_DATASEC:
		return sizeof(*t) + vlen * sizeof(struct btf_var_secinfo);
	default:
		return sizeof(*t);
	}
}

static void btf_type_str(unsigned int id, char *buf, size_t len)
{
	const struct btf_type *t;
	char inner[128];

	if (id == 0) {
		snprintf(buf, len, "void");
		return;
	}
	if (id > btf_ntypes) {
		snprintf(buf, len, "?");
		return;
	}
	t = btf_types[id];
	switch (BTF_INFO_KIND(t->info)) {
	case BTF_KIND_PTR:
		btf_type_str(t->type, inner, sizeof(inner));
		snprintf(buf, len, "%s *", inner);
		break;
	case BTF_KIND_CONST:
		btf_type_str(t->type, inner, sizeof(inner));
		snprintf(buf, len, "const %s", inner);
		break;
	case BTF_KIND_STRUCT:
		snprintf(buf, len, "struct %s", btf_name(t));
		break;
	case BTF_KIND_UNION:
		snprintf(buf, len, "union %s", btf_name(t));
		break;
	default:
		snprintf(buf, len, "%s", btf_name(t));
	}
}

int cmd_btf(int argc, char **argv)
{
	const struct btf_header *hdr;
	const char *types;
	struct stat st;
	unsigned int id;
	size_t off;
	char *data;
	int fd, i;

	fd = open("/sys/kernel/btf/vmlinux", O_RDONLY);
	if (fd < 0)
		die("open /sys/kernel/btf/vmlinux");
	if (fstat(fd, &st))
		die("stat BTF");
	data = malloc(st.st_size);
	if (!data)
		die("malloc");
	for (off = 0; off < (size_t)st.st_size;) {
		ssize_t n = read(fd, data + off, st.st_size - off);

		if (n <= 0)
			die("read BTF");
		off += n;
	}
	close(fd);

	hdr = (const struct btf_header *)data;
	if (hdr->magic != BTF_MAGIC) {
		printf("btf: bad magic\n");
		return 1;
	}
	types = data + hdr->hdr_len + hdr->type_off;
	btf_str = data + hdr->hdr_len + hdr->str_off;
	for (off = 0; off < hdr->type_len;) {
		const struct btf_type *t = (const void *)(types + off);

		if (btf_ntypes + 1 >= sizeof(btf_types) / sizeof(btf_types[0]))
			break;
		btf_types[++btf_ntypes] = t;
		off += btf_type_size(t);
	}

	for (i = 2; i < argc; i++) {
		char want[128], buf[1024], arg[256];
		const struct btf_type *proto = NULL;

		snprintf(want, sizeof(want), "btf_trace_%s", argv[i]);
		for (id = 1; id <= btf_ntypes; id++) {
			const struct btf_type *t = btf_types[id];

			if (BTF_INFO_KIND(t->info) != BTF_KIND_TYPEDEF ||
			    strcmp(btf_name(t), want))
				continue;
			t = btf_types[t->type];
			if (BTF_INFO_KIND(t->info) == BTF_KIND_PTR)
				proto = btf_types[t->type];
			break;
		}
		if (!proto || BTF_INFO_KIND(proto->info) != BTF_KIND_FUNC_PROTO) {
			printf("btf: %s missing\n", argv[i]);
			failures++;
			continue;
		}
		snprintf(buf, sizeof(buf), "btf: %s(", argv[i]);
		for (id = 0; id < BTF_INFO_VLEN(proto->info); id++) {
			const struct btf_param *p = (const void *)(proto + 1);

			btf_type_str(p[id].type, arg, sizeof(arg));
			strncat(buf, id ? ", " : "", sizeof(buf) - strlen(buf) - 1);
			strncat(buf, arg, sizeof(buf) - strlen(buf) - 1);
		}
		printf("%s)\n", buf);
	}
	return failures ? 1 : 0;
}
