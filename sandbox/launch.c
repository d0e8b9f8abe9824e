#include "sandbox/launch.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/fsuid.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/fdutil.h"
#include "common/strutil.h"
#include "common/trace.h"
#include "sandbox/cgroup.h"
#include "sandbox/ids.h"
#include "sandbox/seccomp.h"

#ifndef PROC_SUPER_MAGIC
#define PROC_SUPER_MAGIC 0x9fa0
#endif

const int sandbox_forwarded_signals[] = {SIGTERM, SIGINT,  SIGHUP,  SIGQUIT, SIGUSR1,
                                         SIGUSR2, SIGALRM, SIGCONT, SIGTSTP};
const size_t sandbox_n_forwarded_signals = ELEMENTSOF(sandbox_forwarded_signals);

/* ---- supervisor side ---------------------------------------------------------------- */

static int write_proc_file(pid_t pid, const char *name, const char *text, struct gx_error *err)
{
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, name);
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return gx_fail(err, GX_SYSTEM, errno, "opening %s", path);
        /* Writes meant for procfs must land in procfs (runc CVE-2019-19921). */
        struct statfs sfs;
        if (fstatfs(fd, &sfs) < 0 || sfs.f_type != PROC_SUPER_MAGIC)
                return gx_fail(err, GX_SYSTEM, 0, "%s is not on procfs", path);
        if (write(fd, text, strlen(text)) != (ssize_t)strlen(text))
                return gx_fail(err, GX_SYSTEM, errno, "writing %s", path);
        return 0;
}

/* Identity maps: the host sees the real ids, so accounting and ps stay truthful. Only the
 * target's uid, gid and supplementary gids exist inside; uid 0 is unmapped. */
static int write_id_maps(pid_t pid, const struct sandbox_spec *s, struct gx_error *err)
{
        char map[8192];
        size_t o;
        int r;

        snprintf(map, sizeof(map), "%u %u 1\n", (unsigned)s->uid, (unsigned)s->uid);
        r = write_proc_file(pid, "uid_map", map, err);
        if (r < 0)
                return r;

        if (!s->privileged) {
                /* An unprivileged writer may only map its own gid, after denying setgroups
                 * (CVE-2014-8989). */
                r = write_proc_file(pid, "setgroups", "deny", err);
                if (r < 0)
                        return r;
        }
        o = (size_t)snprintf(map, sizeof(map), "%u %u 1\n", (unsigned)s->gid, (unsigned)s->gid);
        for (size_t i = 0; s->privileged && i < s->n_groups; i++) {
                bool dup = s->groups[i] == s->gid;
                for (size_t j = 0; j < i && !dup; j++)
                        dup = s->groups[j] == s->groups[i];
                if (dup)
                        continue;
                if (o + 32 >= sizeof(map))
                        return gx_fail(err, GX_SYSTEM, E2BIG, "too many groups to map");
                o += (size_t)snprintf(map + o, sizeof(map) - o, "%u %u 1\n",
                                      (unsigned)s->groups[i], (unsigned)s->groups[i]);
        }
        return write_proc_file(pid, "gid_map", map, err);
}

/* clone3 gives us a pidfd and, on cgroup v2, CLONE_INTO_CGROUP: the child starts inside its
 * cgroup without a migration (through cgroup.procs one costs 7-15 ms after an idle period,
 * reference/launch-costs.md; elsewhere the init moves itself, cg_attach_self). Used like
 * fork(): no new stack. */
static pid_t clone_init(const struct sandbox_spec *s, bool *ret_in_cgroup, int *ret_pidfd)
{
        int pidfd = -1;
        int cgroup_fd = s->cgroup ? cg_clone_fd(s->cgroup) : -1;
        struct clone_args args = {
                .flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_PIDFD |
                         s->extra_clone_flags,
                .pidfd = (uint64_t)(uintptr_t)&pidfd,
                .exit_signal = SIGCHLD,
        };
        if (cgroup_fd >= 0) {
                args.flags |= CLONE_INTO_CGROUP;
                args.cgroup = (uint64_t)cgroup_fd;
        }
        long pid = syscall(SYS_clone3, &args, sizeof(args));
        if (pid < 0 && cgroup_fd >= 0 && (errno == EINVAL || errno == E2BIG)) {
                /* 5.3-5.6 know clone3 but not CLONE_INTO_CGROUP: attach afterwards. */
                args.flags &= ~(uint64_t)CLONE_INTO_CGROUP;
                args.cgroup = 0;
                cgroup_fd = -1;
                pid = syscall(SYS_clone3, &args, sizeof(args));
        }
        if (pid > 0)
                *ret_pidfd = pidfd;
        *ret_in_cgroup = cgroup_fd >= 0;
        return (pid_t)pid;
}

