/* glexec-probe: a static program the end-to-end tests run as the payload, to look at the
 * sandbox from the inside. Each subcommand prints one result line starting with its own name
 * and exits with one of:
 *   0   the outcome a correctly sandboxed payload sees (or, for plain actions, success)
 *   2   usage error
 *   3   something that must be refused or absent was not (a syscall ran, setuid(0) worked,
 *       capabilities are present, an x32 or i386 syscall did not kill us)
 *   4   refused, but with another errno than expected
 *   5   an operation that should work failed (read, write, /proc unreadable, ...)
 *   42  sigterm-trap: SIGTERM arrived and the handler ran
 *   77  not applicable on this architecture
 * Syscalls are issued with harmless arguments: if the filter lets one through, the kernel
 * refuses it for bad arguments or it changes nothing outside this process. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum {
        PROBE_OK = 0,
        PROBE_USAGE = 2,
        PROBE_NOT_REFUSED = 3,
        PROBE_WRONG_ERRNO = 4,
        PROBE_FAILED = 5,
        PROBE_TRAPPED = 42,
        PROBE_NOT_APPLICABLE = 77,
};

#define NOWHERE "/nonexistent-glexec-probe"
#define CLONE_NEWUSER_FLAG 0x10000000L
#define HIGH_BITS (1UL << 32) /* the kernel ignores them in 32-bit arguments */

extern char **environ;

static const char *errname(int e)
{
        const char *n = strerrorname_np(e);
        return n ? n : "E?";
}

static bool parse_ulong(const char *s, unsigned long max, unsigned long *ret)
{
        char *end;
        if (!s || *s < '0' || *s > '9')
                return false;
        errno = 0;
        unsigned long v = strtoul(s, &end, 10);
        if (errno || *end || v > max)
                return false;
        *ret = v;
        return true;
}

/* "EPERM" or a number. */
static bool parse_errno(const char *s, int *ret)
{
        unsigned long v;
        if (parse_ulong(s, 4095, &v)) {
                *ret = (int)v;
                return true;
        }
        for (int e = 1; e < 4096; e++) {
                const char *n = strerrorname_np(e);
                if (n && strcmp(n, s) == 0) {
                        *ret = e;
                        return true;
                }
        }
        return false;
}

/* Compare a failed call's errno with the expected one. */
static int refused_as_expected(const char *what, long r, int err, int expected)
{
        if (r >= 0) {
                printf("%s: not refused (returned %ld)\n", what, r);
                return PROBE_NOT_REFUSED;
        }
        printf("%s: refused with %s (expected %s)\n", what, errname(err), errname(expected));
        return err == expected ? PROBE_OK : PROBE_WRONG_ERRNO;
}

struct probe_call {
        const char *name;
        long nr;
        long args[6];
        int expected;   /* the errno the shipped profile gives */
        bool in_default; /* denied by seccomp-profiles/default.json */
};

static long issue(const struct probe_call *c)
{
        long r = syscall(c->nr, c->args[0], c->args[1], c->args[2], c->args[3], c->args[4],
                         c->args[5]);
        int saved = errno;
        if (c->nr == SYS_clone && r == 0)
                _exit(0); /* the filter let a child through: it must not run on */
        if (c->nr == SYS_clone && r > 0)
                waitpid((pid_t)r, NULL, 0);
        errno = saved;
        return r;
}

static int run_call(const struct probe_call *c, int expected)
{
        char what[64];
        snprintf(what, sizeof(what), "syscall %s", c->name);
        errno = 0;
        long r = issue(c);
        return refused_as_expected(what, r, errno, expected);
}

