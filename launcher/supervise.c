#include "supervise.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

void supervise_block_signals(sigset_t *ret_set)
{
        sigemptyset(ret_set);
        for (size_t i = 0; i < sandbox_n_forwarded_signals; i++)
                sigaddset(ret_set, sandbox_forwarded_signals[i]);
        sigprocmask(SIG_BLOCK, ret_set, NULL);
}

int supervise_exit_status(int wait_status)
{
        if (WIFSIGNALED(wait_status))
                return 128 + WTERMSIG(wait_status);
        int code = WEXITSTATUS(wait_status);
        /* 201-204 belong to glexec; a payload using them is reported as 204 (gLExec). */
        if (code >= 201 && code <= 204)
                return 204;
        return code;
}

static double seconds_since(const struct timespec *start)
{
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

static int send_signal(const struct sandbox_proc *p, int sig)
{
        return (int)syscall(SYS_pidfd_send_signal, p->pidfd, sig, NULL, 0);
}

int supervise_run(struct sandbox_proc *p, const sigset_t *set, uint64_t walltime,
                  const struct timespec *start_mono, struct launch_result *res,
                  struct gx_error *err)
{
        int sfd = signalfd(-1, set, SFD_CLOEXEC | SFD_NONBLOCK);
        if (sfd < 0)
                return gx_fail(err, GX_SYSTEM, errno, "signalfd");
        int tfd = -1;
        if (walltime > 0) {
                tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
                struct itimerspec its = {.it_value = {.tv_sec = (time_t)walltime}};
                if (tfd < 0 || timerfd_settime(tfd, 0, &its, NULL) < 0) {
                        close(sfd);
                        if (tfd >= 0)
                                close(tfd);
                        return gx_fail(err, GX_SYSTEM, errno, "wall-time timer");
                }
        }

        bool walltime_killed = false;
        for (;;) {
                struct pollfd fds[3] = {
                        {.fd = p->pidfd, .events = POLLIN},
                        {.fd = sfd, .events = POLLIN},
                        {.fd = tfd, .events = POLLIN},
                };
                if (poll(fds, tfd >= 0 ? 3 : 2, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        break;
                }
                if (fds[0].revents)
                        break;
                if (fds[1].revents) {
                        struct signalfd_siginfo si;
                        while (read(sfd, &si, sizeof(si)) == sizeof(si))
                                send_signal(p, (int)si.ssi_signo);
                }
                if (tfd >= 0 && fds[2].revents) {
                        walltime_killed = true;
                        send_signal(p, SIGKILL);
                        close(tfd);
                        tfd = -1;
                }
        }
        close(sfd);
        if (tfd >= 0)
                close(tfd);

        siginfo_t info = {0};
        while (waitid(P_PIDFD, (id_t)p->pidfd, &info, WEXITED) < 0 && errno == EINTR)
                ;
        res->wall_seconds = seconds_since(start_mono);
        res->walltime_killed = walltime_killed;

        struct sandbox_status st;
        int init_status = info.si_code == CLD_EXITED ? W_EXITCODE(info.si_status, 0)
                                                     : info.si_status & 0x7f;
        if (sandbox_read_status(p, &st) < 0) {
                /* The init died without a report: killed from outside (wall time, or the
                 * pilot's SIGKILL relayed by the kernel). The namespace died with it. */
                if (!walltime_killed && WIFEXITED(init_status))
                        return gx_fail(err, GX_SYSTEM, 0, "the payload's init failed");
                st = (struct sandbox_status){.wait_status = walltime_killed ? SIGKILL
                                                                            : init_status};
        }
        switch (st.failed_stage) {
        case SANDBOX_STAGE_SETUP:
        case SANDBOX_STAGE_PAYLOAD_SETUP:
                return gx_fail(err, GX_SYSTEM, 0, "setting up the payload: %s", st.message);
        case SANDBOX_STAGE_EXEC:
                res->status = st.error == ENOENT ? 127 : 126;
                res->exit_code = res->status;
                res->signal = 0;
                return gx_fail(err, GX_CLIENT, 0, "%s", st.message);
        case SANDBOX_STAGE_NONE:
                break;
        }
        res->status = supervise_exit_status(st.wait_status);
        res->signal = WIFSIGNALED(st.wait_status) ? WTERMSIG(st.wait_status) : 0;
        res->exit_code = WIFEXITED(st.wait_status) ? WEXITSTATUS(st.wait_status) : -1;
        return 0;
}
