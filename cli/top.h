/* SPDX-License-Identifier: GPL-2.0-only */
/* kvmprof top (cli/top.c: data and refresh; cli/top_screen.c: screen and
 * keys). */
#ifndef KVMPROF_CLI_TOP_H
#define KVMPROF_CLI_TOP_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cli.h"

#define NCOLS 13
#define KEYLEN 72
#define MAX_REASONS 512

enum { V_VMS, V_VCPUS };

struct col {
	const char *head; /* table header; '>' right-aligns */
	const char *name; /* --sort name */
	int total;	  /* a rate: index of its total column; else -1 */
	bool text;
	bool exits; /* guest exits: "silent" where kvm_exit is */
	/* STEAL%: the share of the vCPUs' runnable time (run + delay) since
	 * the previous refresh spent waiting for a host CPU, in rate[]; -1
	 * when they were not runnable */
	bool steal;
};

struct top_view {
	const struct col *cols;
	int n;
};

/* [V_VMS], [V_VCPUS] */
extern const struct top_view top_views[];

struct row {
	char key[KEYLEN]; /* VM id; "c:<vcpu>"; "x:"/"u:" + reason */
	char text[NCOLS][64];
	uint64_t n[NCOLS]; /* totals (and pid, vCPUs) */
	double rate[NCOLS];
	uint64_t run_ns, delay_ns; /* sched.run_ns, sched.delay_ns totals */
};

struct top {
	struct cli_ctx *ctx;
	double interval;
	bool tty;
	int view;
	int sort[2];
	bool asc[2];
	char filter[64];
	bool editing;
	char edit[64];
	char vm[KEYLEN]; /* the drilled-into VM (id, or --vm's ref) */
	char vm_title[160];
	char sel[KEYLEN]; /* selected VM id */
	bool silent;	  /* kvm_exit attached but silent */
	struct row *rows, *reasons, *prev;
	size_t nrows, nreasons, nprev;
	double prev_t;
	char note[160];
};

/* set by a signal or the q key: top ends */
extern volatile sig_atomic_t top_stop;

/* Forget the previous refresh (another view: no rates from it). */
void top_forget_prev(struct top *t);
/* The current view, from the last refresh (t->rows, t->reasons). */
void top_draw(struct top *t);
/* Read and act on the keys waiting; true to refresh now. */
bool top_keys(struct top *t);

#endif