static int cmd_syscall(int argc, char **argv)
{
        static char tiocsti_char;
        struct timeval bad_tv = {.tv_sec = 0, .tv_usec = 2000000};
        struct timespec ts = {0};
#ifdef __s390x__
        const long clone_args[] = {0, CLONE_NEWUSER_FLAG | SIGCHLD};
#else
        const long clone_args[] = {CLONE_NEWUSER_FLAG | SIGCHLD, 0};
#endif
        const struct probe_call table[] = {
                {"init_module", SYS_init_module, {0, 0, (long)""}, EPERM, true},
                {"finit_module", SYS_finit_module, {-1, (long)"", 0}, EPERM, true},
                {"delete_module", SYS_delete_module, {(long)"glexec_probe_none", O_NONBLOCK},
                 EPERM, true},
                /* more segments than KEXEC_SEGMENT_MAX: zero would unload a loaded kernel */
                {"kexec_load", SYS_kexec_load, {0, 1000, 0, 0}, EPERM, true},
                {"kexec_file_load", SYS_kexec_file_load, {-1, -1, 0, 0, 0xffff}, EPERM, true},
                {"reboot", SYS_reboot, {0, 0, 0, 0}, EPERM, true}, /* wrong magic numbers */
                {"swapon", SYS_swapon, {(long)NOWHERE, 0}, EPERM, true},
                {"swapoff", SYS_swapoff, {(long)NOWHERE}, EPERM, true},
                {"mount", SYS_mount, {0, (long)NOWHERE, 0, 0, 0}, EPERM, true},
                {"umount2", SYS_umount2, {(long)NOWHERE, 0}, EPERM, true},
                {"pivot_root", SYS_pivot_root, {(long)NOWHERE, (long)NOWHERE}, EPERM, true},
                {"chroot", SYS_chroot, {(long)NOWHERE}, EPERM, true},
                {"move_mount", SYS_move_mount, {-1, (long)"", -1, (long)"", 0}, EPERM, true},
                {"open_tree", SYS_open_tree, {-1, (long)NOWHERE, 0}, EPERM, true},
                {"fsopen", SYS_fsopen, {(long)"glexec_probe_nofs", 0}, EPERM, true},
                {"fsconfig", SYS_fsconfig, {-1, 0, 0, 0, 0}, EPERM, true},
                {"fsmount", SYS_fsmount, {-1, 0, 0}, EPERM, true},
                {"fspick", SYS_fspick, {-1, (long)NOWHERE, 0}, EPERM, true},
                {"mount_setattr", SYS_mount_setattr, {-1, (long)NOWHERE, 0, 0, 0}, EPERM, true},
                {"setns", SYS_setns, {-1, 0}, EPERM, true},
                {"unshare", SYS_unshare, {CLONE_NEWUSER_FLAG}, EPERM, true},
                {"clone", SYS_clone, {clone_args[0], clone_args[1]}, EPERM, true},
                {"clone3", SYS_clone3, {0, 0}, ENOSYS, true},
                {"keyctl", SYS_keyctl, {1000}, EPERM, true}, /* no such operation */
                {"add_key", SYS_add_key, {0, 0, 0, 0, 0}, EPERM, true},
                {"request_key", SYS_request_key, {0, 0, 0, 0}, EPERM, true},
                {"bpf", SYS_bpf, {-1, 0, 0}, EPERM, true},
                {"perf_event_open", SYS_perf_event_open, {0, 0, -1, -1, 0}, EPERM, true},
                {"userfaultfd", SYS_userfaultfd, {0x7fffffff}, EPERM, true}, /* bad flags */
                {"open_by_handle_at", SYS_open_by_handle_at, {-1, 0, 0}, EPERM, true},
                {"name_to_handle_at", SYS_name_to_handle_at, {-1, (long)"", 0, 0, 0}, EPERM,
                 true},
                {"io_uring_setup", SYS_io_uring_setup, {0, 0}, ENOSYS, true},
                {"io_uring_enter", SYS_io_uring_enter, {-1, 0, 0, 0, 0, 0}, ENOSYS, true},
                {"io_uring_register", SYS_io_uring_register, {-1, 0, 0, 0}, ENOSYS, true},
                /* fd -1: if the filter missed it, nothing reaches a terminal */
                {"ioctl", SYS_ioctl, {-1, (long)(TIOCSTI | HIGH_BITS), (long)&tiocsti_char},
                 EPERM, true},
                {"personality", SYS_personality, {0x0040000 /* ADDR_NO_RANDOMIZE */}, EPERM,
                 true},
                {"acct", SYS_acct, {(long)NOWHERE}, EPERM, true},
                {"quotactl", SYS_quotactl, {0, 0, 0, 0}, EPERM, true},
                {"quotactl_fd", SYS_quotactl_fd, {-1, 0, 0, 0}, EPERM, true},
                {"settimeofday", SYS_settimeofday, {(long)&bad_tv, 0}, EPERM, true},
                {"clock_settime", SYS_clock_settime, {CLOCK_MONOTONIC, (long)&ts}, EPERM,
                 true},
                {"syslog", SYS_syslog, {10 /* SYSLOG_ACTION_SIZE_BUFFER */, 0, 0}, EPERM, true},
#ifdef SYS_iopl
                {"iopl", SYS_iopl, {0}, EPERM, true},
                {"ioperm", SYS_ioperm, {0, 0, 0}, EPERM, true},
#endif
                /* allowed by default.json, refused by strict.json */
                {"ptrace", SYS_ptrace, {PTRACE_PEEKUSER, -1, 0, 0}, ENOSYS, false},
        };
        const size_t n = sizeof(table) / sizeof(table[0]);
        int expected;

        if (argc < 1 || argc > 2)
                return PROBE_USAGE;
        if (strcmp(argv[0], "all") == 0 && argc == 1) {
                int worst = PROBE_OK;
                for (size_t i = 0; i < n; i++) {
                        int r = table[i].in_default ? run_call(&table[i], table[i].expected) : 0;
                        if (r > worst)
                                worst = r;
                }
                return worst;
        }
        for (size_t i = 0; i < n; i++) {
                if (strcmp(table[i].name, argv[0]) != 0)
                        continue;
                expected = table[i].expected;
                if (argc == 2 && !parse_errno(argv[1], &expected))
                        return PROBE_USAGE;
                return run_call(&table[i], expected);
        }
        printf("syscall %s: not in the probe's table\n", argv[0]);
        return PROBE_USAGE;
}

