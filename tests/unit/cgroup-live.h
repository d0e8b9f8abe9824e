/* The scenarios both live cgroup tests run (test-cgroup-v1.c on this host, test-cgroup-v2.c
 * in a User-Mode Linux guest): OOM kill, fork limit, CPU quota, a leftover daemon, stale
 * cleanup, and the cost of create + destroy. Set live_mode before calling them. */
#pragma once

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/fdutil.h"
#include "sandbox/cgroup.h"
#include "test.h"

#define MiB (1024ULL * 1024)

static enum cg_mode live_mode;

static char test_ids[16][CG_LAUNCH_ID_LEN + 1];
static unsigned n_test_ids;

static const char *new_id(void)
{
        char *id = test_ids[n_test_ids];
        snprintf(id, CG_LAUNCH_ID_LEN + 1, "7e57%08x%012x", (unsigned)getpid(), n_test_ids);
        n_test_ids++;
        return id;
}

static double now(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_now(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct cg *create(const struct cg_parent *p, const char *id, uint64_t mem,
                         uint64_t cpu_milli, uint64_t pids)
{
        struct cg_limits l = {.memory_max = mem, .cpu_max_milli = cpu_milli, .pids_max = pids};
        struct cg *cg = NULL;
        struct gx_error err = {};
        int r = cg_create(p, id, &l, &cg, &err);
        if (r < 0)
                fprintf(stderr, "cg_create: %s\n", err.msg);
        CHECK(r == 0);
        return r == 0 ? cg : NULL;
}

static void destroy(struct cg *cg)
{
        struct gx_error err = {};
        int r = cg_destroy(cg, &err);
        if (r < 0)
                fprintf(stderr, "cg_destroy: %s\n", err.msg);
        CHECK(r == 0);
        CHECK(access(cg_path(cg), F_OK) < 0 && errno == ENOENT);
        cg_free(cg);
}

static int wait_status(pid_t pid)
{
        int status = 0;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        return status;
}

static struct cg_stats stats(struct cg *cg)
{
        struct cg_stats s = {};
        struct gx_error err = {};
        int r = cg_read_stats(cg, &s, &err);
        if (r < 0)
                fprintf(stderr, "cg_read_stats: %s\n", err.msg);
        CHECK(r == 0);
        return s;
}

/* A child that is in the payload cgroup before it does anything: cloned into it on v2,
 * attached by itself on v1. */
static pid_t spawn_attached(const struct cg *cg, void (*body)(void))
{
        pid_t pid;
        if (live_mode == CG_MODE_V2) {
                pid = cg_clone3_into(cg, 0, NULL);
                if (pid < 0)
                        fprintf(stderr, "cg_clone3_into: %s\n", strerror(-pid));
        } else {
                pid = fork();
                if (pid == 0 && cg_attach_self(cg) < 0)
                        _exit(100);
        }
        if (pid == 0) {
                body();
                _exit(0);
        }
        CHECK(pid > 0);
        return pid;
}

static void eat_memory(void)
{
        for (int i = 0; i < 200; i++) {
                char *p = malloc(MiB);
                if (!p)
                        _exit(101);
                memset(p, i + 1, MiB);
        }
}

static void test_oom(const struct cg_parent *p)
{
        struct cg *cg = create(p, new_id(), 64 * MiB, 0, 0);
        if (!cg)
                return;
        int status = wait_status(spawn_attached(cg, eat_memory));
        CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
        struct cg_stats s = stats(cg);
        printf("oom: status 0x%x, oom_kills %lld, limit hits %llu, peak %lld\n", status,
               (long long)s.oom_kills, (unsigned long long)s.memory_limit_hits,
               (long long)s.memory_peak_bytes);
        CHECK(s.oom_killed);
        CHECK(s.oom_kills != 0);
        /* 6.x kernels keep v1 failcnt at 0 here; v2 counts in memory.events. */
        CHECK(live_mode == CG_MODE_V1 || s.memory_limit_hits > 0);
        CHECK(s.memory_peak_bytes > (int64_t)(32 * MiB) &&
              s.memory_peak_bytes <= (int64_t)(64 * MiB));
        destroy(cg);
}

static void fork_loop(void)
{
        pid_t kids[100];
        int n = 0, failed = 0;
        for (int i = 0; i < 100; i++) {
                pid_t k = fork();
                if (k == 0) {
                        pause();
                        _exit(0);
                }
                if (k < 0)
                        failed++;
                else
                        kids[n++] = k;
        }
        for (int i = 0; i < n; i++) {
                kill(kids[i], SIGKILL);
                waitpid(kids[i], NULL, 0);
        }
        _exit(failed > 250 ? 250 : failed);
}

static void test_pids(const struct cg_parent *p)
{
        struct cg *cg = create(p, new_id(), 0, 0, 16);
        if (!cg)
                return;
        int status = wait_status(spawn_attached(cg, fork_loop));
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) >= 80 && WEXITSTATUS(status) < 100);
        struct cg_stats s = stats(cg);
        printf("pids: %d of 100 forks refused, pids.events max %llu, peak %lld\n",
               WIFEXITED(status) ? WEXITSTATUS(status) : -1,
               (unsigned long long)s.pids_limit_hits, (long long)s.pids_peak);
        CHECK(s.pids_limit_hits > 0);
        CHECK(s.pids_peak == -1 || s.pids_peak == 16);
        destroy(cg);
}

