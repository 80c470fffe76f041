// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <kvmprof/procfs.h>

ssize_t kp_proc_read(pid_t pid, const char *what, char *buf, size_t len)
{
	char path[64];
	size_t off = 0;
	int fd;

	if (len == 0)
		return -EINVAL;
	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, what);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while (off < len - 1) {
		ssize_t n = read(fd, buf + off, len - 1 - off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			n = -errno;
			close(fd);
			return n;
		}
		if (n == 0)
			break;
		off += (size_t)n;
	}
	close(fd);
	buf[off] = '\0';
	return (ssize_t)off;
}

int kp_proc_stat(pid_t pid, uint64_t *ret_start_ticks, char *ret_comm,
		 size_t comm_len)
{
	char buf[1024], *open_p, *close_p, *p;
	unsigned long long start;
	ssize_t n;
	int field;

	n = kp_proc_read(pid, "stat", buf, sizeof(buf));
	if (n < 0)
		return (int)n;
	/* comm may contain spaces and ')': it ends at the last ')'. */
	open_p = strchr(buf, '(');
	close_p = strrchr(buf, ')');
	if (!open_p || !close_p || close_p < open_p)
		return -EBADMSG;
	if (ret_comm && comm_len) {
		size_t l = (size_t)(close_p - open_p - 1);

		if (l >= comm_len)
			l = comm_len - 1;
		memcpy(ret_comm, open_p + 1, l);
		ret_comm[l] = '\0';
	}
	/* Field 3 (state) follows ") "; starttime is field 22. */
	p = close_p + 2;
	for (field = 3; field < 22; field++) {
		p = strchr(p, ' ');
		if (!p)
			return -EBADMSG;
		p++;
	}
	if (sscanf(p, "%llu", &start) != 1)
		return -EBADMSG;
	*ret_start_ticks = start;
	return 0;
}

uint64_t kp_ns_to_ticks(uint64_t ns)
{
	static long hz;

	if (!hz) {
		hz = sysconf(_SC_CLK_TCK);
		if (hz <= 0)
			hz = 100;
	}
	/* Like the kernel's nsec_to_clock_t() for USER_HZ dividing 1e9. */
	return ns / (1000000000ull / (uint64_t)hz);
}

int kp_proc_alive(pid_t pid, uint64_t start_ns)
{
	uint64_t ticks;
	int r;

	r = kp_proc_stat(pid, &ticks, NULL, 0);
	if (r == -ENOENT || r == -ESRCH)
		return 0;
	if (r < 0)
		return r;
	return ticks == kp_ns_to_ticks(start_ns);
}

int kp_kallsyms_addr(const char *path, const char *name, uint64_t *ret)
{
	unsigned long long a;
	char line[512], sym[256];
	int found = 0;
	FILE *f = fopen(path, "re");

	if (!f)
		return -errno;
	*ret = 0;
	/* "ADDR TYPE NAME[\t[MODULE]]" */
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%llx %*c %255s", &a, sym) != 2 ||
		    strcmp(sym, name))
			continue;
		found++;
		*ret = a;
	}
	fclose(f);
	if (!found)
		return -ENOENT;
	if (found > 1) {
		*ret = 0;
		return -EEXIST;
	}
	return *ret ? 0 : -EPERM;
}
