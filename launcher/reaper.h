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
 * supervisor has removed the cgroup and removes the rest itself: the reaper only waits for the
 * end of the pipe, then exits. End of file without that byte means the supervisor died: the
 * reaper kills and removes the cgroup, removes the sandbox, writes the audit "end" record
 * (unless an "end recorded" byte said the supervisor had written it), removes the lock file
 * and exits.
 *
 * Its exit also does a last piece of the supervisor's work. Forked after the sandbox was
 * made, it holds copies of the launch's fds, the sandbox directory's among them; the
 * supervisor closes its own after removing the directory and then lets the reaper go, so the
 * last close, which frees the directory on disk (0.1-0.2 ms on ext4), happens in the
 * reaper's exit while the supervisor syncs the audit log. */
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

/* The supervisor has appended the launch's "end" audit record: a reaper that has to clean up
 * after all writes none of its own. */
void reaper_end_recorded(struct reaper *r);

/* The payload's cgroup is gone and the supervisor removes the rest itself: tell the reaper,
 * which will not clean up and waits for reaper_let_go(). */
void reaper_dismiss(struct reaper *r);

/* Close the pipe: a dismissed reaper exits, one not dismissed cleans up. */
void reaper_let_go(struct reaper *r);

/* reaper_let_go(), then wait for the reaper to have exited. */
void reaper_collect(struct reaper *r);
