/* SPDX-License-Identifier: GPL-2.0-only */
/* Small /proc readers. All return 0 or -errno. */
#ifndef KVMPROF_PROCFS_H
#define KVMPROF_PROCFS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Start time of @pid in clock ticks since boot (field 22 of stat), and its
 * comm (field 2, at most 16 bytes incl. NUL). @ret_comm may be NULL. */
int kp_proc_stat(pid_t pid, uint64_t *ret_start_ticks, char *ret_comm,
		 size_t comm_len);

/* Read a whole /proc/PID/<what> file into @buf (NUL-terminated, truncated
 * to @len - 1). Returns the number of bytes read or -errno. */
ssize_t kp_proc_read(pid_t pid, const char *what, char *buf, size_t len);

/* Does the process @pid that started at @start_ns (ns since boot, as BPF's
 * task->start_boottime) still exist?  1 yes, 0 no, -errno on error. */
int kp_proc_alive(pid_t pid, uint64_t start_ns);

/* The address of the kernel symbol @name (of any type, in vmlinux or a
 * module) in the kallsyms file @path: 0, -ENOENT, -EEXIST (more than one
 * symbol of that name), -EPERM (addresses hidden: kptr_restrict) or
 * -errno. */
int kp_kallsyms_addr(const char *path, const char *name, uint64_t *ret);

/* ns since boot -> clock ticks, as the kernel reports in /proc/PID/stat */
uint64_t kp_ns_to_ticks(uint64_t ns);

#endif