/* Spin 0.25 s of CPU, then leave a daemon behind (double fork, new session) whose pid goes
 * to the test through fd 3. */
static void spin_and_leave_daemon(void)
{
        double start = cpu_now();
        while (cpu_now() - start < 0.25)
                ;
        pid_t d1 = fork();
        if (d1 == 0) {
                setsid();
                pid_t d2 = fork();
                if (d2 == 0) {
                        pid_t self = getpid();
                        (void)!write(3, &self, sizeof(self));
                        close(3);
                        sleep(1000);
                        _exit(0);
                }
                _exit(0);
        }
        waitpid(d1, NULL, 0);
}

static bool in_cgroup(pid_t pid, const char *cgpath_suffix)
{
        char file[64], *text = NULL, *path = NULL;
        snprintf(file, sizeof(file), "/proc/%d/cgroup", (int)pid);
        int fd = open(file, O_RDONLY | O_CLOEXEC);
        bool ok = fd >= 0 && gx_read_all(fd, 1 << 16, &text, NULL) == 0 &&
                  cg_parse_proc_cgroup(text, live_mode == CG_MODE_V1 ? "memory" : NULL,
                                       &path) == 0 &&
                  strlen(path) >= strlen(cgpath_suffix) &&
                  strcmp(path + strlen(path) - strlen(cgpath_suffix), cgpath_suffix) == 0;
        if (fd >= 0)
                close(fd);
        free(text);
        free(path);
        return ok;
}

