#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <linux/audit.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/fdutil.h"
#include "sandbox/seccomp.h"
#include "test.h"

#define PROFILES GX_SOURCE_DIR "/seccomp-profiles"
#define FIXTURES GX_SOURCE_DIR "/tests/fixtures/seccomp"
#define DOCKER_DEFAULT GX_SOURCE_DIR "/../shared/testdata/docker-default-seccomp.json"
#define PROBE GX_BINARY_DIR "/tests/probe/glexec-probe"

#define ACT(f, ...) (eval(f, __VA_ARGS__) & SECCOMP_RET_ACTION_FULL)
#define ERRNO_RET(e) (SECCOMP_RET_ERRNO | (e))

static char *read_text(const char *path, size_t *len)
{
        char *buf = NULL;
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return NULL;
        int r = gx_read_all(fd, 4 << 20, &buf, len);
        close(fd);
        return r < 0 ? NULL : buf;
}

static int compile_path(const char *path, struct sc_filter *f)
{
        struct gx_error err = {0};
        size_t len = 0;
        char *text = read_text(path, &len);
        if (!text) {
                fprintf(stderr, "%s: cannot read\n", path);
                return -1;
        }
        int r = sc_profile_compile_text(text, len, f, &err);
        free(text);
        if (r < 0)
                fprintf(stderr, "%s: %s\n", path, err.msg);
        return r;
}

static uint32_t eval(const struct sc_filter *f, int nr, uint64_t a0, uint64_t a1)
{
        struct seccomp_data d = {.nr = nr, .arch = seccomp_arch_native(), .args = {a0, a1}};
        return sc_filter_eval(f, &d);
}

static uint32_t eval_arch(const struct sc_filter *f, uint32_t arch, int nr)
{
        struct seccomp_data d = {.nr = nr, .arch = arch};
        return sc_filter_eval(f, &d);
}

/* Run fn in a child with no_new_privs and the filter loaded; return its wait status. */
static int run_filtered(const struct sc_filter *f, int (*fn)(void *), void *arg)
{
        int status = -1;
        fflush(NULL);
        pid_t pid = fork();
        if (pid == 0) {
                struct gx_error err = {0};
                if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                        _exit(120);
                if (sc_filter_load(f, &err) < 0) {
                        fprintf(stderr, "%s\n", err.msg);
                        _exit(121);
                }
                /* Not _exit: under ASan its hook runs a leak check, with syscalls the
                 * filter may refuse. */
                syscall(SYS_exit_group, fn(arg));
        }
        if (pid > 0)
                waitpid(pid, &status, 0);
        return status;
}

