// SPDX-License-Identifier: GPL-2.0-only
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "inject.h"
#include "progstat.h"
#include "test_kaddr.skel.h"

int run_raw_tp(int prog_fd, const uint64_t *args, size_t nargs)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .ctx_in = args,
		    .ctx_size_in = (__u32)(nargs * sizeof(*args)));

	return bpf_prog_test_run_opts(prog_fd, &opts) ? -errno : 0;
}

static int vcpu_id_offset(uint32_t *ret_off)
{
	struct btf *btf = btf__load_vmlinux_btf();
	const struct btf_member *m;
	const struct btf_type *t;
	int id;

	if (!btf)
		return -errno;
	id = btf__find_by_name_kind(btf, "kvm_vcpu", BTF_KIND_STRUCT);
	if (id < 0) {
		btf__free(btf);
		return -ENOENT;
	}
	t = btf__type_by_id(btf, id);
	m = btf_members(t);
	for (int i = 0; i < btf_vlen(t); i++, m++) {
		if (strcmp(btf__name_by_offset(btf, m->name_off), "vcpu_id"))
			continue;
		*ret_off = btf_member_bit_offset(t, i) / 8;
		btf__free(btf);
		return 0;
	}
	btf__free(btf);
	return -ENOENT;
}

int inject_open(struct inject *in)
{
	uint64_t none = 0;
	int r;

	memset(in, 0, sizeof(*in));
	r = vcpu_id_offset(&in->vcpu_id_off);
	if (r < 0)
		return r;
	in->skel = test_kaddr_bpf__open_and_load();
	if (!in->skel)
		return -errno;
	r = run_raw_tp(bpf_program__fd(in->skel->progs.kt_addrs), &none, 1);
	if (r < 0)
		return r;
	in->data_addr = in->skel->bss->kt_data_addr;
	for (uint32_t v = 0; v < KT_VCPUS; v++) {
		static uint8_t vcpu[16384];
		int32_t id = (int32_t)v;

		in->vcpu_addr[v] = in->skel->bss->kt_vcpu_addr[v];
		memset(vcpu, 0, sizeof(vcpu));
		memcpy(vcpu + in->vcpu_id_off, &id, sizeof(id));
		if (bpf_map_update_elem(bpf_map__fd(in->skel->maps.kt_vcpu), &v,
					vcpu, BPF_ANY))
			return -errno;
	}
	return in->data_addr ? 0 : -EFAULT;
}

void inject_close(struct inject *in)
{
	test_kaddr_bpf__destroy(in->skel);
	in->skel = NULL;
}

uint32_t max_prog_id(void)
{
	__u32 id = 0, max = 0;

	while (!bpf_prog_get_next_id(id, &id))
		max = id;
	return max;
}

pid_t inject_owner;

/* Whether process @pid holds a descriptor of BPF program @id. */
static bool owns_prog(pid_t pid, __u32 id)
{
	char path[320], line[128];
	struct dirent *de;
	bool found = false;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/fdinfo", (int)pid);
	d = opendir(path);
	if (!d)
		return false;
	while (!found && (de = readdir(d))) {
		FILE *f;

		snprintf(path, sizeof(path), "/proc/%d/fdinfo/%s", (int)pid,
			 de->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		while (!found && fgets(line, sizeof(line), f)) {
			unsigned int v;

			found = sscanf(line, "prog_id: %u", &v) == 1 && v == id;
		}
		fclose(f);
	}
	closedir(d);
	return found;
}

int find_prog(const char *name, uint32_t min_id)
{
	return find_prog_of(inject_owner, name, min_id);
}

struct find_arg {
	pid_t owner;
	const char *name;
	int best;
};

static bool find_want(uint32_t id, void *arg)
{
	const struct find_arg *a = arg;

	return a->owner <= 0 || owns_prog(a->owner, id);
}

static bool find_one(uint32_t id, int fd, const struct bpf_prog_info *info,
		     void *arg)
{
	struct find_arg *a = arg;

	if (strncmp(info->name, a->name, sizeof(info->name) - 1))
		return false;
	if (a->best >= 0)
		close(a->best);
	a->best = fd; /* ids grow: the last is the newest */
	return true;
}

int find_prog_of(pid_t owner, const char *name, uint32_t min_id)
{
	struct find_arg a = { .owner = owner, .name = name, .best = -ENOENT };

	for_each_prog(min_id, find_want, find_one, &a);
	return a.best;
}

int inject_copy_out(struct inject *in, int prog_fd, int v, const uint8_t *bytes,
		    size_t len, uint64_t guest_va, uint8_t reason, int ret)
{
	static uint8_t buf[KT_DATA_SIZE];
	const uint8_t *src = bytes;
	uint32_t zero = 0;
	uint64_t args[6];

	if (len > KT_DATA_SIZE || v < 0 || v >= KT_VCPUS)
		return -EINVAL;
	if (len < KT_DATA_SIZE) {	/* the map value is KT_DATA_SIZE */
		memcpy(buf, bytes, len);
		src = buf;
	}
	if (bpf_map_update_elem(bpf_map__fd(in->skel->maps.kt_data), &zero, src,
				BPF_ANY))
		return -errno;
	args[0] = in->vcpu_addr[v];
	args[1] = in->data_addr;
	args[2] = len;
	args[3] = guest_va;
	args[4] = reason;
	args[5] = (uint64_t)(int64_t)ret;
	return run_raw_tp(prog_fd, args, 6);
}