static int cmd_x32(void)
{
#ifdef __x86_64__
        /* The x32 ABI shares AUDIT_ARCH_X86_64 and is told apart by this bit in the number. */
        printf("x32: calling getpid through the x32 ABI\n");
        fflush(stdout);
        long r = syscall(SYS_getpid | 0x40000000);
        printf("x32: not killed (returned %ld, %s)\n", r, r < 0 ? errname(errno) : "ok");
        return PROBE_NOT_REFUSED;
#else
        printf("x32: not applicable on this architecture\n");
        return PROBE_NOT_APPLICABLE;
#endif
}

/* A foreign ABI: int 0x80 enters the i386 system call table (AUDIT_ARCH_I386) even from a
 * 64-bit process. Without IA32 emulation in the kernel the instruction faults (SIGSEGV). */
static int cmd_ia32(void)
{
#ifdef __x86_64__
        long r = 20; /* getpid in the i386 table */
        printf("ia32: calling getpid through int 0x80\n");
        fflush(stdout);
        __asm__ volatile("int $0x80" : "+a"(r) : : "r8", "r9", "r10", "r11", "memory");
        printf("ia32: not killed (returned %ld)\n", r);
        return PROBE_NOT_REFUSED;
#else
        printf("ia32: not applicable on this architecture\n");
        return PROBE_NOT_APPLICABLE;
#endif
}

static int cmd_tiocsti(int argc, char **argv)
{
        int expected = EPERM;
        char c = '\0';
        if (argc > 1 || (argc == 1 && !parse_errno(argv[0], &expected)))
                return PROBE_USAGE;
        errno = 0;
        long r = syscall(SYS_ioctl, 0, (unsigned long)TIOCSTI | HIGH_BITS, &c);
        return refused_as_expected("tiocsti", r, errno, expected);
}

static int long_cmp(const void *a, const void *b)
{
        long x = *(const long *)a, y = *(const long *)b;
        return (x > y) - (x < y);
}

/* Numeric entries of a directory, sorted, on one line after the prefix. */
static int print_numeric_entries(const char *prefix, const char *path, bool skip_own_fd)
{
        DIR *d = opendir(path);
        long *v = NULL;
        size_t n = 0, cap = 0;
        struct dirent *de;

        if (!d) {
                printf("%s: cannot open %s: %s\n", prefix, path, errname(errno));
                return PROBE_FAILED;
        }
        while ((de = readdir(d))) {
                unsigned long num;
                if (!parse_ulong(de->d_name, LONG_MAX, &num))
                        continue;
                if (skip_own_fd && (long)num == dirfd(d))
                        continue;
                if (n == cap) {
                        cap = cap ? cap * 2 : 64;
                        long *nv = realloc(v, cap * sizeof(*v));
                        if (!nv)
                                abort();
                        v = nv;
                }
                v[n++] = (long)num;
        }
        closedir(d);
        qsort(v, n, sizeof(*v), long_cmp);
        printf("%s:", prefix);
        for (size_t i = 0; i < n; i++)
                printf(" %ld", v[i]);
        printf("\n");
        free(v);
        return PROBE_OK;
}