static bool exited_zero(int status, const char *what)
{
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
                return true;
        fprintf(stderr, "%s: %s %d\n", what, WIFEXITED(status) ? "exit" : "signal",
                WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
        return false;
}

/* Each failing check returns its own number, so a child's exit status says which one. */
#define EXPECT_FAIL(id, call, e)                                                                   \
        do {                                                                                       \
                errno = 0;                                                                         \
                long _r = (long)(call);                                                            \
                if (_r != -1 || errno != (e))                                                      \
                        return id;                                                                 \
        } while (0)
#define EXPECT_OK(id, call)                                                                        \
        do {                                                                                       \
                if ((long)(call) < 0)                                                              \
                        return id;                                                                 \
        } while (0)

/* Properties glexec adds to every filter, whatever the profile says. */
static void check_common(const struct sc_filter *f, uint32_t default_action)
{
        CHECK(f->len > 0 && f->len <= BPF_MAXINSNS);
        CHECK(ACT(f, SYS_execve, 0, 0) == SECCOMP_RET_ALLOW);
        CHECK(eval_arch(f, AUDIT_ARCH_I386, 20) == SECCOMP_RET_KILL_PROCESS);
        CHECK(eval_arch(f, AUDIT_ARCH_AARCH64 == seccomp_arch_native() ? AUDIT_ARCH_ARM
                                                                       : AUDIT_ARCH_AARCH64,
                        SYS_getpid) == SECCOMP_RET_KILL_PROCESS);
        if (seccomp_arch_native() == SCMP_ARCH_X86_64) {
                CHECK(eval(f, SYS_getpid | 0x40000000, 0, 0) == SECCOMP_RET_KILL_PROCESS);
                CHECK(eval(f, 0x40000000 + 512, 0, 0) == SECCOMP_RET_KILL_PROCESS);
        }
        /* Far beyond any syscall libseccomp can name. */
        CHECK(eval(f, 1000, 0, 0) == ERRNO_RET(ENOSYS));
        /* -1 (a tracer skipping a syscall) goes to the profile. */
        CHECK(eval(f, -1, 0, 0) == default_action);
}

static bool personality_allowed(uint64_t v)
{
        uint32_t low = (uint32_t)v;
        return low == 0 || low == 8 || low == 0x20000 || low == 0x20008 || low == 0xffffffff;
}

static uint64_t next_random(uint64_t *state)
{
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        return *state;
}

/* Values around the interesting ones and random ones, in both halves of 64 bits. */
static uint64_t sample(uint64_t i, uint64_t *state)
{
        static const uint64_t base[] = {0, 8, 0x20000, 0x20008, 0xffffffff, 0x5412, 0x541c};
        uint64_t r = next_random(state);
        switch (i % 4) {
        case 0:
                return base[(i / 4) % ELEMENTSOF(base)] ^ (1ULL << (r % 64));
        case 1:
                return base[(i / 4) % ELEMENTSOF(base)] | (r << 32);
        case 2:
                return r & 0xffffffff;
        default:
                return r;
        }
}

static void test_default_profile(void)
{
        struct sc_filter f = {0};
        CHECK(compile_path(PROFILES "/default.json", &f) == 0);
        check_common(&f, SECCOMP_RET_ALLOW);
        CHECK(eval(&f, SYS_getpid, 0, 0) == SECCOMP_RET_ALLOW);
        CHECK(eval(&f, SYS_ptrace, 0, 0) == SECCOMP_RET_ALLOW);
        CHECK(eval(&f, SYS_kexec_load, 0, 0) == ERRNO_RET(EPERM));
        CHECK(eval(&f, SYS_clone3, 0, 0) == ERRNO_RET(ENOSYS));
        CHECK(eval(&f, SYS_io_uring_setup, 0, 0) == ERRNO_RET(ENOSYS));
        CHECK(eval(&f, SYS_clone, CLONE_NEWUSER | SIGCHLD, 0) == ERRNO_RET(EPERM));
        CHECK(eval(&f, SYS_clone, CLONE_NEWNS | SIGCHLD, 0) == SECCOMP_RET_ALLOW);
        CHECK(eval(&f, SYS_unshare, CLONE_NEWUSER | CLONE_NEWNS, 0) == ERRNO_RET(EPERM));
        CHECK(eval(&f, SYS_unshare, CLONE_FS, 0) == SECCOMP_RET_ALLOW);
        CHECK(eval(&f, SYS_ioctl, 0, TIOCSTI) == ERRNO_RET(EPERM));
        CHECK(eval(&f, SYS_ioctl, 0, TIOCSTI | 0xdead00000000ULL) == ERRNO_RET(EPERM));
        CHECK(eval(&f, SYS_ioctl, 0, TIOCLINUX | (1ULL << 32)) == ERRNO_RET(EPERM));
        CHECK(eval(&f, SYS_ioctl, 0, TCGETS) == SECCOMP_RET_ALLOW);

        /* The 32 masked comparisons must deny exactly the personalities outside the set (an
         * exhaustive check over 2^32 values was done when they were written). */
        uint64_t state = 0x9e3779b97f4a7c15ULL;
        unsigned int wrong = 0;
        for (uint64_t i = 0; i < 400000 + 64; i++) {
                uint64_t v = i < 64 ? 1ULL << i : sample(i, &state);
                uint32_t want = personality_allowed(v) ? SECCOMP_RET_ALLOW : ERRNO_RET(EPERM);
                wrong += eval(&f, SYS_personality, v, 0) != want;
        }
        CHECK(wrong == 0);
        sc_filter_free(&f);
        CHECK(f.insns == NULL && f.len == 0);
}

static void test_strict_profile(void)
{
        struct sc_filter f = {0};
        CHECK(compile_path(PROFILES "/strict.json", &f) == 0);
        check_common(&f, ERRNO_RET(ENOSYS));
        CHECK(eval(&f, SYS_read, 0, 0) == SECCOMP_RET_ALLOW);
        CHECK(eval(&f, SYS_ptrace, 0, 0) == ERRNO_RET(ENOSYS));
        CHECK(eval(&f, SYS_mount, 0, 0) == ERRNO_RET(ENOSYS));
        CHECK(eval(&f, SYS_clone3, 0, 0) == ERRNO_RET(ENOSYS));
        CHECK(eval(&f, SYS_clone, SIGCHLD, 0) == SECCOMP_RET_ALLOW);
        CHECK(eval(&f, SYS_clone, CLONE_NEWUSER | SIGCHLD, 0) == ERRNO_RET(ENOSYS));
        CHECK(eval(&f, SYS_clone, CLONE_NEWNET | SIGCHLD, 0) == ERRNO_RET(ENOSYS));
        CHECK(eval(&f, SYS_personality, 0xffffffff, 0) == SECCOMP_RET_ALLOW);
        CHECK(eval(&f, SYS_personality, 0x0040000, 0) == ERRNO_RET(ENOSYS));

        uint64_t state = 0x2545f4914f6cdd1dULL;
        unsigned int wrong = 0;
        for (uint64_t i = 0; i < 400000; i++) {
                uint64_t cmd = sample(i, &state);
                uint32_t low = (uint32_t)cmd;
                bool denied = low == TIOCSTI || low == TIOCLINUX;
                wrong += eval(&f, SYS_ioctl, 0, cmd) !=
                         (denied ? ERRNO_RET(ENOSYS) : SECCOMP_RET_ALLOW);
        }
        CHECK(wrong == 0);
        sc_filter_free(&f);
}

/* Every syscall name the shipped profiles mention is one libseccomp knows on some
 * architecture: a typo would be skipped silently like a newer kernel's syscall. */
static void check_names_known(const char *path)
{
        size_t len = 0;
        char *text = read_text(path, &len);
        json_object *root = text ? json_tokener_parse(text) : NULL, *rules;
        CHECK(root && json_object_object_get_ex(root, "syscalls", &rules));
        for (size_t i = 0; root && i < json_object_array_length(rules); i++) {
                json_object *names;
                json_object_object_get_ex(json_object_array_get_idx(rules, i), "names", &names);
                for (size_t j = 0; j < json_object_array_length(names); j++) {
                        const char *n = json_object_get_string(json_object_array_get_idx(names, j));
                        if (seccomp_syscall_resolve_name(n) == __NR_SCMP_ERROR) {
                                fprintf(stderr, "%s: unknown syscall %s\n", path, n);
                                CHECK(false);
                        }
                }
        }
        json_object_put(root);
        free(text);
}

static int docker_style_child(void *arg)
{
        (void)arg;
        EXPECT_OK(1, syscall(SYS_getppid));
        EXPECT_FAIL(2, syscall(SYS_getuid), EPERM);  /* included only with CAP_SYS_ADMIN */
        EXPECT_OK(3, syscall(SYS_getgid));           /* excluded only with CAP_SYS_ADMIN */
        EXPECT_OK(4, syscall(SYS_geteuid));          /* native arch listed */
        EXPECT_FAIL(5, syscall(SYS_getegid), EPERM); /* other arches only */
        EXPECT_OK(6, syscall(SYS_getpgrp));          /* minKernel 4.8 */
        EXPECT_FAIL(7, syscall(SYS_getsid, 0), EPERM); /* minKernel 99.0 */
        EXPECT_OK(8, syscall(SYS_gettid));
        EXPECT_FAIL(9, syscall(SYS_umask, 022), EACCES);
        EXPECT_FAIL(10, syscall(SYS_socket, AF_INET, SOCK_STREAM, 0), EPERM);
        EXPECT_OK(11, syscall(SYS_socket, AF_UNIX, SOCK_STREAM, 0));
        EXPECT_FAIL(12, syscall(SYS_dup, 100), EPERM);
        EXPECT_FAIL(13, syscall(SYS_dup, 15), EBADF);
        EXPECT_OK(14, syscall(SYS_kill, syscall(SYS_getpid), 0));
        EXPECT_OK(15, syscall(SYS_kill, syscall(SYS_getpid), SIGCONT));
        EXPECT_FAIL(16, syscall(SYS_kill, syscall(SYS_getpid), SIGWINCH), EPERM);
        EXPECT_OK(17, syscall(SYS_getpriority, 0, 0));
        EXPECT_FAIL(18, syscall(SYS_getpriority, 0, syscall(SYS_getpid)), EPERM);
        EXPECT_FAIL(19, syscall(SYS_getpriority, 1, 0), EPERM);
        EXPECT_FAIL(20, syscall(SYS_getrlimit, 0, NULL), EPERM);
        return 0;
}

static void test_docker_style(void)
{
        struct sc_filter f = {0};
        CHECK(compile_path(FIXTURES "/docker-style.json", &f) == 0);
        check_common(&f, ERRNO_RET(EPERM));
        CHECK(exited_zero(run_filtered(&f, docker_style_child, NULL), "docker-style"));
        sc_filter_free(&f);
}

static int exec_child(void *arg)
{
        char *const *argv = arg;
        execv(argv[0], argv);
        return 127;
}

/* The real Docker profile loads unchanged and means what it says for a payload without
 * capabilities. It is reference data outside the project, so it may be absent. */
static void test_docker_default(void)
{
        struct sc_filter f = {0};
        if (access(DOCKER_DEFAULT, R_OK) < 0) {
                printf("skipping the Docker default profile: %s not found\n", DOCKER_DEFAULT);
                return;
        }
        CHECK(compile_path(DOCKER_DEFAULT, &f) == 0);
        check_common(&f, ERRNO_RET(EPERM));
        CHECK(eval(&f, SYS_read, 0, 0) == SECCOMP_RET_ALLOW);
        CHECK(eval(&f, SYS_ptrace, 0, 0) == SECCOMP_RET_ALLOW); /* minKernel 4.8 */
        CHECK(eval(&f, SYS_bpf, 0, 0) == ERRNO_RET(EPERM));     /* needs CAP_SYS_ADMIN */
        CHECK(eval(&f, SYS_clone3, 0, 0) == ERRNO_RET(ENOSYS));
        CHECK(eval(&f, SYS_clone, SIGCHLD, 0) == SECCOMP_RET_ALLOW);
        CHECK(eval(&f, SYS_clone, CLONE_NEWUSER | SIGCHLD, 0) == ERRNO_RET(EPERM));
        CHECK(eval(&f, SYS_socket, AF_INET, 0) == SECCOMP_RET_ALLOW);
        CHECK(eval(&f, SYS_socket, 40 /* AF_VSOCK */, 0) == ERRNO_RET(EPERM));
        CHECK(eval(&f, SYS_personality, 0x20008, 0) == SECCOMP_RET_ALLOW);
        CHECK(eval(&f, SYS_personality, 0x0040000, 0) == ERRNO_RET(EPERM));
        CHECK(eval(&f, SYS_arch_prctl, 0, 0) == SECCOMP_RET_ALLOW);
        const char *argv[] = {"/bin/sh", "-c", "ls / >/dev/null && echo ok | cat >/dev/null", NULL};
        CHECK(exited_zero(run_filtered(&f, exec_child, (void *)argv),
                          "sh under the Docker profile"));
        sc_filter_free(&f);
}

struct bad_case {
        const char *json;
        const char *message;
};

static void expect_error(const char *json, size_t len, const char *message)
{
        struct sc_filter f = {0};
        struct gx_error err = {0};
        int r = sc_profile_compile_text(json, len, &f, &err);
        CHECK(r < 0);
        CHECK(f.insns == NULL);
        CHECK(err.class == GX_SYSTEM);
        if (r >= 0 || !strstr(err.msg, message)) {
                fprintf(stderr, "for %.80s\n  got \"%s\"\n  expected \"%s\"\n", json,
                        r < 0 ? err.msg : "(success)", message);
                CHECK(false);
        }
        sc_filter_free(&f);
}

#define PREFIX "{\"defaultAction\":\"SCMP_ACT_ALLOW\","
#define RULE(body)                                                                                 \
        PREFIX "\"syscalls\":[{\"names\":[\"getpid\"],\"action\":\"SCMP_ACT_ERRNO\"," body "}]}"
#define ARG(body) RULE("\"args\":[{" body "}]")

static void test_bad_profiles(void)
{
        static const struct bad_case cases[] = {
                {"{\"defaultAction\":\"SCMP_ACT_FOO\"}",
                 "defaultAction: unknown action \"SCMP_ACT_FOO\""},
                {"{}", "defaultAction: missing"},
                {"{\"defaultAction\":1}", "defaultAction: must be a string"},
                {"{\"defaultAction\":\"SCMP_ACT_NOTIFY\"}", "not supported"},
                {PREFIX "\"bogus\":1}", "unknown field \"bogus\""},
                {PREFIX "\"listenerPath\":\"/x\"}", "unknown field \"listenerPath\""},
                {PREFIX "\"defaultErrnoRet\":1}", "defaultErrnoRet: only valid with"},
                {"{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":5000}",
                 "defaultErrnoRet: must be at most 4095"},
                {"{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":1.0}",
                 "defaultErrnoRet: must be an integer"},
                {"{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":\"1\"}",
                 "defaultErrnoRet: must be an integer"},
                {"{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":-1}",
                 "must not be negative"},
                {"{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":18446744073709551616}",
                 "out of range"},
                {"{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":1}",
                 "execve is not allowed"},
                {PREFIX "\"architectures\":[\"SCMP_ARCH_VAX\"]}",
                 "architectures[0]: invalid value \"SCMP_ARCH_VAX\""},
                {PREFIX "\"architectures\":[],\"archMap\":[]}", "use either"},
                {PREFIX "\"archMap\":[{\"architecture\":\"SCMP_ARCH_X86_64\",\"sub\":[]}]}",
                 "archMap[0]: unknown field \"sub\""},
                {PREFIX "\"archMap\":[{\"subArchitectures\":[]}]}",
                 "archMap[0].architecture: missing"},
                {PREFIX "\"flags\":[\"SECCOMP_FILTER_FLAG_NEW_LISTENER\"]}",
                 "flags[0]: invalid value"},
                {PREFIX "\"syscalls\":{}}", "syscalls: must be an array"},
                {PREFIX "\"syscalls\":[1]}", "syscalls[0]: must be an object"},
                {PREFIX "\"syscalls\":[{\"action\":\"SCMP_ACT_ERRNO\"}]}",
                 "syscalls[0].names: missing"},
                {PREFIX "\"syscalls\":[{\"names\":[],\"action\":\"SCMP_ACT_ERRNO\"}]}",
                 "syscalls[0].names: empty"},
                {PREFIX "\"syscalls\":[{\"names\":\"getpid\",\"action\":\"SCMP_ACT_ERRNO\"}]}",
                 "syscalls[0].names: must be an array"},
                {PREFIX "\"syscalls\":[{\"names\":[\"getpid\"]}]}", "syscalls[0].action: missing"},
                {RULE("\"name\":\"getppid\""), "use either \"name\" or \"names\""},
                {RULE("\"nme\":1"), "syscalls[0]: unknown field \"nme\""},
                {PREFIX "\"syscalls\":[{\"names\":[\"get pid\"],\"action\":\"SCMP_ACT_ERRNO\"}]}",
                 "names[0]: invalid syscall name \"get pid\""},
                {PREFIX "\"syscalls\":[{\"names\":[\"getpid\\u0000x\"],"
                        "\"action\":\"SCMP_ACT_ERRNO\"}]}",
                 "names[0]: contains a NUL character"},
                {PREFIX "\"syscalls\":[{\"names\":[\"getpid\"],\"action\":\"SCMP_ACT_ALLOW\","
                        "\"errnoRet\":1}]}",
                 "syscalls[0].errnoRet: only valid with"},
                {RULE("\"includes\":{\"caps\":[\"SYS_ADMIN\"]}"),
                 "includes.caps[0]: invalid value"},
                {RULE("\"includes\":{\"kernel\":\"4.8\"}"), "includes: unknown field \"kernel\""},
                {RULE("\"excludes\":{\"minKernel\":\"4\"}"),
                 "excludes.minKernel: expected \"X.Y\""},
                {RULE("\"excludes\":{\"minKernel\":\"4.8.1\"}"), "expected \"X.Y\""},
                {RULE("\"excludes\":{\"arches\":[\"AMD64\"]}"),
                 "excludes.arches[0]: invalid value"},
                {RULE("\"excludes\":[]"), "syscalls[0].excludes: must be an object"},
                {ARG("\"index\":0,\"value\":1,\"op\":\"SCMP_CMP_FOO\""),
                 "args[0].op: unknown operator \"SCMP_CMP_FOO\""},
                {ARG("\"index\":6,\"value\":1,\"op\":\"SCMP_CMP_EQ\""),
                 "syscalls[0].args[0].index: must be at most 5"},
                {ARG("\"index\":0,\"op\":\"SCMP_CMP_EQ\""), "args[0].value: missing"},
                {ARG("\"index\":0,\"value\":-1,\"op\":\"SCMP_CMP_EQ\""),
                 "args[0].value: must not be negative"},
                {ARG("\"index\":0,\"value\":1,\"valueTwo\":1,\"op\":\"SCMP_CMP_EQ\""),
                 "valueTwo: only used with"},
                {ARG("\"index\":0,\"value\":1,\"valueTwo\":2,\"op\":\"SCMP_CMP_MASKED_EQ\""),
                 "can never match"},
                {ARG("\"index\":0,\"value\":1,\"op\":\"SCMP_CMP_EQ\",\"extra\":0"),
                 "args[0]: unknown field \"extra\""},
                {PREFIX "\"syscalls\":[{\"names\":[\"getpid\"],\"action\":\"SCMP_ACT_ERRNO\"},"
                        "{\"names\":[\"getpid\"],\"action\":\"SCMP_ACT_KILL\"}]}",
                 "only one can apply"},
                {"{\"defaultAction\":", "truncated"},
                {"", "truncated"},
                {PREFIX "}", "invalid JSON"},
                {"{'defaultAction':'SCMP_ACT_ALLOW'}", "single quote"},
                {"{\"defaultAction\":\"SCMP_ACT_ALLOW\"} x", "JSON"},
                {"[]", "not a JSON object"},
                {"null", "JSON"},
                {PREFIX "\"comment\":[[[[[[[[[[1]]]]]]]]]]}", "invalid JSON"},
                {"{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"comment\":\"\xff\"}", "invalid JSON"},
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++)
                expect_error(cases[i].json, strlen(cases[i].json), cases[i].message);

        static const char with_nul[] = "{\"defaultAction\":\"SCMP_ACT_ALLOW\"}\0";
        expect_error(with_nul, sizeof(with_nul) - 1, "NUL byte");

        /* Too many alternatives in one rule. */
        size_t cap = 8192, len = 0;
        char *big = malloc(cap);
        len += (size_t)snprintf(big, cap, RULE("\"args\":["));
        len -= 3; /* reopen the args array */
        for (int i = 0; i < 65; i++)
                len += (size_t)snprintf(big + len, cap - len,
                                        "%s{\"index\":0,\"value\":%d,\"op\":\"SCMP_CMP_EQ\"}",
                                        i ? "," : "", i);
        len += (size_t)snprintf(big + len, cap - len, "]}]}");
        expect_error(big, len, "args: more than 64 entries");
        free(big);

        /* Oversized input is refused before it is parsed. */
        len = SC_PROFILE_MAX_BYTES + 1;
        big = malloc(len);
        memset(big, ' ', len);
        memcpy(big, "{\"defaultAction\":\"SCMP_ACT_ALLOW\"}", 34);
        expect_error(big, len, "larger than");
        free(big);
}

