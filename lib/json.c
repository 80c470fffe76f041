// SPDX-License-Identifier: GPL-2.0-only
/* Exact 64-bit counters in JSON (see kvmprof/json.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kvmprof/json.h>
#include <kvmprof/util.h>

/* Integers up to this are exact in a double. */
#define EXACT_MAX (1ull << 53)

cJSON *kp_json_add_u64(cJSON *o, const char *k, uint64_t v)
{
	char buf[24];
	cJSON *it;

	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	it = cJSON_CreateRaw(buf);
	if (it && !cJSON_AddItemToObject(o, k, it)) {
		cJSON_Delete(it);
		return NULL;
	}
	return it;
}

bool kp_json_u64(const cJSON *it, uint64_t *v)
{
	if (cJSON_IsRaw(it) && it->valuestring)
		return kp_parse_u64(it->valuestring, strlen(it->valuestring),
				    v);
	if (!cJSON_IsNumber(it) || !(it->valuedouble >= 0) ||
	    it->valuedouble >= 18446744073709551616.0)
		return false;
	*v = (uint64_t)it->valuedouble;
	return true;
}

/* Item @it (a number or raw) becomes raw text @v, in place. */
static bool set_raw(cJSON *it, uint64_t v)
{
	char buf[24];
	cJSON *raw;

	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	raw = cJSON_CreateRaw(buf);
	if (!raw)
		return false;
	if (cJSON_IsRaw(it))
		cJSON_free(it->valuestring);
	it->type = cJSON_Raw;
	it->valuestring = raw->valuestring;
	raw->valuestring = NULL;
	cJSON_Delete(raw);
	return true;
}

bool kp_json_inc_u64(cJSON *o, const char *k, uint64_t v)
{
	cJSON *it = cJSON_GetObjectItemCaseSensitive(o, k);
	uint64_t cur = 0;

	if (!it)
		return kp_json_add_u64(o, k, v) != NULL;
	kp_json_u64(it, &cur);
	return set_raw(it, cur + v);
}

/* The next number token of @s[*pos..len) outside strings: its bounds. */
static bool next_number(const char *s, size_t len, size_t *pos,
			const char **tok, size_t *n)
{
	size_t i = *pos, b;

	while (i < len) {
		char ch = s[i];

		if (ch == '"') {
			for (i++; i < len && s[i] != '"'; i++)
				if (s[i] == '\\')
					i++;
			i++;
		} else if (ch == '-' || (ch >= '0' && ch <= '9')) {
			b = i;
			while (i < len && strchr("+-.eE0123456789", s[i]) &&
			       s[i])
				i++;
			*tok = s + b;
			*n = i - b;
			*pos = i;
			return true;
		} else {
			i++;
		}
	}
	*pos = i;
	return false;
}

/* Numbers of @it's tree in document order, as the text spells them. */
static void exact_numbers(cJSON *it, const char *s, size_t len, size_t *pos)
{
	for (; it; it = it->next) {
		const char *tok;
		uint64_t v;
		size_t n;

		if (it->child)
			exact_numbers(it->child, s, len, pos);
		if (!cJSON_IsNumber(it) || !next_number(s, len, pos, &tok, &n))
			continue;
		if (kp_parse_u64(tok, n, &v) && v > EXACT_MAX)
			set_raw(it, v);
	}
}

cJSON *kp_json_parse(const char *text, size_t len)
{
	cJSON *o = cJSON_ParseWithLength(text, len);
	size_t pos = 0;

	if (o)
		exact_numbers(o, text, len, &pos);
	return o;
}
