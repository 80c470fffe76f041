/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The end-to-end tests that drive kvmprofd's probes through
 * BPF_PROG_TEST_RUN (test_e2e_spe, test_e2e_counters): one daemon per
 * test program, its programs loaded without attaching.
 */
#ifndef KP_TEST_PROBES_E2E_H
#define KP_TEST_PROBES_E2E_H

#include <stddef.h>
#include <stdint.h>

#include "harness.h"

struct CMUnitTest;

/* The daemon (--load-unavailable); its programs' ids are above min_id. */
extern struct kpd kpd;
extern uint32_t min_id;

/* Runs @tests around that daemon; SKIP_EXIT (@name and why printed) where
 * BPF is missing. */
int probes_e2e_main(const char *name, const struct CMUnitTest *tests, size_t n);

#endif