static void test_good_edge_cases(void)
{
        static const char *const good[] = {
                "{\"defaultAction\":\"SCMP_ACT_ALLOW\"}",
                " \n{\"defaultAction\":\"SCMP_ACT_LOG\",\"syscalls\":null,\"archMap\":null}\n",
                PREFIX "\"syscalls\":[{\"names\":[\"no_such_syscall_at_all\"],"
                       "\"action\":\"SCMP_ACT_KILL\"}]}",
                PREFIX "\"syscalls\":[{\"names\":[\"getpid\"],\"action\":\"SCMP_ACT_ALLOW\"}]}",
                PREFIX "\"syscalls\":[{\"names\":[\"getpid\"],\"action\":\"SCMP_ACT_TRACE\","
                       "\"errnoRet\":7},"
                        "{\"names\":[\"getppid\"],\"action\":\"SCMP_ACT_TRAP\"},"
                        "{\"names\":[\"gettid\"],\"action\":\"SCMP_ACT_KILL_THREAD\"},"
                        "{\"names\":[\"getuid\"],\"action\":\"SCMP_ACT_KILL_PROCESS\"}]}",
                RULE("\"args\":[{\"index\":0,\"value\":18446744073709551615,"
                     "\"op\":\"SCMP_CMP_LE\"}]"),
        };
        for (size_t i = 0; i < ELEMENTSOF(good); i++) {
                struct sc_filter f = {0};
                struct gx_error err = {0};
                int r = sc_profile_compile_text(good[i], strlen(good[i]), &f, &err);
                if (r < 0)
                        fprintf(stderr, "good[%zu]: %s\n", i, err.msg);
                CHECK(r == 0);
                sc_filter_free(&f);
        }

        struct sc_filter f = {0};
        const char *flags =
                PREFIX "\"flags\":[\"SECCOMP_FILTER_FLAG_LOG\",\"SECCOMP_FILTER_FLAG_TSYNC\"]}";
        CHECK(sc_profile_compile_text(flags, strlen(flags), &f, NULL) == 0);
        CHECK(f.flags == SECCOMP_FILTER_FLAG_LOG);
        sc_filter_free(&f);

        const char *actions =
                PREFIX "\"syscalls\":[{\"names\":[\"getppid\"],\"action\":\"SCMP_ACT_TRACE\"},"
                       "{\"names\":[\"getuid\"],\"action\":\"SCMP_ACT_KILL\"}]}";
        CHECK(sc_profile_compile_text(actions, strlen(actions), &f, NULL) == 0);
        CHECK(eval(&f, SYS_getppid, 0, 0) == (SECCOMP_RET_TRACE | EPERM));
        CHECK(eval(&f, SYS_getuid, 0, 0) == SECCOMP_RET_KILL_PROCESS);
        sc_filter_free(&f);
}