static void test_cpu_and_leftover(const struct cg_parent *p)
{
        const char *id = new_id();
        struct cg *cg = create(p, id, 0, 200, 0);
        if (!cg)
                return;
        int go[2], daemon_pipe[2];
        CHECK(pipe2(go, O_CLOEXEC) == 0 && pipe(daemon_pipe) == 0);
        pid_t pid = fork();
        if (pid == 0) {
                char c;
                close(go[1]);
                if (read(go[0], &c, 1) != 1 || cg_attach_self(cg) < 0)
                        _exit(102);
                dup2(daemon_pipe[1], 3);
                spin_and_leave_daemon();
                _exit(0);
        }
        close(daemon_pipe[1]);
        close(go[0]);
        double start = now();
        CHECK(write(go[1], "x", 1) == 1);
        close(go[1]);
        int status = wait_status(pid);
        double wall = now() - start;
        pid_t daemon = 0;
        CHECK(read(daemon_pipe[0], &daemon, sizeof(daemon)) == sizeof(daemon));
        close(daemon_pipe[0]);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);

        struct cg_stats s = stats(cg);
        printf("cpu: 0.25 s of CPU at 0.2 CPUs took %.2f s wall; user %.3f s, system %.3f s, "
               "throttled %llu times\n",
               wall, (double)s.cpu_user_usec / 1e6, (double)s.cpu_system_usec / 1e6,
               (unsigned long long)s.cpu_nr_throttled);
        /* 0.25 s at 0.2 CPUs needs 12 periods of 100 ms at least. Throttling shows unless
         * the busy machine gave the child less than its quota anyway. */
        double used = (double)(s.cpu_user_usec + s.cpu_system_usec) / 1e6;
        CHECK(used >= 0.2);
        CHECK(wall > 1.0);
        CHECK(s.cpu_nr_throttled > 0 || used / wall < 0.18);
        CHECK(!s.oom_killed && s.oom_kills == 0);

        char suffix[64];
        snprintf(suffix, sizeof(suffix), "/glexec-%s", id);
        CHECK(daemon > 0 && in_cgroup(daemon, suffix));
        double t = now();
        destroy(cg);
        printf("teardown with a leftover daemon: %.1f ms\n", (now() - t) * 1e3);
        /* The test is a child subreaper: the orphaned daemon is its child now. */
        if (daemon > 0) {
                status = wait_status(daemon);
                CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
        }
}

struct dead_set {
        const char *dead[4];
        size_t n;
        unsigned calls;
};

static int owner_alive(const char *id, void *userdata)
{
        struct dead_set *s = userdata;
        s->calls++;
        for (size_t i = 0; i < s->n; i++)
                if (strcmp(s->dead[i], id) == 0)
                        return 0;
        return 1;
}

static void sleep_forever(void)
{
        for (;;)
                pause();
}

static unsigned cleanup(const struct cg_parent *p, const char *own_id, struct dead_set *set)
{
        struct gx_error err = {};
        unsigned removed = 99;
        int r = cg_cleanup_stale(p, own_id, owner_alive, set, &removed, &err);
        if (r < 0)
                fprintf(stderr, "cg_cleanup_stale: %s\n", err.msg);
        CHECK(r == 0);
        return removed;
}

static void test_stale(const struct cg_parent *p)
{
        const char *busy_id = new_id(), *empty_id = new_id(), *live_id = new_id();
        struct cg *busy = create(p, busy_id, 64 * MiB, 0, 0);
        struct cg *empty = create(p, empty_id, 0, 0, 0);
        struct cg *live = create(p, live_id, 0, 0, 0);
        if (!busy || !empty || !live)
                return;
        char busy_path[4096], empty_path[4096], foreign[4096];
        snprintf(busy_path, sizeof(busy_path), "%s", cg_path(busy));
        snprintf(empty_path, sizeof(empty_path), "%s", cg_path(empty));
        pid_t sleeper = spawn_attached(busy, sleep_forever);
        /* Wait until the sleeper is in. */
        for (int i = 0; i < 1000 && !in_cgroup(sleeper, strrchr(busy_path, '/')); i++)
                usleep(1000);
        /* Their supervisors "crash": the handles go, the cgroups stay. */
        cg_free(busy);
        cg_free(empty);

        /* A glexec-* directory the caller made itself is never touched. */
        const char *foreign_id = new_id();
        snprintf(foreign, sizeof(foreign), "%.*s/glexec-%s",
                 (int)(strrchr(empty_path, '/') - empty_path), empty_path, foreign_id);
        CHECK(mkdir(foreign, 0755) == 0 && chown(foreign, 65534, 65534) == 0);

        struct dead_set set = {.dead = {busy_id, empty_id, foreign_id}, .n = 3};
        double t = now();
        unsigned removed = cleanup(p, NULL, &set);
        printf("stale cleanup: %u removed in %.1f ms (%u owner checks)\n", removed,
               (now() - t) * 1e3, set.calls);
        CHECK(removed == 2);
        CHECK(access(busy_path, F_OK) < 0 && access(empty_path, F_OK) < 0);
        CHECK(access(cg_path(live), F_OK) == 0);
        CHECK(access(foreign, F_OK) == 0);
        int status = wait_status(sleeper);
        CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

        /* Second pass: nothing dead left. */
        removed = cleanup(p, NULL, &set);
        CHECK(removed == 0);

        /* Our own launch is skipped even when the predicate would call it dead. */
        set.dead[3] = live_id;
        set.n = 4;
        removed = cleanup(p, live_id, &set);
        CHECK(removed == 0);
        CHECK(access(cg_path(live), F_OK) == 0);
        removed = cleanup(p, NULL, &set);
        CHECK(removed == 1);
        CHECK(access(cg_path(live), F_OK) < 0);
        cg_free(live);
        CHECK(rmdir(foreign) == 0);
}