/* SPEC section 9: no capabilities in any set, no_new_privs, a seccomp filter. */
static int cmd_status(void)
{
        static const struct {
                const char *key;
                const char *want;
        } fields[] = {
                {"CapInh:", "0000000000000000"}, {"CapPrm:", "0000000000000000"},
                {"CapEff:", "0000000000000000"}, {"CapBnd:", "0000000000000000"},
                {"CapAmb:", "0000000000000000"}, {"NoNewPrivs:", "1"},
                {"Seccomp:", "2"},
        };
        FILE *f = fopen("/proc/self/status", "re");
        char line[256];
        int result = PROBE_OK;
        size_t seen = 0;

        if (!f) {
                printf("status: cannot open /proc/self/status: %s\n", errname(errno));
                return PROBE_FAILED;
        }
        while (fgets(line, sizeof(line), f)) {
                for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
                        size_t klen = strlen(fields[i].key);
                        if (strncmp(line, fields[i].key, klen) != 0)
                                continue;
                        char *value = line + klen + strspn(line + klen, " \t");
                        value[strcspn(value, "\n")] = '\0';
                        printf("status: %s %s\n", fields[i].key, value);
                        if (strcmp(value, fields[i].want) != 0)
                                result = PROBE_NOT_REFUSED;
                        seen++;
                }
        }
        fclose(f);
        if (seen != sizeof(fields) / sizeof(fields[0]))
                result = PROBE_FAILED;
        return result;
}

static int cmd_read(const char *path)
{
        char buf[65536];
        size_t total = 0;
        ssize_t r;
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
                printf("read: %s: %s\n", path, errname(errno));
                return PROBE_FAILED;
        }
        while ((r = read(fd, buf, sizeof(buf))) > 0)
                total += (size_t)r;
        int saved = errno;
        close(fd);
        if (r < 0) {
                printf("read: %s: %s\n", path, errname(saved));
                return PROBE_FAILED;
        }
        printf("read: %s: %zu bytes\n", path, total);
        return PROBE_OK;
}

static int cmd_write(const char *path)
{
        static const char text[] = "glexec-probe\n";
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0 || write(fd, text, sizeof(text) - 1) != (ssize_t)sizeof(text) - 1) {
                printf("write: %s: %s\n", path, errname(errno));
                if (fd >= 0)
                        close(fd);
                return PROBE_FAILED;
        }
        if (close(fd) < 0) {
                printf("write: %s: %s\n", path, errname(errno));
                return PROBE_FAILED;
        }
        printf("write: %s: ok\n", path);
        return PROBE_OK;
}

/* A grandchild that outlives its parent: the namespace init must reap it, and nothing of it
 * may survive the launch. Its output goes to /dev/null so that it does not hold the test's
 * pipe open. */
static int cmd_orphan(unsigned long seconds)
{
        int status;
        pid_t child = fork();
        if (child < 0) {
                printf("orphan: fork: %s\n", errname(errno));
                return PROBE_FAILED;
        }
        if (child == 0) {
                pid_t grandchild = fork();
                if (grandchild == 0) {
                        int null = open("/dev/null", O_RDWR);
                        for (int fd = 0; fd < 3 && null >= 0; fd++)
                                dup2(null, fd);
                        sleep((unsigned int)seconds);
                        _exit(0);
                }
                if (grandchild < 0) {
                        printf("orphan: fork: %s\n", errname(errno));
                        _exit(PROBE_FAILED);
                }
                printf("orphan: pid=%d sleeping %lus\n", grandchild, seconds);
                fflush(stdout);
                _exit(PROBE_OK);
        }
        if (waitpid(child, &status, 0) < 0 || !WIFEXITED(status))
                return PROBE_FAILED;
        return WEXITSTATUS(status);
}

static const char *trap_file;

static void on_sigterm(int sig)
{
        (void)sig;
        int fd = open(trap_file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd >= 0) {
                ssize_t w = write(fd, "SIGTERM\n", 8);
                (void)w;
                close(fd);
        }
        _exit(PROBE_TRAPPED);
}

static int cmd_sigterm_trap(const char *path)
{
        struct sigaction sa = {.sa_handler = on_sigterm};
        sigset_t set;

        trap_file = path;
        sigemptyset(&sa.sa_mask);
        sigemptyset(&set);
        sigaddset(&set, SIGTERM);
        if (sigaction(SIGTERM, &sa, NULL) < 0 || sigprocmask(SIG_UNBLOCK, &set, NULL) < 0) {
                printf("sigterm-trap: %s\n", errname(errno));
                return PROBE_FAILED;
        }
        printf("sigterm-trap: waiting, pid=%d\n", getpid());
        fflush(stdout);
        for (;;)
                pause();
}