static int default_child(void *arg)
{
        (void)arg;
        char c = 0;
        EXPECT_FAIL(1, syscall(SYS_kexec_load, 0, 1000, NULL, 0), EPERM);
        EXPECT_FAIL(2, syscall(SYS_bpf, -1, NULL, 0), EPERM);
        EXPECT_FAIL(3, syscall(SYS_userfaultfd, 0x7fffffff), EPERM);
        /* fd -1: if the filter failed, nothing would reach a terminal. */
        EXPECT_FAIL(4, syscall(SYS_ioctl, -1, TIOCSTI | (1UL << 32), &c), EPERM);
        EXPECT_FAIL(5, syscall(SYS_ioctl, -1, TIOCSTI, &c), EPERM);
        EXPECT_FAIL(6, syscall(SYS_ioctl, -1, TCGETS | (1UL << 32), &c), EBADF);
        EXPECT_FAIL(7, unshare(CLONE_NEWUSER), EPERM);
        EXPECT_FAIL(8, syscall(SYS_clone3, NULL, 0), ENOSYS);
        EXPECT_FAIL(9, syscall(SYS_personality, 0x0040000), EPERM);
        EXPECT_OK(10, syscall(SYS_personality, 0xffffffff));
        EXPECT_FAIL(11, syscall(SYS_mount, NULL, "/nonexistent", NULL, 0, NULL), EPERM);
        EXPECT_FAIL(12, syscall(1000), ENOSYS);
        pid_t pid = fork(); /* clone without namespace flags still works */
        if (pid == 0)
                _exit(0);
        EXPECT_OK(13, pid);
        EXPECT_OK(14, waitpid(pid, NULL, 0));
        return 0;
}

