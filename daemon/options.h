/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * kvmprofd's command line, built from the configuration keys (config.h):
 * every key is a long option of the same name (a flag for booleans), plus
 * --config, --print-config, --load-unavailable, --help and --version.
 */
#ifndef KVMPROFD_OPTIONS_H
#define KVMPROFD_OPTIONS_H

#include "config.h"

/*
 * Defaults, then the configuration file, then the command line into @c.
 * 0, 1 for --print-config, or -errno with the message in @err (file
 * errors; err->file is empty when the message was printed already).
 * --help and --version print and exit.
 */
int options_load(int argc, char **argv, struct config *c,
		 struct config_error *err);

#endif