/* ---- init side ----------------------------------------------------------------------- */

static _noreturn_ void init_report(int status_fd, enum sandbox_stage stage,
                                   const struct gx_error *err)
{
        struct sandbox_status st = {.failed_stage = stage, .error = err->errnum};
        gx_strlcpy(st.message, err->msg, sizeof(st.message));
        gx_write_full(status_fd, &st, sizeof(st));
        _exit(1);
}

static int open_path(const char *path, int flags, struct gx_error *err)
{
        int fd = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC | flags);
        if (fd < 0)
                return gx_fail(err, GX_SYSTEM, errno, "opening %s", path);
        return fd;
}

/* Mount onto an fd through its /proc/self/fd magic link, never onto a path string that could
 * be re-resolved after a symlink swap (crun CVE-2019-18837, runc CVE-2021-30465). */
static int mount_on_fd(const char *source, int target_fd, const char *fstype,
                       unsigned long flags, const char *data, const char *what,
                       struct gx_error *err)
{
        char target[64];
        snprintf(target, sizeof(target), "/proc/self/fd/%d", target_fd);
        if (mount(source, target, fstype, flags, data) < 0)
                return gx_fail(err, GX_SYSTEM, errno, "mounting %s", what);
        return 0;
}

static int mount_tmpfs_at(const char *path, uint64_t size, bool optional, struct gx_error *err)
{
        int fd = open(path, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) {
                if (optional && errno == ENOENT)
                        return 0;
                return gx_fail(err, GX_SYSTEM, errno, "opening %s", path);
        }
        char data[64];
        snprintf(data, sizeof(data), "mode=1777,size=%llu", (unsigned long long)size);
        int r = mount_on_fd("tmpfs", fd, "tmpfs", MS_NOSUID | MS_NODEV, data, path, err);
        close(fd);
        return r;
}

static int hide_path(const char *path, struct gx_error *err)
{
        int fd = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT ? 0 : gx_fail(err, GX_SYSTEM, errno, "opening %s", path);
        struct stat st;
        int r;
        if (fstat(fd, &st) < 0)
                r = gx_fail(err, GX_SYSTEM, errno, "%s", path);
        else if (S_ISDIR(st.st_mode))
                r = mount_on_fd("tmpfs", fd, "tmpfs",
                                MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                                "mode=000,size=4k,nr_inodes=1", path, err);
        else
                r = mount_on_fd("/dev/null", fd, NULL, MS_BIND, NULL, path, err);
        close(fd);
        return r;
}

/* A file the pilot named (its own proxy, the payload owner's credential it was handed) is
 * out of the payload's reach even where the payload runs with the pilot's uid (declare-only):
 * opened with the payload's ids, it is covered if the payload could have reached it and it is
 * still a regular file of the caller's; anything else is not the caller's credential, or not
 * reachable, and left alone. */
static int hide_caller_file(const struct sandbox_spec *s, const char *path, struct gx_error *err)
{
        setfsgid(s->gid);
        setfsuid(s->uid);
        int fd = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return 0;
        struct stat st;
        int r = 0;
        if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == s->caller_uid)
                r = mount_on_fd("/dev/null", fd, NULL, MS_BIND, NULL, path, err);
        close(fd);
        return r;
}

/* Cover the sandbox base with an empty tmpfs and bind only this payload's own directory back
 * at its usual path: payloads that share a uid (site-isolation) cannot reach each other. */