static int x32_child(void *arg)
{
        (void)arg;
        syscall(SYS_getpid | 0x40000000);
        return 0;
}

static int no_nnp_child(void *arg)
{
        struct gx_error err = {0};
        int r = sc_filter_load(arg, &err);
        return r < 0 && strstr(err.msg, "no_new_privs") ? 0 : 1;
}

/* Under the default filter, the probe's table covers every syscall the profile denies, with
 * the errno the profile names. */
static void check_probe(const struct sc_filter *f)
{
        size_t len = 0;
        char *text = read_text(PROFILES "/default.json", &len);
        json_object *root = text ? json_tokener_parse(text) : NULL, *rules;

        if (access(PROBE, X_OK) < 0) {
                printf("skipping probe checks: %s not built\n", PROBE);
                json_object_put(root);
                free(text);
                return;
        }
        CHECK(root && json_object_object_get_ex(root, "syscalls", &rules));
        for (size_t i = 0; root && i < json_object_array_length(rules); i++) {
                json_object *rule = json_object_array_get_idx(rules, i), *names, *ret;
                json_object_object_get_ex(rule, "names", &names);
                json_object_object_get_ex(rule, "errnoRet", &ret);
                for (size_t j = 0; j < json_object_array_length(names); j++) {
                        json_object *entry = json_object_array_get_idx(names, j);
                        const char *name = json_object_get_string(entry);
                        char expected[16];
                        snprintf(expected, sizeof(expected), "%d", json_object_get_int(ret));
                        const char *argv[] = {PROBE, "syscall", name, expected, NULL};
                        int status = run_filtered(f, exec_child, (void *)argv);
                        CHECK(exited_zero(status, name));
                }
        }
        const char *all[] = {PROBE, "syscall", "all", NULL};
        CHECK(exited_zero(run_filtered(f, exec_child, (void *)all), "probe syscall all"));
        const char *tiocsti[] = {PROBE, "tiocsti", NULL};
        CHECK(exited_zero(run_filtered(f, exec_child, (void *)tiocsti), "probe tiocsti"));
        const char *x32[] = {PROBE, "x32", NULL};
        int status = run_filtered(f, exec_child, (void *)x32);
        if (seccomp_arch_native() == SCMP_ARCH_X86_64)
                CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS);
        json_object_put(root);
        free(text);
}

