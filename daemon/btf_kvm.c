// SPDX-License-Identifier: GPL-2.0-only
/* KVM module BTF merged into vmlinux's for CO-RE: see btf_kvm.h. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "btf_kvm.h"

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w ? -errno : -EIO;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int btf_kvm_merged(const char *dir, int *ret_fd)
{
	struct btf *base = NULL, *kvm = NULL, *out = NULL;
	char path[PATH_MAX];
	const void *raw;
	__u32 size, n;
	int r, fd = -1;

	*ret_fd = -1;
	snprintf(path, sizeof(path), "%s/kvm", dir);
	if (access(path, R_OK))
		return errno == ENOENT ? 0 : -errno;
	snprintf(path, sizeof(path), "%s/vmlinux", dir);
	base = btf__parse(path, NULL);
	r = libbpf_get_error(base);
	if (r)
		goto out;
	snprintf(path, sizeof(path), "%s/kvm", dir);
	kvm = btf__parse_split(path, base);
	r = libbpf_get_error(kvm);
	if (r)
		goto out;
	out = btf__new_empty();
	r = libbpf_get_error(out);
	if (r)
		goto out;
	/* vmlinux's types keep their IDs (1..n-1), so kvm's, appended in
	 * order, keep theirs (n..) and every reference stays right */
	r = btf__add_btf(out, base);
	n = btf__type_cnt(base);
	for (__u32 id = n; r >= 0 && id < btf__type_cnt(kvm); id++)
		r = btf__add_type(out, kvm, btf__type_by_id(kvm, id));
	if (r < 0)
		goto out;
	raw = btf__raw_data(out, &size);
	if (!raw) {
		r = -errno;
		goto out;
	}
	fd = memfd_create("kvmprof-btf", MFD_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		goto out;
	}
	r = write_all(fd, raw, size);
	if (!r) {
		*ret_fd = fd;
		fd = -1;
		r = 1;
	}
out:
	if (fd >= 0)
		close(fd);
	btf__free(out);
	btf__free(kvm);
	btf__free(base);
	return r;
}