static int isolate_sandbox(const struct sandbox_spec *s, struct gx_error *err)
{
        const char *name = strrchr(s->sandbox_path, '/');
        if (!name || !name[1])
                return gx_fail(err, GX_SYSTEM, EINVAL, "sandbox path %s", s->sandbox_path);
        name++;

        /* The supervisor's fd of the sandbox belongs to a mount of the old namespace, which
         * cannot be bind-mounted here (EINVAL): open it again by name in this namespace and
         * check it is the same directory. */
        _cleanup_close_ int own_fd = open_path(s->sandbox_path, O_DIRECTORY, err);
        if (own_fd < 0)
                return own_fd;
        struct stat want, got;
        if (fstat(s->sandbox_fd, &want) < 0 || fstat(own_fd, &got) < 0 ||
            want.st_dev != got.st_dev || want.st_ino != got.st_ino)
                return gx_fail(err, GX_SYSTEM, 0, "the sandbox %s was replaced", s->sandbox_path);
        _cleanup_close_ int base_fd = open_path(s->sandbox_base, O_DIRECTORY, err);
        if (base_fd < 0)
                return base_fd;
        /* The tmpfs root belongs to the target while we add the mount point: we still run
         * with the supervisor's ids, which are unmapped here, and the kernel cannot create an
         * inode owned by an unmapped id (EOVERFLOW). It is made read-only right after. */
        char data[96];
        snprintf(data, sizeof(data), "mode=0755,size=16k,nr_inodes=16,uid=%u,gid=%u",
                 (unsigned)s->uid, (unsigned)s->gid);
        const unsigned long flags = MS_NOSUID | MS_NODEV | MS_NOEXEC;
        int r = mount_on_fd("tmpfs", base_fd, "tmpfs", flags, data, s->sandbox_base, err);
        if (r < 0)
                return r;
        _cleanup_close_ int tmpfs_fd = open(s->sandbox_base,
                                            O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (tmpfs_fd < 0)
                return gx_fail(err, GX_SYSTEM, errno, "reopening %s", s->sandbox_base);
        setfsgid(s->gid);
        setfsuid(s->uid);
        int mk = mkdirat(tmpfs_fd, name, 0700);
        int mk_errno = errno;
        setfsuid(0);
        setfsgid(0);
        if (mk < 0)
                return gx_fail(err, GX_SYSTEM, mk_errno, "creating the sandbox mount point");
        _cleanup_close_ int point_fd = openat(tmpfs_fd, name,
                                              O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (point_fd < 0)
                return gx_fail(err, GX_SYSTEM, errno, "opening the sandbox mount point");
        char source[64];
        snprintf(source, sizeof(source), "/proc/self/fd/%d", own_fd);
        r = mount_on_fd(source, point_fd, NULL, MS_BIND | MS_REC, NULL, s->sandbox_path, err);
        if (r < 0)
                return r;
        /* Nothing may be added next to the payload's own directory. */
        return mount_on_fd(NULL, tmpfs_fd, NULL, MS_REMOUNT | MS_RDONLY | flags, data,
                           s->sandbox_base, err);
}

static int bring_up_loopback(struct gx_error *err)
{
        _cleanup_close_ int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (sock < 0)
                return gx_fail(err, GX_SYSTEM, errno, "socket for loopback");
        struct ifreq ifr = {0};
        gx_strlcpy(ifr.ifr_name, "lo", sizeof(ifr.ifr_name));
        if (ioctl(sock, SIOCGIFFLAGS, &ifr) < 0)
                return gx_fail(err, GX_SYSTEM, errno, "reading loopback flags");
        ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
        if (ioctl(sock, SIOCSIFFLAGS, &ifr) < 0)
                return gx_fail(err, GX_SYSTEM, errno, "bringing up loopback");
        return 0;
}

static int setup_mounts(const struct sandbox_spec *s, struct gx_error *err)
{
        /* Nothing we mount may propagate back to the host (Singularity CVE-2018-19295). */
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                return gx_fail(err, GX_SYSTEM, errno, "making mounts private");

        /* A /proc of the new PID namespace: the payload sees only its own processes. */
        _cleanup_close_ int proc_fd = open_path("/proc", O_DIRECTORY, err);
        if (proc_fd < 0)
                return proc_fd;
        int r = mount_on_fd("proc", proc_fd, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL,
                            "/proc", err);
        if (r < 0)
                return r;

        if (s->private_tmp) {
                r = mount_tmpfs_at("/tmp", s->tmp_size, false, err);
                if (r == 0)
                        r = mount_tmpfs_at("/var/tmp", s->tmp_size, true, err);
                if (r < 0)
                        return r;
        }
        if (s->sandbox_base && s->sandbox_fd >= 0) {
                r = isolate_sandbox(s, err);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; s->hide_paths && s->hide_paths[i]; i++) {
                r = hide_path(s->hide_paths[i], err);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; s->caller_files && s->caller_files[i]; i++) {
                r = hide_caller_file(s, s->caller_files[i], err);
                if (r < 0)
                        return r;
        }
        if (s->extra_clone_flags & CLONE_NEWNET)
                return bring_up_loopback(err);
        return 0;
}

static void restore_signals(void)
{
        sigset_t all;
        struct sigaction dfl = {.sa_handler = SIG_DFL};
        for (int sig = 1; sig < NSIG; sig++)
                sigaction(sig, &dfl, NULL); /* fails harmlessly for SIGKILL, SIGSTOP, 32, 33 */
        sigemptyset(&all);
        sigprocmask(SIG_SETMASK, &all, NULL);
}

static _noreturn_ void payload_fail(int err_fd, const struct gx_error *err, int code)
{
        struct sandbox_status st = {.failed_stage = SANDBOX_STAGE_PAYLOAD_SETUP,
                                    .error = err->errnum};
        gx_strlcpy(st.message, err->msg, sizeof(st.message));
        gx_write_full(err_fd, &st, sizeof(st));
        _exit(code);
}

static _noreturn_ void payload_main(const struct sandbox_spec *s, int err_fd)
{
        struct gx_error err = {0};

        restore_signals();
        /* Its own session: no controlling terminal to inject input into (CVE-2017-5226). */
        if (setsid() < 0)
                payload_fail(err_fd, &err, 126);

        if (s->sandbox_path && s->sandbox_fd >= 0) {
                struct stat want, got;
                char cwd[4096];
                if (fstat(s->sandbox_fd, &want) < 0 || chdir(s->sandbox_path) < 0 ||
                    stat(".", &got) < 0) {
                        gx_fail(&err, GX_SYSTEM, errno, "entering the sandbox");
                        payload_fail(err_fd, &err, 126);
                }
                /* The directory we entered must be the one we created, reachable by its path. */
                if (want.st_dev != got.st_dev || want.st_ino != got.st_ino ||
                    !getcwd(cwd, sizeof(cwd)) || cwd[0] != '/' ||
                    strcmp(cwd, s->sandbox_path) != 0) {
                        gx_fail(&err, GX_SYSTEM, 0, "the sandbox is not the working directory");
                        payload_fail(err_fd, &err, 126);
                }
        }
        for (int i = 0; s->rlimits && i < RLIM_NLIMITS; i++)
                setrlimit((__rlimit_resource_t)i, &s->rlimits[i]);

        /* Only 0, 1, 2 reach the payload; err_fd is close-on-exec. */
        int keep[] = {err_fd};
        if (gx_close_from(3, keep, ELEMENTSOF(keep)) < 0) {
                gx_fail(&err, GX_SYSTEM, errno, "closing file descriptors");
                payload_fail(err_fd, &err, 126);
        }
        gx_trace("payload-setup");
        /* Last step before exec: the filter must still allow execve itself. */
        if (s->filter && sc_filter_load(s->filter, &err) < 0)
                payload_fail(err_fd, &err, 126);
        gx_trace("seccomp-load");

        execve(s->exec_path, s->argv, s->envp);
        int e = errno;
        gx_fail(&err, GX_CLIENT, e, "executing %s", s->exec_path);
        struct sandbox_status st = {.failed_stage = SANDBOX_STAGE_EXEC, .error = e};
        gx_strlcpy(st.message, err.msg, sizeof(st.message));
        gx_write_full(err_fd, &st, sizeof(st));
        _exit(e == ENOENT ? 127 : 126);
}

struct payload_args {
        const struct sandbox_spec *s;
        int err_fd;
        int close_fds[3];
};

static int payload_entry(void *arg)
{
        const struct payload_args *pa = arg;
        for (size_t i = 0; i < ELEMENTSOF(pa->close_fds); i++)
                close(pa->close_fds[i]);
        payload_main(pa->s, pa->err_fd);
}

/* The payload as the init's child, started the way posix_spawn() starts a process: in the
 * init's memory, on a stack of its own, with the init suspended until the payload's exec (or
 * its exit) (CLONE_VM | CLONE_VFORK). Copying the init's address space for a child that
 * replaces it at once would cost page-table copies and copy-on-write faults in both. The
 * payload's setup has its own fd table, signal handlers, limits and credentials; what it
 * writes to memory before exec is its own business, as the init is waiting. */
static pid_t spawn_payload(struct payload_args *pa)
{
        const size_t stack_size = 256 * 1024;
        char *stack = mmap(NULL, stack_size, PROT_READ | PROT_WRITE,
                           MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
        if (stack == MAP_FAILED)
                return -errno;
        pid_t pid = clone(payload_entry, stack + stack_size, CLONE_VM | CLONE_VFORK | SIGCHLD,
                          pa);
        int e = errno;
        munmap(stack, stack_size);
        return pid < 0 ? -e : pid;
}

static bool supervisor_gone(int alive_fd)
{
        struct pollfd p = {.fd = alive_fd, .events = POLLIN};
        return poll(&p, 1, 0) > 0 && (p.revents & (POLLHUP | POLLERR));
}

static _noreturn_ void init_main(const struct sandbox_spec *s, bool attach_cgroup, int go_fd,
                                  int status_fd)
{
        struct gx_error err = {0};
        char go;

        /* The supervisor writes our id maps, then says go. */
        if (read(go_fd, &go, 1) != 1)
                _exit(1);
        gx_trace("id-maps");
        /* Not born in the payload cgroup (v1): we move ourselves, before anything of the
         * payload's runs, and the payload is born inside. The mover must be the moved process
         * for the cheap migration (cg_attach_self). */
        int r = attach_cgroup ? cg_attach_self(s->cgroup) : 0;
        if (r < 0) {
                gx_fail(&err, GX_SYSTEM, -r, "entering the payload cgroup");
                init_report(status_fd, SANDBOX_STAGE_SETUP, &err);
        }
        gx_trace("init-cgroup");

        /* Nothing of the supervisor's (report fd, cgroup and audit fds) stays with us. */
        int keep[] = {go_fd, status_fd, s->sandbox_fd};
        if (gx_close_from(3, keep, ELEMENTSOF(keep)) < 0)
                _exit(1);
        /* Born dumpable only so that an unprivileged supervisor could write the maps: from
         * here on the payload must not be able to ptrace its init. */
        prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
        prctl(PR_SET_NAME, "glexec-init", 0, 0, 0);

        if (setup_mounts(s, &err) < 0)
                init_report(status_fd, SANDBOX_STAGE_SETUP, &err);
        gx_trace("init-mounts");
        if (ids_switch(s->uid, s->gid, s->groups, s->n_groups, s->privileged, &err) < 0)
                init_report(status_fd, SANDBOX_STAGE_SETUP, &err);
        gx_trace("init-ids");
        /* commit_creds() clears the parent-death signal on every id change, so it is set
         * only now; then check the supervisor did not die before it took effect. */
        if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0 || supervisor_gone(go_fd))
                _exit(1);
        if (ids_drop_capabilities(&err) < 0 || ids_set_no_new_privs(&err) < 0)
                init_report(status_fd, SANDBOX_STAGE_SETUP, &err);
        gx_trace("init-capabilities");

        /* Relayed signals and SIGCHLD stay blocked and are taken with sigwaitinfo. Blocked
         * signals are queued even for a namespace init, which would otherwise drop signals it
         * has no handler for. */
        sigset_t set;
        sigemptyset(&set);
        for (size_t i = 0; i < sandbox_n_forwarded_signals; i++)
                sigaddset(&set, sandbox_forwarded_signals[i]);
        sigaddset(&set, SIGCHLD);
        sigprocmask(SIG_BLOCK, &set, NULL);

        /* The payload starts only once the supervisor releases it (sandbox_release). */
        if (read(go_fd, &go, 1) != 1)
                _exit(1);
        int err_pipe[2];
        if (pipe2(err_pipe, O_CLOEXEC) < 0) {
                gx_fail(&err, GX_SYSTEM, errno, "pipe");
                init_report(status_fd, SANDBOX_STAGE_SETUP, &err);
        }
        struct payload_args pa = {
                .s = s, .err_fd = err_pipe[1], .close_fds = {err_pipe[0], go_fd, status_fd}};
        pid_t payload = spawn_payload(&pa);
        if (payload < 0) {
                gx_fail(&err, GX_SYSTEM, -payload, "starting the payload");
                init_report(status_fd, SANDBOX_STAGE_SETUP, &err);
        }
        close(err_pipe[1]);
        if (s->sandbox_fd >= 0)
                close(s->sandbox_fd);

        /* Until exec succeeds (the pipe closes) the payload may report a failure. */
        struct sandbox_status st = {0};
        ssize_t n = gx_read_full(err_pipe[0], &st, sizeof(st));
        close(err_pipe[0]);
        if (n != (ssize_t)sizeof(st))
                st = (struct sandbox_status){0};

        for (;;) {
                siginfo_t info;
                int sig = sigwaitinfo(&set, &info);
                if (sig < 0)
                        continue;
                if (sig != SIGCHLD) {
                        kill(payload, sig);
                        continue;
                }
                /* Reap everything: orphans reparented to us as well as the payload. */
                int wstatus;
                pid_t pid;
                while ((pid = waitpid(-1, &wstatus, WNOHANG)) > 0) {
                        if (pid == payload) {
                                gx_trace("payload");
                                st.wait_status = wstatus;
                                gx_write_full(status_fd, &st, sizeof(st));
                                /* Our exit kills whatever the payload left behind. */
                                _exit(0);
                        }
                }
        }
}

/* ---- entry points -------------------------------------------------------------------- */

int sandbox_start(const struct sandbox_spec *s, struct sandbox_proc *ret, struct gx_error *err)
{
        int pipes[2][2];
        int r = gx_pipes(pipes, 2);
        if (r < 0)
                return gx_fail(err, GX_SYSTEM, -r, "pipe");
        int *go = pipes[0], *status = pipes[1];

        /* Unprivileged (declare-only without the setuid bit), we write the init's id maps as
         * its owner; a non-dumpable process's /proc files belong to root, so the init must be
         * born dumpable. We hold nothing the caller does not own in that case. */
        if (!s->privileged && prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) < 0)
                return gx_fail(err, GX_SYSTEM, errno, "PR_SET_DUMPABLE");
        int pidfd = -1;
        bool in_cgroup = false;
        pid_t pid = clone_init(s, &in_cgroup, &pidfd);
        if (pid < 0) {
                int e = errno;
                close(go[0]);
                close(go[1]);
                close(status[0]);
                close(status[1]);
                if (e == EPERM || e == ENOSPC || e == EUSERS)
                        return gx_fail(err, GX_SYSTEM, e,
                                       "the kernel refused new user, mount and PID namespaces "
                                       "(are unprivileged user namespaces disabled?)");
                return gx_fail(err, GX_SYSTEM, e, "creating the payload's namespaces");
        }
        if (pid == 0) {
                close(go[1]);
                close(status[0]);
                init_main(s, s->cgroup && !in_cgroup, go[0], status[1]);
        }
        close(go[0]);
        close(status[1]);
        gx_trace("clone");

        *ret = (struct sandbox_proc){
                .pid = pid, .pidfd = pidfd, .status_fd = status[0], .alive_fd = go[1]};
        r = write_id_maps(pid, s, err);
        if (r == 0 && write(go[1], "g", 1) != 1)
                r = gx_fail(err, GX_SYSTEM, errno, "starting the init");
        if (r < 0)
                sandbox_abort(ret);
        return r;
}

int sandbox_release(const struct sandbox_proc *p, struct gx_error *err)
{
        if (write(p->alive_fd, "r", 1) != 1)
                return gx_fail(err, GX_SYSTEM, errno, "starting the payload");
        return 0;
}

void sandbox_abort(struct sandbox_proc *p)
{
        syscall(SYS_pidfd_send_signal, p->pidfd, SIGKILL, NULL, 0);
        waitpid(p->pid, NULL, 0);
        sandbox_proc_close(p);
}

int sandbox_read_status(const struct sandbox_proc *p, struct sandbox_status *ret)
{
        struct sandbox_status st;
        ssize_t n = gx_read_full(p->status_fd, &st, sizeof(st));
        if (n != (ssize_t)sizeof(st))
                return -EIO;
        *ret = st;
        return 0;
}

void sandbox_proc_close(struct sandbox_proc *p)
{
        p->pidfd = safe_close(p->pidfd);
        p->status_fd = safe_close(p->status_fd);
        p->alive_fd = safe_close(p->alive_fd);
}