static void test_runtime_default(void)
{
        struct sc_filter f = {0};
        CHECK(compile_path(PROFILES "/default.json", &f) == 0);
        CHECK(exited_zero(run_filtered(&f, default_child, NULL), "default filter"));
        if (seccomp_arch_native() == SCMP_ARCH_X86_64) {
                int status = run_filtered(&f, x32_child, NULL);
                CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS);
        }

        fflush(NULL);
        pid_t pid = fork();
        if (pid == 0)
                _exit(no_nnp_child(&f));
        int status = -1;
        waitpid(pid, &status, 0);
        CHECK(exited_zero(status, "loading without no_new_privs"));

        check_probe(&f);
        sc_filter_free(&f);
}

static int strict_child(void *arg)
{
        (void)arg;
        char c = 0;
        EXPECT_FAIL(1, syscall(SYS_ioctl, -1, TIOCSTI | (1UL << 32), &c), ENOSYS);
        EXPECT_FAIL(2, syscall(SYS_ioctl, -1, TCGETS, &c), EBADF);
        EXPECT_FAIL(3, syscall(SYS_ioctl, -1, 0xdeadbeef, &c), EBADF);
        EXPECT_FAIL(4, unshare(CLONE_NEWUSER), ENOSYS);
        EXPECT_FAIL(5, syscall(SYS_ptrace, 0, 0, 0, 0), ENOSYS);
        return 0;
}

