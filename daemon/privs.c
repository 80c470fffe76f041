// SPDX-License-Identifier: GPL-2.0-only
/* Capability and identity management of kvmprofd: see privs.h. */
#include <errno.h>
#include <pwd.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cap-ng.h>

#include <kvmprof/util.h>
#include "privs.h"

#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif

int privs_ptrace(bool on)
{
	capng_get_caps_process();
	if (!capng_have_capability(CAPNG_PERMITTED, CAP_SYS_PTRACE))
		return -EPERM;
	if (capng_update(on ? CAPNG_ADD : CAPNG_DROP, CAPNG_EFFECTIVE,
			 CAP_SYS_PTRACE) ||
	    capng_apply(CAPNG_SELECT_CAPS))
		return -EPERM;
	return 0;
}

int privs_limit(bool keep_ptrace)
{
	/* Loading/attaching tracing programs: CAP_BPF + CAP_PERFMON.  A
	 * non-root user (systemd User=) also needs CAP_DAC_READ_SEARCH to
	 * look into tracefs (mode 0700).  Switching user later: SETUID,
	 * SETGID, and SETPCAP to clear the bounding set.  KVM stats fds of
	 * other users' VMMs: SYS_PTRACE (pidfd_getfd). */
	static const int keep[] = {
		CAP_BPF,    CAP_PERFMON, CAP_DAC_READ_SEARCH, CAP_SETUID,
		CAP_SETGID, CAP_SETPCAP, CAP_SYS_PTRACE
	};
	bool have[ARRAY_SIZE(keep)];

	capng_get_caps_process();
	for (size_t i = 0; i < ARRAY_SIZE(keep); i++)
		have[i] = capng_have_capability(CAPNG_PERMITTED, keep[i]);
	capng_clear(CAPNG_SELECT_CAPS);
	for (size_t i = 0; i < ARRAY_SIZE(keep); i++) {
		if (!have[i])
			continue;
		if (keep[i] == CAP_DAC_READ_SEARCH && getuid() == 0)
			continue;	/* root owns tracefs */
		if (keep[i] == CAP_SYS_PTRACE && !keep_ptrace)
			continue;
		capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED,
			     keep[i]);
	}
	if (capng_apply(CAPNG_SELECT_CAPS))
		return -EPERM;
	/* ambient capabilities not in permitted are gone already; the rest
	 * must not survive an execve either */
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) &&
	    errno != EINVAL)
		return -errno;
	return 0;
}

int privs_drop(const char *user, int (*bpf_probe)(void *ctx), void *ctx,
	       bool keep_ptrace, struct privs_result *ret)
{
	bool have_bpf, have_setpcap, have_ptrace;
	int r;

	memset(ret, 0, sizeof(*ret));
	capng_get_caps_process();
	have_bpf = capng_have_capability(CAPNG_PERMITTED, CAP_BPF);
	have_setpcap = capng_have_capability(CAPNG_EFFECTIVE, CAP_SETPCAP);
	have_ptrace = keep_ptrace &&
		      capng_have_capability(CAPNG_PERMITTED, CAP_SYS_PTRACE);

	/* CAP_BPF permitted only, nothing effective; no bounding set */
	capng_clear(CAPNG_SELECT_BOTH);
	if (have_bpf)
		capng_update(CAPNG_ADD, CAPNG_PERMITTED, CAP_BPF);
	if (have_ptrace)
		capng_update(CAPNG_ADD, CAPNG_PERMITTED, CAP_SYS_PTRACE);
	if (getuid() == 0 && user && *user && strcmp(user, "root")) {
		struct passwd *pw = getpwnam(user);

		if (pw) {
			if (capng_change_id((int)pw->pw_uid, (int)pw->pw_gid,
					    CAPNG_DROP_SUPP_GRP |
					    CAPNG_CLEAR_BOUNDING))
				return -EPERM;
			ret->switched = true;
		} else {
			ret->user_missing = true;
		}
	}
	if (!ret->switched &&
	    capng_apply(have_setpcap ? CAPNG_SELECT_BOTH : CAPNG_SELECT_CAPS))
		return -EPERM;

	/* Does this kernel want CAP_BPF for queries on fds we hold? */
	r = bpf_probe(ctx);
	if (r == -EPERM && have_bpf) {
		capng_update(CAPNG_ADD, CAPNG_EFFECTIVE, CAP_BPF);
		ret->kept_bpf = true;
	} else {
		capng_clear(CAPNG_SELECT_CAPS);
	}
	if (have_ptrace) {
		capng_update(CAPNG_ADD, CAPNG_PERMITTED, CAP_SYS_PTRACE);
		ret->kept_ptrace = true;
	}
	if (capng_apply(CAPNG_SELECT_CAPS))
		return -EPERM;
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) &&
	    errno != EINVAL)
		return -errno;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -errno;
	ret->uid = getuid();
	ret->gid = getgid();
	return 0;
}
