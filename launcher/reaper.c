#include "reaper.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "audit.h"
#include "lock.h"
#include "log.h"
#include "sandbox/cgroup.h"
#include "sandbox/stage.h"

/* What the supervisor tells the reaper through the pipe, one byte each. */
#define REAPER_END_RECORDED 'e'
#define REAPER_DISMISSED 'd'

static _noreturn_ void reaper_main(const struct launch *l, int base_fd, struct cg *cg,
                                   int pipe_fd)
{
        struct gx_error err = {0};

        prctl(PR_SET_NAME, "glexec-reaper", 0, 0, 0);
        /* Root in all ids: the caller (our real uid until now) can no longer signal us. */
        if (geteuid() == 0 && setresuid(0, 0, 0) < 0)
                _exit(1);
        setsid();
        struct sigaction ign = {.sa_handler = SIG_IGN};
        for (int sig = 1; sig < NSIG; sig++)
                if (sig != SIGKILL && sig != SIGSTOP && sig != SIGCHLD)
                        sigaction(sig, &ign, NULL);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);

        /* The caller's stdio and report fd must not be held open by us: a pilot waiting for
         * end of file would wait for the reaper too. */
        int null = open("/dev/null", O_RDWR | O_CLOEXEC);
        for (int fd = 0; fd <= 2 && null >= 0; fd++)
                dup2(null, fd);
        if (null > 2)
                close(null);
        if (l->req.report_fd >= 0)
                close(l->req.report_fd);

        bool end_recorded = false;
        char c;
        ssize_t n;
        for (;;) {
                n = read(pipe_fd, &c, 1);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n != 1 || c == REAPER_DISMISSED)
                        break;
                end_recorded = c == REAPER_END_RECORDED;
        }
        if (n == 1) {
                /* Dismissed: nothing to clean up. Our copies of the launch's fds are the last
                 * ones once the supervisor has closed its own, so our exit, at the end of the
                 * file, is what frees the removed sandbox directory (reaper.h). */
                while ((n = read(pipe_fd, &c, 1)) > 0 || (n < 0 && errno == EINTR))
                        ;
                _exit(0);
        }

        /* First out of the job's cgroups: the batch system is about to remove them. */
        cg_move_self_to_root();
        log_msg(LOG_LVL_WARNING, "%s: glexec ended without cleaning up; its reaper does", l->id);
        if (cg && cg_destroy(cg, &err) < 0)
                log_msg(LOG_LVL_WARNING, "%s: reaper: %s", l->id, err.msg);
        if (!l->cfg->keep_sandbox && stage_remove(base_fd, l->id, &err) < 0)
                log_msg(LOG_LVL_WARNING, "%s: reaper: %s", l->id, err.msg);
        if (!end_recorded &&
            audit_write(l, "end", "glexec was killed; its reaper removed the payload's resources",
                        &err) < 0)
                log_msg(LOG_LVL_FATAL, "%s: audit end record lost: %s", l->id, err.msg);
        lock_remove(base_fd, l->id);
        _exit(0);
}

int reaper_start(const struct launch *l, int base_fd, struct cg *cg, struct reaper *ret,
                 struct gx_error *err)
{
        int p[2];
        if (pipe2(p, O_CLOEXEC) < 0)
                return gx_fail(err, GX_SYSTEM, errno, "reaper pipe");
        pid_t pid = cg_fork_outside_job(err);
        if (pid < 0) {
                log_msg(LOG_LVL_WARNING, "%s: the reaper stays in the job's cgroup: %s", l->id,
                        err->msg);
                pid = fork();
        }
        if (pid < 0) {
                int e = errno;
                close(p[0]);
                close(p[1]);
                return gx_fail(err, GX_SYSTEM, e, "starting the reaper");
        }
        if (pid == 0) {
                close(p[1]);
                reaper_main(l, base_fd, cg, p[0]);
        }
        close(p[0]);
        *ret = (struct reaper){.pid = pid, .pipe_fd = p[1]};
        return 0;
}

static void tell(struct reaper *r, char what)
{
        if (r->pipe_fd >= 0)
                (void)!write(r->pipe_fd, &what, 1);
}

void reaper_end_recorded(struct reaper *r)
{
        tell(r, REAPER_END_RECORDED);
}

void reaper_dismiss(struct reaper *r)
{
        tell(r, REAPER_DISMISSED);
}

void reaper_let_go(struct reaper *r)
{
        r->pipe_fd = safe_close(r->pipe_fd);
}

void reaper_collect(struct reaper *r)
{
        reaper_let_go(r);
        if (r->pid <= 0)
                return;
        while (waitpid(r->pid, NULL, 0) < 0 && errno == EINTR)
                ;
        r->pid = 0;
}
