/* Start a payload in fresh user, mount and PID namespaces under a tiny init.
 *
 * Process model (DESIGN.md):
 *   supervisor (glexec)            writes the id maps, then waits on a pidfd of the init
 *     └─ init (PID 1 of the new PID namespace)
 *          mounts, switches to the target ids, drops every capability, sets pdeathsig,
 *          forwards relayed signals, reaps orphans, reports the payload's wait status
 *          └─ payload: new session, cwd = sandbox, fds closed, no_new_privs, seccomp, execve
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

#include "common/error.h"

struct sc_filter;
struct cg;

struct sandbox_spec {
        unsigned extra_clone_flags; /* CLONE_NEWIPC, CLONE_NEWUTS, CLONE_NEWNET */
        /* The supervisor is root in the initial user namespace and may map any ids; if not,
         * only the caller's own uid and gid can be mapped and setgroups is denied. */
        bool privileged;

        uid_t uid;
        gid_t gid;
        const gid_t *groups;
        size_t n_groups;

        int sandbox_fd;              /* the payload's directory; -1 for none */
        const char *sandbox_path;    /* its path, the payload's cwd */
        const char *sandbox_base;    /* hidden, except sandbox_path; NULL for none */
        bool private_tmp;
        uint64_t tmp_size;
        char *const *hide_paths;
        /* The pilot's own credential files (NULL-terminated), hidden where the payload could
         * reach them and they are regular files of caller_uid's. */
        const char *const *caller_files;
        uid_t caller_uid;

        const struct sc_filter *filter; /* NULL: no seccomp filter (tests only) */

        const char *exec_path;
        char *const *argv;
        char *const *envp;
        const struct rlimit *rlimits; /* RLIM_NLIMITS entries restored for the payload, or NULL */

        /* The payload cgroup, or NULL. The init is in it before it runs any code of its own:
         * born inside on v2 (CLONE_INTO_CGROUP), attached while it waits on v1. */
        const struct cg *cgroup;
};

struct sandbox_proc {
        pid_t pid;      /* the init, as seen from the supervisor */
        int pidfd;
        int status_fd;  /* the init writes a struct sandbox_status here */
        int alive_fd;   /* kept open by the supervisor; its closing tells the init to die */
};

enum sandbox_stage {
        SANDBOX_STAGE_NONE = 0,
        SANDBOX_STAGE_SETUP,  /* mounts, ids, capabilities in the init */
        SANDBOX_STAGE_PAYLOAD_SETUP,
        SANDBOX_STAGE_EXEC,
};

/* What the init reports when the payload is gone. */
struct sandbox_status {
        int wait_status;            /* of the payload, as from waitpid */
        enum sandbox_stage failed_stage;
        int error;                  /* errno of the failure */
        char message[256];
};

/* Clone the namespace init and let it set the sandbox up. The init then waits, without
 * starting the payload, until sandbox_release; the supervisor can finish other work (the
 * audit log's sync) meanwhile, or give up with sandbox_abort. */
int sandbox_start(const struct sandbox_spec *spec, struct sandbox_proc *ret, struct gx_error *err);

/* Let the init start the payload. */
int sandbox_release(const struct sandbox_proc *p, struct gx_error *err);

/* Kill the init before it started the payload, wait for it, and close p. */
void sandbox_abort(struct sandbox_proc *p);

/* After the init has exited: read its report. Returns -EIO if it died without one. */
int sandbox_read_status(const struct sandbox_proc *p, struct sandbox_status *ret);

void sandbox_proc_close(struct sandbox_proc *p);

/* The signals the supervisor relays to the payload (through the init). */
extern const int sandbox_forwarded_signals[];
extern const size_t sandbox_n_forwarded_signals;