/* What an ordinary batch job does must work under the allow-list. */
static void test_runtime_strict(void)
{
        struct sc_filter f = {0};
        CHECK(compile_path(PROFILES "/strict.json", &f) == 0);
        CHECK(exited_zero(run_filtered(&f, strict_child, NULL), "strict filter"));

        char script[] =
                "set -e; ls -la / >/dev/null; echo hello | cat | grep -q hello; "
                "d=$(mktemp -d); echo x >\"$d/f\"; cp \"$d/f\" \"$d/g\"; sort \"$d/g\" >/dev/null; "
                "rm -r \"$d\"; sleep 0.01 & wait; "
                "if [ -x /usr/bin/python3 ]; then /usr/bin/python3 -c '"
                "import json, os, socket, subprocess, tempfile, threading\n"
                "t = threading.Thread(target=lambda: None); t.start(); t.join()\n"
                "assert subprocess.run([\"true\"]).returncode == 0\n"
                "s = socket.socket(); s.close()\n"
                "a, b = socket.socketpair(); a.send(b\"x\"); assert b.recv(1) == b\"x\"\n"
                "with tempfile.TemporaryFile() as f: f.write(b\"y\")\n"
                "print(json.dumps({\"pid\": os.getpid()}))' >/dev/null; fi";
        const char *argv[] = {"/bin/sh", "-c", script, NULL};
        CHECK(exited_zero(run_filtered(&f, exec_child, (void *)argv),
                          "batch job under strict.json"));
        sc_filter_free(&f);
}

