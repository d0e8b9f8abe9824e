/* Everything known about one launch, filled in phase by phase by main.c and read by the
 * audit record and the report. */
#pragma once

#include <limits.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "cli.h"
#include "config.h"
#include "mapping/identity.h"
#include "privs.h"

#define LAUNCH_ID_LEN 24

/* State captured from the hostile caller before anything else runs. */
struct inherited {
        char **env;
        mode_t umask;
        struct rlimit rlimits[RLIM_NLIMITS];
};

const char *inherited_getenv(const struct inherited *in, const char *name);

struct launch_target {
        char user[64];
        uid_t uid;
        gid_t gid;
        gid_t groups[PRIVS_MAX_GROUPS];
        size_t n_groups;
        char home[PATH_MAX];
};

struct launch_result {
        int status;        /* glexec's own exit status */
        int exit_code;     /* -1 if killed */
        int signal;        /* 0 if exited */
        bool oom_killed;
        bool walltime_killed;
        double wall_seconds;
        double cpu_user_seconds;
        double cpu_system_seconds;
        int64_t memory_peak_bytes; /* -1 unknown */
        int64_t pids_peak;         /* -1 unknown */
};

struct launch {
        char id[LAUNCH_ID_LEN + 1];
        struct timespec start_real;
        struct timespec start_mono;
        char host[256];

        const struct config *cfg;
        struct launch_request req;
        struct caller caller;

        bool have_identity;
        struct gx_identity identity;

        bool have_target;
        struct launch_target target;

        char command_path[PATH_MAX];  /* what is executed: the payload's file with its symlinks
                                       * resolved, or a path relative to the sandbox */
        char command_shown[PATH_MAX]; /* the command as named, made absolute (PATH lookup, or
                                       * the cwd): the report's and audit's command[0] */
        char sandbox[PATH_MAX];      /* empty if none */
        char cgroup[PATH_MAX];       /* empty if none */

        bool have_result;
        struct launch_result result;
};
