/* Command line of SPEC section 3, parsed without any I/O into a plain struct. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "common/error.h"

enum cli_action {
        CLI_RUN,
        CLI_HELP,
        CLI_VERSION,
        CLI_SHOW_BUILD,   /* -V */
        CLI_CHECK_CONFIG, /* --check-config */
        CLI_MAP_ONLY,     /* --map-only, or GLEXEC_MODE=lcmaps_get_account without a command */
        CLI_CLEANUP,      /* --cleanup */
};

#define CLI_MAX_STAGE 64

struct launch_request {
        enum cli_action action;

        /* Requests that may only tighten site limits; 0 = not requested. */
        uint64_t memory;
        uint64_t cpus_milli;
        uint64_t pids;
        uint64_t walltime;

        const char *stage_in[CLI_MAX_STAGE];
        int n_stage_in;
        const char *stage_out[CLI_MAX_STAGE];
        int n_stage_out;

        int report_fd; /* -1 = none */

        /* The payload command: points into the caller's argv. */
        char *const *command;
        int n_command;
};

/* Parse argv. Options end at the first non-option or at "--". glexec_mode is the caller's
 * GLEXEC_MODE (or NULL): "lcmaps_get_account" without a command means --map-only, as old
 * pilots use it. Errors are GX_CLIENT. */
int cli_parse(int argc, char *const *argv, const char *glexec_mode, struct launch_request *ret,
              struct gx_error *err);

void cli_usage(FILE *out);