/* The file entry point insists on root ownership; only root can set that up. */
static void test_compile_file(void)
{
        char dir[] = "/tmp/glexec-test-seccomp.XXXXXX", path[64];
        struct sc_filter f = {0};
        struct gx_error err = {0};
        size_t len = 0;

        if (geteuid() != 0) {
                printf("skipping sc_profile_compile_file checks: not root\n");
                return;
        }
        char *text = read_text(PROFILES "/default.json", &len);
        CHECK(text && mkdtemp(dir));
        snprintf(path, sizeof(path), "%s/profile.json", dir);
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        CHECK(fd >= 0 && gx_write_full(fd, text, len) == 0);
        close(fd);

        CHECK(sc_profile_compile_file(path, &f, &err) == 0);
        CHECK(f.len > 0);
        sc_filter_free(&f);

        CHECK(chmod(path, 0666) == 0);
        CHECK(sc_profile_compile_file(path, &f, &err) < 0 && err.class == GX_SYSTEM);
        CHECK(chmod(path, 0644) == 0 && chown(path, 65534, 65534) == 0);
        CHECK(sc_profile_compile_file(path, &f, &err) < 0 && err.class == GX_SYSTEM);
        CHECK(f.insns == NULL);

        CHECK(unlink(path) == 0 && rmdir(dir) == 0);
        free(text);
}

int main(void)
{
        test_default_profile();
        test_strict_profile();
        check_names_known(PROFILES "/default.json");
        check_names_known(PROFILES "/strict.json");
        test_docker_style();
        test_docker_default();
        test_bad_profiles();
        test_good_edge_cases();
        test_runtime_default();
        test_runtime_strict();
        test_compile_file();
        TEST_MAIN_END();
}
