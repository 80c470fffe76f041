/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * KVM's statistics from debugfs (kvmstats_debugfs.c), for VMMs that keep
 * no stats fds (e.g. Debian 12's QEMU 7.2): KVM makes a directory
 * <debugfs>/kvm/<pid>-<fd>/ per VM (pid: the VMM's, fd: its VM fd) with
 * one file per statistic, as kvm_stat reads them: per VM, vCPU statistics
 * summed over the vCPUs (histograms are not there whole: left out), no
 * descriptors.  Needs access to debugfs (root; not under the systemd
 * unit).
 */
#ifndef KVMPROFD_KVMSTATS_DEBUGFS_H
#define KVMPROFD_KVMSTATS_DEBUGFS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <cjson/cJSON.h>

#define KS_DEBUGFS_ROOT "/sys/kernel/debug/kvm"
#define KS_DEBUGFS_MAX_STATS 1024
#define KS_DEBUGFS_NAME_MAX 64

struct ks_debugfs {
	char dir[512]; /* <root>/<pid>-<fd> */
	char id[32];   /* <pid>-<fd> */
	size_t n;
	char (*names)[KS_DEBUGFS_NAME_MAX];
	uint64_t *vals;
	bool have_vals;
};

/*
 * The debugfs directory of the VM of VMM @pid under @root (the first in
 * name order when the process has several): 0 with *@ret (to
 * ks_debugfs_free()), -ENOENT (none), or -errno (@root unreadable).
 */
int ks_debugfs_find(const char *root, pid_t pid, struct ks_debugfs **ret);
/* Read the values again: 0, or -errno (then the last ones are kept: a
 * VM destroyed takes its directory with it). */
int ks_debugfs_read(struct ks_debugfs *d);
void ks_debugfs_free(struct ks_debugfs *d);
/* As a stats object of GET /v1/vms/{ref}/kvm-stats ("vm_stats"). */
cJSON *ks_debugfs_json(const struct ks_debugfs *d);

#endif
