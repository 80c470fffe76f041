/* SPDX-License-Identifier: GPL-2.0-only */
/* Which VMM a process is, and the VM name it was given. Pure functions. */
#ifndef KVMPROF_VMNAME_H
#define KVMPROF_VMNAME_H

#include <stddef.h>

#define KP_NAME_MAX 64
#define KP_VMM_MAX 24

struct kp_vm_ident {
	char vmm[KP_VMM_MAX];	/* "qemu", "kvmtool", "firecracker", ... */
	char name[KP_NAME_MAX];	/* VM name, or comm when the VMM names none */
	char uuid[40];		/* QEMU -uuid, when given */
	char scope_name[KP_NAME_MAX]; /* libvirt machine scope's (sanitised)
				       * name, when in one; else "" */
};

/*
 * Identify the VMM and VM name from a process' argv (@argc strings), its
 * comm and the contents of /proc/PID/cgroup (may be NULL).  Recognised, in
 * order: QEMU `-name guest=X,..` / `-name X` (and -uuid; the VMM's own name
 * wins over a libvirt scope's sanitised one), libvirt machine scopes in the
 * cgroup path (always kept in scope_name), kvmtool `--name`, Firecracker `--id`,
 * cloud-hypervisor and crosvm (their API/control socket's basename),
 * kvmprof's test guest `--name`; otherwise vmm "unknown" and name = comm.
 * Never fails: always fills @ret_id.
 */
void kp_vm_identify(int argc, char *const argv[], const char *comm,
		    const char *cgroup, struct kp_vm_ident *ret_id);

/* Split a NUL-separated /proc/PID/cmdline buffer into argv (in place).
 * Returns the number of arguments stored (at most @max). */
int kp_split_cmdline(char *buf, size_t len, char **argv, int max);

#endif