static int cmd_ids(void)
{
        uid_t r, e, s;
        gid_t rg, eg, sg, groups[256];
        int n = getgroups(256, groups);
        if (getresuid(&r, &e, &s) < 0 || getresgid(&rg, &eg, &sg) < 0 || n < 0) {
                printf("ids: %s\n", errname(errno));
                return PROBE_FAILED;
        }
        printf("ids: uid=%u gid=%u euid=%u egid=%u suid=%u sgid=%u groups=", r, rg, e, eg, s,
               sg);
        for (int i = 0; i < n; i++)
                printf("%s%u", i ? "," : "", groups[i]);
        printf("\n");
        return PROBE_OK;
}

static int cmd_setuid0(void)
{
        if (setuid(0) == 0) {
                printf("setuid0: succeeded (uid=%u euid=%u)\n", getuid(), geteuid());
                return PROBE_NOT_REFUSED;
        }
        printf("setuid0: refused with %s\n", errname(errno));
        return PROBE_OK;
}

static int cmd_cwd(void)
{
        char buf[4096];
        if (!getcwd(buf, sizeof(buf))) {
                printf("cwd: %s\n", errname(errno));
                return PROBE_FAILED;
        }
        printf("cwd: %s\n", buf);
        return PROBE_OK;
}

static int cmd_env(void)
{
        size_t n = 0;
        while (environ && environ[n])
                n++;
        printf("env: %zu variables\n", n);
        for (size_t i = 0; i < n; i++)
                printf("%s\n", environ[i]);
        return PROBE_OK;
}

static int cmd_alloc(unsigned long mib)
{
        size_t bytes = (size_t)mib << 20, page = (size_t)sysconf(_SC_PAGESIZE);
        char *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) {
                printf("alloc: %lu MiB: %s\n", mib, errname(errno));
                return PROBE_FAILED;
        }
        for (size_t off = 0; off < bytes; off += page)
                p[off] = 1;
        printf("alloc: %lu MiB touched\n", mib);
        munmap(p, bytes);
        return PROBE_OK;
}

static int cmd_forkbomb(unsigned long n)
{
        pid_t *pids = calloc(n ? n : 1, sizeof(*pids));
        size_t ok = 0;
        int err = 0;

        if (!pids)
                return PROBE_FAILED;
        for (; ok < n; ok++) {
                pid_t p = fork();
                if (p == 0) {
                        pause();
                        _exit(0);
                }
                if (p < 0) {
                        err = errno;
                        break;
                }
                pids[ok] = p;
        }
        for (size_t i = 0; i < ok; i++) {
                kill(pids[i], SIGKILL);
                waitpid(pids[i], NULL, 0);
        }
        free(pids);
        printf("forkbomb: %zu of %lu forks succeeded%s%s\n", ok, n, err ? ", then " : "",
               err ? errname(err) : "");
        return PROBE_OK;
}

