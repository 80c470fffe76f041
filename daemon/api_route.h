/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The API's request path without the HTTP server (api_route.c): query
 * parameters and URL routing, pure functions (also driven by the fuzzer,
 * fuzz/api_fuzz.c).
 */
#ifndef KVMPROFD_API_ROUTE_H
#define KVMPROFD_API_ROUTE_H

#include <stdbool.h>
#include <stdint.h>

#define API_MAX_REF 128

/* The query parameters of a request. */
struct api_query {
	bool refresh;	 /* ?refresh=1 (0 or 1) */
	bool has_cursor; /* ?cursor=N (spe/raw only) */
	uint64_t cursor;
	bool has_seconds; /* ?seconds=N (spe/pprof only) */
	uint32_t seconds;
	const char *error; /* the first bad parameter, why */
};

/*
 * Parameter @key=@value (@value NULL: no '=') into @q: 0, or -EINVAL with
 * q->error set (unknown key, malformed value).
 */
int api_query_arg(struct api_query *q, const char *key, const char *value);

enum api_target {
	API_STATUS,
	API_VMS,
	API_VM,
	API_VM_SPE,
	API_VM_SPE_RAW,
	API_VM_KVM_STATS,
	API_VM_SPE_PPROF,
};

/* spe/pprof's window: seconds=N, 1 to this (default API_PPROF_DEFAULT_S) */
#define API_PPROF_MAX_S 3600
#define API_PPROF_DEFAULT_S 30

struct api_route {
	enum api_target target;
	char ref[API_MAX_REF + 1]; /* the VM reference of API_VM* */
	const char *error;
};

/*
 * @url with query @q as a route: 0; -ENOENT (404: no such path) or
 * -EINVAL (400: bad VM reference, parameter not for this path), with
 * r->error set.
 */
int api_route_parse(const char *url, const struct api_query *q,
		    struct api_route *r);

#endif
