/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Exact 64-bit counters in JSON.  cJSON keeps numbers as doubles, exact
 * only up to 2^53 (a vCPU's halt nanoseconds pass that in ~104 days), so
 * counters are written as raw integer text and read back through
 * kp_json_parse(), which keeps integers above 2^53 as that text.
 */
#ifndef KVMPROF_JSON_H
#define KVMPROF_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

/* "k": v, exact; the item, NULL on ENOMEM. */
cJSON *kp_json_add_u64(cJSON *o, const char *k, uint64_t v);
/* Item "k" of @o += @v (added at @v if absent); false on ENOMEM. */
bool kp_json_inc_u64(cJSON *o, const char *k, uint64_t v);
/* A non-negative integer item (number or raw text); false otherwise. */
bool kp_json_u64(const cJSON *it, uint64_t *v);
/* cJSON_ParseWithLength, keeping integers above 2^53 exact (raw items). */
cJSON *kp_json_parse(const char *text, size_t len);

#endif
