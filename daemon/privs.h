/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Privileges of kvmprofd, in three steps (kvmprofd.c calls them):
 *  1. privs_limit() after the steps that need CAP_SYS_ADMIN (BPF stats,
 *     mounting tracefs): keep only what loading and attaching need.
 *  2. load and attach the BPF probes.
 *  3. privs_drop(): run as an unprivileged user (when started as root and
 *     that user exists), keep CAP_BPF only if this kernel refuses BPF map
 *     and program queries on our own fds without it (found out by trying),
 *     clear the bounding, inheritable and ambient sets, set
 *     PR_SET_NO_NEW_PRIVS.  With kvm-stats, CAP_SYS_PTRACE stays
 *     permitted and is made effective only around pidfd_getfd()
 *     (privs_ptrace(), kvmstats.h).
 * No logging here: results are returned.
 */
#ifndef KVMPROFD_PRIVS_H
#define KVMPROFD_PRIVS_H

#include <stdbool.h>
#include <sys/types.h>

/* Keep only the capabilities needed to load and attach BPF tracing
 * programs (and to drop privileges later).  0 or -errno. */
int privs_limit(bool keep_ptrace);

/* CAP_SYS_PTRACE effective (@on) or not: 0, or -EPERM when not permitted
 * (kvm-stats: around pidfd_getfd()). */
int privs_ptrace(bool on);

struct privs_result {
	bool switched;		/* now running as the user */
	bool user_missing;	/* started as root, the user does not exist */
	bool kept_bpf;		/* CAP_BPF still effective */
	bool kept_ptrace;	/* CAP_SYS_PTRACE permitted (not effective) */
	uid_t uid;
	gid_t gid;
};

/*
 * @user: run as this user when started as root ("" or "root": stay).
 * @bpf_probe(ctx): BPF queries on our fds, -EPERM if refused; called with
 * CAP_BPF permitted but not effective.  @keep_ptrace: CAP_SYS_PTRACE
 * stays permitted, not effective, when it was (kvm-stats).  0 or -errno.
 */
int privs_drop(const char *user, int (*bpf_probe)(void *ctx), void *ctx,
	       bool keep_ptrace, struct privs_result *ret);

#endif