static int cmp_double(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;
        return x < y ? -1 : x > y;
}

static void bench(const struct cg_parent *p)
{
        enum { N = 100 };
        double t_create[N], t_destroy[N], t_all[N];
        struct cg_limits l = {.memory_max = 64 * MiB, .cpu_max_milli = 500, .pids_max = 64};
        for (int i = 0; i < N; i++) {
                char id[CG_LAUNCH_ID_LEN + 1];
                snprintf(id, sizeof(id), "7e57%08x%012x", (unsigned)getpid(), 0xbe000u + i);
                struct cg *cg = NULL;
                struct gx_error err = {};
                double t0 = now();
                int r = cg_create(p, id, &l, &cg, &err);
                double t1 = now();
                CHECK(r == 0);
                if (r < 0) {
                        fprintf(stderr, "%s\n", err.msg);
                        return;
                }
                r = cg_destroy(cg, &err);
                double t2 = now();
                CHECK(r == 0);
                cg_free(cg);
                t_create[i] = (t1 - t0) * 1e6;
                t_destroy[i] = (t2 - t1) * 1e6;
                t_all[i] = (t2 - t0) * 1e6;
        }
        qsort(t_create, N, sizeof(double), cmp_double);
        qsort(t_destroy, N, sizeof(double), cmp_double);
        qsort(t_all, N, sizeof(double), cmp_double);
        printf("bench (%d runs, µs median [p10 p90]): create %.0f [%.0f %.0f], destroy %.0f "
               "[%.0f %.0f], both %.0f [%.0f %.0f]\n",
               N, t_create[N / 2], t_create[N / 10], t_create[N * 9 / 10], t_destroy[N / 2],
               t_destroy[N / 10], t_destroy[N * 9 / 10], t_all[N / 2], t_all[N / 10],
               t_all[N * 9 / 10]);

        double t_parent[N];
        for (int i = 0; i < N; i++) {
                struct cg_parent *q = NULL;
                struct cg_parent_request req = {.parent = "auto"};
                double t0 = now();
                CHECK(cg_parent_open(live_mode, &req, &q, NULL) == 0);
                t_parent[i] = (now() - t0) * 1e6;
                cg_parent_free(q);
        }
        qsort(t_parent, N, sizeof(double), cmp_double);
        struct dead_set none = {.n = 0};
        double t_stale[N];
        for (int i = 0; i < N; i++) {
                double t0 = now();
                CHECK(cg_cleanup_stale(p, NULL, owner_alive, &none, NULL, NULL) == 0);
                t_stale[i] = (now() - t0) * 1e6;
        }
        qsort(t_stale, N, sizeof(double), cmp_double);
        printf("bench: cg_parent_open %.0f µs, cg_cleanup_stale (nothing stale) %.0f µs median\n",
               t_parent[N / 2], t_stale[N / 2]);
}

/* Nothing named after a test id may be left in any hierarchy. */