/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * End-to-end test harness (tests/lib/, also linked by the bench): real
 * kvmprofd, real guests, real CLI.  Waits are on conditions (wait.h).
 */
#ifndef KP_TEST_HARNESS_H
#define KP_TEST_HARNESS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <cjson/cJSON.h>

#define SKIP_EXIT 77

struct kpd {
	pid_t pid;
	char dir[64];
	char sock[128];
};

/* Path of a built binary: $O/<rel> (O defaults to "build"). */
char *bin_path(const char *rel, char *buf, size_t len);

/* Why this machine cannot run KVM+BPF tests, or NULL if it can. */
/* Why a test that needs root and BPF with BTF (bpf_missing), and also
 * /dev/kvm (kvm_bpf_missing), cannot run here; NULL if it can. */
const char *bpf_missing(void);
const char *kvm_bpf_missing(void);
/* Start of an end-to-end test program (e2e.c): SKIP_EXIT (the reason
 * printed) when this machine cannot run it, else 0 with the cmocka test
 * filter of $KP_TEST_FILTER (e.g. 'reload*') in force. */
int e2e_begin(void);
/* The same for a program that needs BPF but no /dev/kvm. */
int e2e_begin_bpf(void);

/* Start kvmprofd on a private socket with extra arguments (NULL-ended);
 * waits until it answers /v1/status. 0 or -errno. */
int kpd_start(struct kpd *d, const char *const *extra);
/* Wait until the daemon @*pid answers /v1/status on @sock: 0, -EIO (not
 * 200), -ECHILD (it died) or -ETIMEDOUT (15 s; killed); *pid = -1 when it
 * is gone. */
int kpd_wait_ready(const char *sock, pid_t *pid);
/* SIGTERM, wait; returns the daemon's exit status (or -1). */
int kpd_stop(struct kpd *d);

/* Run argv (argv[0] looked up in PATH), capture stdout into *ret_out
 * (malloc'ed); exit status. */
int run_capture(char *const argv[], char **ret_out);
/* Start argv in the background; returns the pid. */
pid_t spawn(char *const argv[]);
/* Wait for @pid; returns its exit status, or 128+signal. */
int wait_exit(pid_t pid);

/* GET @path of @d's API: the JSON if the status is 200, else NULL. */
cJSON *kpd_get(const struct kpd *d, const char *path);
/* GET @path until @ok(answer, @arg) or @timeout_ms: the last answer (or
 * NULL), to check and cJSON_Delete(). */
cJSON *kpd_wait(const struct kpd *d, const char *path,
		bool (*ok)(const cJSON *j, const void *arg), const void *arg,
		unsigned int timeout_ms);

/* `kvmprof --socket S --json ARGS...` parsed; exit status in *ret_rc. */
cJSON *cli_json(const struct kpd *d, int *ret_rc, const char *a1,
		const char *a2);

cJSON *read_json_file(const char *path);
double jnum(const cJSON *o, const char *path);	/* "a.b.c" */
const cJSON *jget(const cJSON *o, const char *path);

/* Per-vCPU object with "vcpu" == id in the daemon's per_vcpu array */
const cJSON *vcpu_of(const cJSON *vm, int id);

#endif
