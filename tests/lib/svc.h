/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * kvmprofd as a service under test (test_e2e_prometheus, _privileges,
 * _systemd): daemons started as the unit would, the guest's workload,
 * the metrics scrape, /proc and user helpers.  Expectations come from the
 * requested workload and the VMM's own report, never from the daemon.
 */
#ifndef KP_TEST_SVC_H
#define KP_TEST_SVC_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <cjson/cJSON.h>

#include "harness.h"

#define UNIT "dist/systemd/kvmprofd.service.in"
#define DASHBOARD "dist/grafana/kvmprof-dashboard.json"
#define SERVICE_DOC "docs/service.md"
#define PIO 60000
#define MMIO_W 12000
#define NVCPUS 2

/* vCPU @i's share of @total split over @n vCPUs, as kvmguest splits it */
uint64_t split(uint64_t total, unsigned n, unsigned i);
char *read_file(const char *path);	/* malloc'ed, or NULL */
void write_file(const char *path, const char *text, mode_t mode);

/* Line "^name{...} value" or "^name value" of a scrape: value or -1. */
double sample(const char *text, const char *series);
double status_num(const struct kpd *d, const char *path);
char *metrics_addr(const struct kpd *d);	/* malloc'ed */
char *scrape(const char *addr);			/* /metrics, or NULL */

/*
 * Start kvmprofd (through @wrapper argv when given) on a private socket in
 * @d->dir with @extra arguments, environment additions @env ("K=V", NULL
 * ended), stderr to @log (or inherited); wait until /v1/status answers.
 * Unlike kpd_start(), the metrics listener is left as configured.
 */
int svc_start(struct kpd *d, const char *const *wrapper,
	      const char *const *extra, const char *const *env,
	      const char *log);
void svc_stop(struct kpd *d);
/* Daemons started and not yet stopped: stopped at the end even when a
 * test failed half-way. */
void stop_all(void);
/* A service test program's start (e2e_begin(), libcurl) and end (every
 * daemon stopped; the exit status for @failed). */
int svc_begin(void);
int svc_end(int failed);

/* The guest's workload (PIO, MMIO_W over NVCPUS), reported to @report */
pid_t start_guest(const char *name, const char *report);

/* "Key:\t<value>" of /proc/PID/status in @base, or -1 */
long long status_field(pid_t pid, const char *key, int base);
uid_t kvmprof_uid(gid_t *ret_gid);
/* The user and group kvmprof, created as `make install` does if needed */
void ensure_kvmprof_user(void);
/* Does this kernel refuse BPF map queries on an fd without CAP_BPF?  Found
 * out independently of the daemon: a map made here, queried by a child
 * without capabilities. */
bool kernel_wants_cap_bpf(void);

#endif
