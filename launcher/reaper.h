/* The launch's reaper: a tiny root process that outlives a killed supervisor and removes
 * what the launch owned.
 *
 * Why: under a batch system the supervisor can be SIGKILLed with no warning (scancel of a
 * job whose shell started glexec, reference/slurm.md section 3). The payload dies with it
 * (the init's parent-death signal), but its cgroup, sandbox directory and lock would stay, and
 * a leftover cgroup blocks the batch system's own cleanup.
 *
 * How: forked by the supervisor once the cgroup and sandbox exist (and after the credential
 * was wiped from memory), it is placed outside the cgroup a batch system kills the job by,
 * leaves the job's session, becomes root in all its ids (so the caller can no longer signal
 * it), drops stdio and the report fd, and blocks on a pipe whose only writer is the
 * supervisor. It takes no input from the caller and executes nothing. A "done" byte means the
 * supervisor has removed the cgroup and removes the rest itself: the reaper exits. End of file means the supervisor died: the
 * reaper kills and removes the cgroup, removes the sandbox, writes the audit "end" record,
 * removes the lock file and
 * exits. */
#pragma once

#include <sys/types.h>

#include "common/error.h"
#include "launch.h"

struct cg;

struct reaper {
        pid_t pid;
        int pipe_fd; /* the supervisor's write end */
};

int reaper_start(const struct launch *l, int base_fd, struct cg *cg, struct reaper *ret,
                 struct gx_error *err);

/* The payload's cgroup is gone and the supervisor removes the rest itself: tell the reaper,
 * which exits while the supervisor works on. */
void reaper_dismiss(struct reaper *r);

/* Wait for a dismissed reaper to have exited. */
void reaper_collect(struct reaper *r);
