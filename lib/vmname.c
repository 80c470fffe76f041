// SPDX-License-Identifier: GPL-2.0-only
/* VMM and VM name from a process' argv, comm and cgroup. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <kvmprof/vmname.h>

static void copy_str(char *dst, size_t len, const char *src, size_t n)
{
	if (n >= len)
		n = len - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

/*
 * Value of option @opt in argv: "--opt X", "--opt=X", "-opt X", "-opt=X"
 * (QEMU accepts both dash spellings).  NULL if absent.
 */
static const char *opt_value(int argc, char *const argv[], const char *opt)
{
	size_t ol = strlen(opt);

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (a[0] != '-')
			continue;
		a += (a[1] == '-') ? 2 : 1;
		if (strncmp(a, opt, ol))
			continue;
		if (a[ol] == '=')
			return a + ol + 1;
		if (a[ol] == '\0' && i + 1 < argc)
			return argv[i + 1];
	}
	return NULL;
}

/* QEMU's -name: "X", "X,process=..", "guest=X,debug-threads=on"; ",," is
 * an escaped comma. */
static void qemu_name(const char *v, char *out, size_t len)
{
	const char *p = v;
	size_t o = 0;
	bool first = true;

	while (*p) {
		const char *tok = p;
		bool is_name;

		/* find the end of this token, honouring ",," */
		while (*p && !(*p == ',' && p[1] != ',')) {
			if (*p == ',' && p[1] == ',')
				p++;
			p++;
		}
		is_name = !strncmp(tok, "guest=", 6) ||
			  (first && !memchr(tok, '=', (size_t)(p - tok)));
		if (is_name) {
			if (!strncmp(tok, "guest=", 6))
				tok += 6;
			for (const char *q = tok; q < p && o + 1 < len; q++) {
				if (*q == ',' && q + 1 < p && q[1] == ',')
					q++;
				out[o++] = *q;
			}
			out[o] = '\0';
			return;
		}
		first = false;
		if (*p == ',')
			p++;
	}
}

/* Unescape systemd unit name escapes (\xNN) of @in into @out. */
static void unit_unescape(const char *in, size_t n, char *out, size_t len)
{
	size_t o = 0;

	for (size_t i = 0; i < n && o + 1 < len; i++) {
		unsigned int c;

		if (in[i] == '\\' && i + 3 < n && in[i + 1] == 'x' &&
		    sscanf(in + i + 2, "%2x", &c) == 1) {
			out[o++] = (char)c;
			i += 3;
		} else {
			out[o++] = in[i];
		}
	}
	out[o] = '\0';
}

/* libvirt: ".../machine-qemu\x2d<N>\x2d<name>.scope/..." */
static bool libvirt_name(const char *cgroup, struct kp_vm_ident *id)
{
	const char *p = cgroup ? strstr(cgroup, "machine-") : NULL;
	const char *end;
	char unit[256], *s;

	if (!p)
		return false;
	end = strstr(p, ".scope");
	if (!end)
		return false;
	p += strlen("machine-");
	unit_unescape(p, (size_t)(end - p), unit, sizeof(unit));
	/* unit is now "<driver>-<N>-<name>" */
	s = strchr(unit, '-');
	if (!s)
		return false;
	*s++ = '\0';
	while (*s >= '0' && *s <= '9')
		s++;
	if (*s != '-' || !s[1])
		return false;
	copy_str(id->vmm, sizeof(id->vmm), unit, strlen(unit));
	copy_str(id->scope_name, sizeof(id->scope_name), s + 1, strlen(s + 1));
	return true;
}

static void socket_name(const char *v, struct kp_vm_ident *id)
{
	const char *b;
	size_t n;

	/* cloud-hypervisor accepts "path=/x/y.sock,fd=.." as well */
	if (!strncmp(v, "path=", 5))
		v += 5;
	b = base_name(v);
	n = strcspn(b, ",");
	if (n > 5 && !strncmp(b + n - 5, ".sock", 5))
		n -= 5;
	copy_str(id->name, sizeof(id->name), b, n);
}

void kp_vm_identify(int argc, char *const argv[], const char *comm,
		    const char *cgroup, struct kp_vm_ident *ret_id)
{
	const char *prog = argc > 0 ? base_name(argv[0]) : "";
	const char *v;

	memset(ret_id, 0, sizeof(*ret_id));
	copy_str(ret_id->name, sizeof(ret_id->name), comm ? comm : "",
		 comm ? strlen(comm) : 0);
	strcpy(ret_id->vmm, "unknown");

	if (!strncmp(prog, "qemu", 4) || (comm && !strncmp(comm, "qemu", 4))) {
		strcpy(ret_id->vmm, "qemu");
		v = opt_value(argc, argv, "uuid");
		if (v)
			copy_str(ret_id->uuid, sizeof(ret_id->uuid), v,
				 strlen(v));
		/* the scope name is sanitised (characters dropped, capped):
		 * QEMU's own -name wins, the scope name is kept beside it */
		if (libvirt_name(cgroup, ret_id))
			strcpy(ret_id->name, ret_id->scope_name);
		v = opt_value(argc, argv, "name");
		if (v)
			qemu_name(v, ret_id->name, sizeof(ret_id->name));
		return;
	}
	if (libvirt_name(cgroup, ret_id)) {
		strcpy(ret_id->name, ret_id->scope_name);
		return;
	}
	if (!strcmp(prog, "lkvm") || !strcmp(prog, "kvmtool") ||
	    !strcmp(prog, "lkvm-static")) {
		strcpy(ret_id->vmm, "kvmtool");
		v = opt_value(argc, argv, "name");
		if (v)
			copy_str(ret_id->name, sizeof(ret_id->name), v,
				 strlen(v));
		return;
	}
	if (!strcmp(prog, "firecracker")) {
		strcpy(ret_id->vmm, "firecracker");
		v = opt_value(argc, argv, "id");
		if (v)
			copy_str(ret_id->name, sizeof(ret_id->name), v,
				 strlen(v));
		return;
	}
	if (!strcmp(prog, "cloud-hypervisor")) {
		strcpy(ret_id->vmm, "cloud-hypervisor");
		v = opt_value(argc, argv, "api-socket");
		if (v)
			socket_name(v, ret_id);
		return;
	}
	if (!strcmp(prog, "crosvm")) {
		strcpy(ret_id->vmm, "crosvm");
		v = opt_value(argc, argv, "socket");
		if (v)
			socket_name(v, ret_id);
		return;
	}
	if (!strcmp(prog, "kvmguest"))
		strcpy(ret_id->vmm, "kvmguest");
	v = opt_value(argc, argv, "name");
	if (v)
		copy_str(ret_id->name, sizeof(ret_id->name), v, strlen(v));
}

int kp_split_cmdline(char *buf, size_t len, char **argv, int max)
{
	int n = 0;
	size_t i = 0;

	while (i < len && n < max) {
		argv[n++] = buf + i;
		i += strnlen(buf + i, len - i) + 1;
	}
	return n;
}
