// SPDX-License-Identifier: GPL-2.0-only
/* The API's query parameters and routes (see api_route.h). */
#include <errno.h>
#include <string.h>

#include <kvmprof/util.h>
#include "api_route.h"

static int bad(struct api_query *q, const char *why)
{
	if (!q->error)
		q->error = why;
	return -EINVAL;
}

int api_query_arg(struct api_query *q, const char *key, const char *value)
{
	if (!strcmp(key, "refresh")) {
		if (!value || (strcmp(value, "0") && strcmp(value, "1")))
			return bad(q, "bad refresh: 0 or 1");
		q->refresh = value[0] == '1';
		return 0;
	}
	if (!strcmp(key, "cursor")) {
		if (!value || !kp_parse_u64(value, strlen(value), &q->cursor))
			return bad(q, "bad cursor: a non-negative integer");
		q->has_cursor = true;
		return 0;
	}
	if (!strcmp(key, "seconds")) {
		uint64_t v;

		if (!value || !kp_parse_u64(value, strlen(value), &v) || !v ||
		    v > API_PPROF_MAX_S)
			return bad(q, "bad seconds: an integer from 1 to 3600");
		q->seconds = v;
		q->has_seconds = true;
		return 0;
	}
	return bad(q, "unknown query parameter");
}

int api_route_parse(const char *url, const struct api_query *q,
		    struct api_route *r)
{
	const char *ref = url + 8, *sub;
	size_t len;

	r->error = "no such path";
	if (!strcmp(url, "/v1/status"))
		r->target = API_STATUS;
	else if (!strcmp(url, "/v1/vms"))
		r->target = API_VMS;
	else if (strncmp(url, "/v1/vms/", 8))
		return -ENOENT;
	else {
		sub = strchr(ref, '/');
		len = sub ? (size_t)(sub - ref) : strlen(ref);
		if (!len || len > API_MAX_REF) {
			r->error = "bad VM reference";
			return -EINVAL;
		}
		memcpy(r->ref, ref, len);
		r->ref[len] = '\0';
		if (!sub)
			r->target = API_VM;
		else if (!strcmp(sub, "/spe"))
			r->target = API_VM_SPE;
		else if (!strcmp(sub, "/spe/raw"))
			r->target = API_VM_SPE_RAW;
		else if (!strcmp(sub, "/kvm-stats"))
			r->target = API_VM_KVM_STATS;
		else if (!strcmp(sub, "/spe/pprof"))
			r->target = API_VM_SPE_PPROF;
		else
			return -ENOENT;
	}
	if (q->has_cursor && r->target != API_VM_SPE_RAW) {
		r->error = "cursor applies to /v1/vms/{ref}/spe/raw only";
		return -EINVAL;
	}
	if (q->has_seconds && r->target != API_VM_SPE_PPROF) {
		r->error = "seconds applies to /v1/vms/{ref}/spe/pprof only";
		return -EINVAL;
	}
	r->error = NULL;
	return 0;
}