static double now(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmd_spin(unsigned long seconds)
{
        double end = now() + (double)seconds;
        volatile unsigned long counter = 0;
        while (now() < end)
                for (int i = 0; i < 100000; i++)
                        counter++;
        printf("spin: %lus\n", seconds);
        return PROBE_OK;
}

static int parse_signal(const char *s)
{
        static const struct {
                const char *name;
                int sig;
        } names[] = {
                {"HUP", SIGHUP},   {"INT", SIGINT},   {"QUIT", SIGQUIT}, {"ABRT", SIGABRT},
                {"KILL", SIGKILL}, {"SEGV", SIGSEGV}, {"PIPE", SIGPIPE}, {"ALRM", SIGALRM},
                {"TERM", SIGTERM}, {"USR1", SIGUSR1}, {"USR2", SIGUSR2}, {"SYS", SIGSYS},
        };
        unsigned long v;
        if (parse_ulong(s, SIGRTMAX, &v) && v > 0)
                return (int)v;
        if (strncmp(s, "SIG", 3) == 0)
                s += 3;
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
                if (strcmp(s, names[i].name) == 0)
                        return names[i].sig;
        return -1;
}

static int cmd_kill_self(int sig)
{
        sigset_t set;
        printf("kill-self: raising signal %d\n", sig);
        fflush(stdout);
        signal(sig, SIG_DFL);
        sigemptyset(&set);
        sigaddset(&set, sig);
        sigprocmask(SIG_UNBLOCK, &set, NULL);
        raise(sig);
        printf("kill-self: still alive after signal %d\n", sig);
        return PROBE_NOT_REFUSED;
}

static void usage(void)
{
        fprintf(stderr,
                "usage: glexec-probe COMMAND [ARG...]\n"
                "  pid | proc-pids | status | fds | ids | setuid0 | cwd | env | x32 | ia32\n"
                "  syscall NAME [ERRNO] | syscall all | tiocsti [ERRNO]\n"
                "  read FILE | write FILE | sigterm-trap FILE\n"
                "  orphan SECONDS | sleep SECONDS | spin SECONDS\n"
                "  alloc MiB | forkbomb N | exit N | kill-self SIGNAL\n");
}

int main(int argc, char **argv)
{
        const char *cmd = argc > 1 ? argv[1] : "";
        const char *arg = argc > 2 ? argv[2] : NULL;
        unsigned long num = 0;
        bool one_arg = argc == 3;
        int r = -1;

        if (argc == 2 && strcmp(cmd, "pid") == 0) {
                printf("pid: pid=%d ppid=%d\n", getpid(), getppid());
                r = PROBE_OK;
        } else if (argc == 2 && strcmp(cmd, "proc-pids") == 0) {
                r = print_numeric_entries("proc-pids", "/proc", false);
        } else if (argc == 2 && strcmp(cmd, "fds") == 0) {
                r = print_numeric_entries("fds", "/proc/self/fd", true);
        } else if (argc == 2 && strcmp(cmd, "status") == 0) {
                r = cmd_status();
        } else if (argc == 2 && strcmp(cmd, "ids") == 0) {
                r = cmd_ids();
        } else if (argc == 2 && strcmp(cmd, "setuid0") == 0) {
                r = cmd_setuid0();
        } else if (argc == 2 && strcmp(cmd, "cwd") == 0) {
                r = cmd_cwd();
        } else if (argc == 2 && strcmp(cmd, "env") == 0) {
                r = cmd_env();
        } else if (argc == 2 && strcmp(cmd, "x32") == 0) {
                r = cmd_x32();
        } else if (argc == 2 && strcmp(cmd, "ia32") == 0) {
                r = cmd_ia32();
        } else if (strcmp(cmd, "syscall") == 0) {
                r = cmd_syscall(argc - 2, argv + 2);
        } else if (strcmp(cmd, "tiocsti") == 0) {
                r = cmd_tiocsti(argc - 2, argv + 2);
        } else if (one_arg && strcmp(cmd, "read") == 0) {
                r = cmd_read(arg);
        } else if (one_arg && strcmp(cmd, "write") == 0) {
                r = cmd_write(arg);
        } else if (one_arg && strcmp(cmd, "sigterm-trap") == 0) {
                r = cmd_sigterm_trap(arg);
        } else if (one_arg && strcmp(cmd, "orphan") == 0 && parse_ulong(arg, 86400, &num)) {
                r = cmd_orphan(num);
        } else if (one_arg && strcmp(cmd, "sleep") == 0 && parse_ulong(arg, 86400, &num)) {
                printf("sleep: %lus\n", num);
                fflush(stdout);
                sleep((unsigned int)num);
                r = PROBE_OK;
        } else if (one_arg && strcmp(cmd, "spin") == 0 && parse_ulong(arg, 86400, &num)) {
                r = cmd_spin(num);
        } else if (one_arg && strcmp(cmd, "alloc") == 0 && parse_ulong(arg, 1UL << 20, &num)) {
                r = cmd_alloc(num);
        } else if (one_arg && strcmp(cmd, "forkbomb") == 0 &&
                   parse_ulong(arg, 1000000, &num)) {
                r = cmd_forkbomb(num);
        } else if (one_arg && strcmp(cmd, "exit") == 0 && parse_ulong(arg, 255, &num)) {
                printf("exit: %lu\n", num);
                r = (int)num;
        } else if (one_arg && strcmp(cmd, "kill-self") == 0 && parse_signal(arg) > 0) {
                r = cmd_kill_self(parse_signal(arg));
        }
        if (r < 0 || (r == PROBE_USAGE && strcmp(cmd, "exit") != 0)) {
                usage();
                r = PROBE_USAGE;
        }
        fflush(stdout);
        return r;
}
