/* The launcher's log: syslog or a root-owned file, gLExec's 0-5 level scale, and the one
 * `glexec: ...` line on stderr for the caller. */
#pragma once

#include "common/error.h"
#include "config.h"

enum log_level {
        LOG_LVL_FATAL = 1,
        LOG_LVL_WARNING = 2,
        LOG_LVL_NOTICE = 3,
        LOG_LVL_INFO = 4,
        LOG_LVL_DEBUG = 5,
};

/* Before the configuration is read, messages go to syslog at the default level. */
void log_setup(const struct config *cfg);

/* Messages must already be escaped where they carry caller strings (gx_escape). */
void log_msg(enum log_level level, const char *fmt, ...) _printf_(2, 3);

/* The classic accounting line under the ident "glexec.mon" that existing probes parse. */
void log_mon(const char *fmt, ...) _printf_(1, 2);

/* Tell the caller, in one line. */
void log_stderr(const char *fmt, ...) _printf_(1, 2);
