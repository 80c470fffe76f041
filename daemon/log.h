/* SPDX-License-Identifier: GPL-2.0-only */
/* Daemon logging: used by the top level (kvmprofd.c) only. */
#ifndef KVMPROFD_LOG_H
#define KVMPROFD_LOG_H

#include <stdarg.h>
#include <syslog.h>

extern int log_max_level;	/* LOG_ERR .. LOG_DEBUG */

void log_msg(int level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void log_vmsg(int level, const char *fmt, va_list ap);

#define log_err(...) log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARNING, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
