/* launch-timer: wall-clock latency of whole launches, for bench/launch.
 *
 *   launch-timer seq  [-n N] [-w WARMUP] [-p PAUSE_MS] -- VARIANT ; VARIANT ; ...
 *   launch-timer load [-c CALLERS] [-t SECONDS] -- VARIANT
 *
 * A VARIANT is NAME [VAR=value...] /absolute/command [args...]; the assignments are added to
 * the inherited environment of that variant only (no env(1) in between, whose own exec would
 * be timed). Variants are separated by a lone ";" argument.
 *
 * seq runs WARMUP + N rounds; each round launches every variant once, so that the drift of a
 * shared machine hits all variants alike, in an order shuffled afresh for every round (from a
 * fixed seed, so runs are repeatable): what one launch leaves for the kernel to finish after
 * its launcher returned must not always fall on the same next variant. bwrap, for one,
 * returns as soon as its pid 1 reports the payload's exit, before the namespaces are torn
 * down; in a fixed order A B C D A B C D ... that work was measured as part of the variant
 * after it (0.3 ms on the development machine). With -p, it sleeps
 * PAUSE_MS before every launch: launches are then "isolated", which matters because the
 * first cgroup migration after a quiet period is 7-15 ms dearer than one right after another
 * (reference/launch-costs.md). Output, one line per measured launch:
 *     NAME <TAB> ROUND <TAB> MICROSECONDS <TAB> STATUS <TAB> START_NS <TAB> END_NS
 * START_NS and END_NS are the CLOCK_MONOTONIC times before fork() and after waitpid(), which
 * place the stage timestamps of a traced glexec (common/trace.h) inside their launch.
 *
 * load starts CALLERS threads that launch the variant back to back until SECONDS have
 * passed, then prints one line per launch (NAME <TAB> CALLER <TAB> MICROSECONDS <TAB>
 * STATUS) and a last line "# elapsed_us <TAB> N".
 *
 * STATUS is the exit code, 128+N for signal N. A launch is timed from just before fork() to
 * the return of waitpid(). The payload's stdin and stdout are /dev/null, its stderr is ours.
 * This program runs as the caller (the pilot); it needs no privileges. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

struct variant {
        const char *name;
        char **argv;
        char **envp;
};

struct sample {
        uint32_t usec;
        int status;
};

struct caller {
        pthread_t thread;
        const struct variant *v;
        uint64_t deadline_ns;
        struct sample *samples;
        size_t n, cap;
        int failed_errno;
};

static int devnull = -1;

static _Noreturn void die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static _Noreturn void die(const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        fprintf(stderr, "launch-timer: ");
        vfprintf(stderr, fmt, ap);
        fprintf(stderr, "\n");
        va_end(ap);
        exit(2);
}

static uint64_t now_ns(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static unsigned long parse_num(const char *s, const char *what)
{
        char *end;
        errno = 0;
        unsigned long v = strtoul(s, &end, 10);
        if (errno || end == s || *end)
                die("bad %s", what);
        return v;
}

/* Inherited environment plus the variant's assignments (which win on a clash). */
static char **variant_env(char **assign, size_t n_assign)
{
        size_t n_env = 0;
        while (environ[n_env])
                n_env++;
        char **envp = calloc(n_env + n_assign + 1, sizeof(char *));
        if (!envp)
                die("out of memory");
        size_t o = 0;
        for (size_t i = 0; i < n_assign; i++)
                envp[o++] = assign[i];
        for (size_t i = 0; i < n_env; i++) {
                size_t klen = strcspn(environ[i], "=");
                int clash = 0;
                for (size_t j = 0; j < n_assign && !clash; j++)
                        clash = strncmp(assign[j], environ[i], klen) == 0 && assign[j][klen] == '=';
                if (!clash)
                        envp[o++] = environ[i];
        }
        return envp;
}

/* Split "NAME [VAR=v...] cmd args ; NAME ..." in place (the ";" become NULL terminators). */
static size_t parse_variants(char **args, int n, struct variant **ret)
{
        struct variant *vs = calloc((size_t)n, sizeof(*vs));
        size_t nv = 0;
        int i = 0;
        if (!vs)
                die("out of memory");
        while (i < n) {
                int start = i;
                while (i < n && strcmp(args[i], ";") != 0)
                        i++;
                if (i < n)
                        args[i++] = NULL;
                char **w = args + start;
                if (!w[0] || !w[1])
                        die("a variant needs a name and a command");
                struct variant *v = &vs[nv++];
                v->name = w[0];
                size_t a = 1;
                while (w[a] && w[a][0] != '/' && strchr(w[a], '='))
                        a++;
                if (!w[a] || w[a][0] != '/')
                        die("variant %s: the command must be an absolute path", v->name);
                v->envp = variant_env(w + 1, a - 1);
                v->argv = w + a;
        }
        if (nv == 0)
                die("no variant given");
        *ret = vs;
        return nv;
}

static int launch(const struct variant *v, uint32_t *ret_usec, int *ret_status,
                  uint64_t *ret_start_ns, uint64_t *ret_end_ns)
{
        uint64_t t0 = now_ns();
        pid_t pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0) {
                dup2(devnull, 0);
                dup2(devnull, 1);
                execve(v->argv[0], v->argv, v->envp);
                _exit(127);
        }
        int st;
        while (waitpid(pid, &st, 0) < 0)
                if (errno != EINTR)
                        return -errno;
        uint64_t t1 = now_ns(), dt = t1 - t0;
        if (ret_start_ns) {
                *ret_start_ns = t0;
                *ret_end_ns = t1;
        }
        *ret_usec = dt / 1000 > UINT32_MAX ? UINT32_MAX : (uint32_t)(dt / 1000);
        *ret_status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        return 0;
}

static void pause_ms(unsigned long ms)
{
        struct timespec ts = {.tv_sec = (time_t)(ms / 1000), .tv_nsec = (long)(ms % 1000) * 1000000};
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

/* splitmix64: a small, well-mixed generator; the permutations need no more. */
static uint64_t next_random(uint64_t *state)
{
        uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
}

static int run_seq(struct variant *vs, size_t nv, unsigned long rounds, unsigned long warmup,
                   unsigned long pause)
{
        size_t *order = calloc(nv, sizeof(*order));
        if (!order)
                die("out of memory");
        for (size_t i = 0; i < nv; i++)
                order[i] = i;
        uint64_t seed = 1;
        for (unsigned long r = 0; r < warmup + rounds; r++) {
                for (size_t i = nv; i > 1; i--) { /* Fisher-Yates */
                        size_t j = (size_t)(next_random(&seed) % i), t = order[i - 1];
                        order[i - 1] = order[j];
                        order[j] = t;
                }
                for (size_t k = 0; k < nv; k++) {
                        const struct variant *v = &vs[order[k]];
                        uint32_t usec;
                        int status;
                        uint64_t start, end;
                        if (pause)
                                pause_ms(pause);
                        int e = launch(v, &usec, &status, &start, &end);
                        if (e < 0)
                                die("fork/wait: %s", strerror(-e));
                        if (r >= warmup)
                                printf("%s\t%lu\t%u\t%d\t%llu\t%llu\n", v->name, r - warmup,
                                       usec, status, (unsigned long long)start,
                                       (unsigned long long)end);
                }
        }
        free(order);
        return fflush(stdout) == 0 ? 0 : 1;
}

static void *caller_main(void *arg)
{
        struct caller *c = arg;
        while (now_ns() < c->deadline_ns) {
                if (c->n == c->cap) {
                        size_t cap = c->cap ? 2 * c->cap : 4096;
                        struct sample *s = realloc(c->samples, cap * sizeof(*s));
                        if (!s) {
                                c->failed_errno = ENOMEM;
                                break;
                        }
                        c->samples = s;
                        c->cap = cap;
                }
                struct sample *s = &c->samples[c->n];
                int e = launch(c->v, &s->usec, &s->status, NULL, NULL);
                if (e < 0) {
                        c->failed_errno = -e;
                        break;
                }
                c->n++;
        }
        return NULL;
}

static int run_load(const struct variant *v, unsigned long callers, unsigned long seconds)
{
        struct caller *cs = calloc(callers, sizeof(*cs));
        if (!cs)
                die("out of memory");
        uint64_t t0 = now_ns();
        for (unsigned long i = 0; i < callers; i++) {
                cs[i].v = v;
                cs[i].deadline_ns = t0 + (uint64_t)seconds * 1000000000u;
                if (pthread_create(&cs[i].thread, NULL, caller_main, &cs[i]) != 0)
                        die("pthread_create failed");
        }
        size_t total = 0;
        int failed = 0;
        for (unsigned long i = 0; i < callers; i++)
                pthread_join(cs[i].thread, NULL);
        uint64_t elapsed = now_ns() - t0;
        for (unsigned long i = 0; i < callers; i++) {
                for (size_t j = 0; j < cs[i].n; j++)
                        printf("%s\t%lu\t%u\t%d\n", v->name, i, cs[i].samples[j].usec,
                               cs[i].samples[j].status);
                total += cs[i].n;
                if (cs[i].failed_errno) {
                        fprintf(stderr, "launch-timer: caller %lu: %s\n", i,
                                strerror(cs[i].failed_errno));
                        failed = 1;
                }
        }
        printf("# elapsed_us\t%llu\t%zu\n", (unsigned long long)(elapsed / 1000), total);
        return fflush(stdout) == 0 && !failed ? 0 : 1;
}

int main(int argc, char **argv)
{
        unsigned long rounds = 200, warmup = 5, pause = 0, callers = 4, seconds = 30;
        if (argc < 2)
                die("usage: launch-timer seq|load [options] -- VARIANT [; VARIANT...]");
        const char *mode = argv[1];
        int load = strcmp(mode, "load") == 0;
        if (!load && strcmp(mode, "seq") != 0)
                die("unknown mode %s", mode);

        int opt;
        optind = 2;
        while ((opt = getopt(argc, argv, "+n:w:p:c:t:")) != -1) {
                switch (opt) {
                case 'n': rounds = parse_num(optarg, "-n"); break;
                case 'w': warmup = parse_num(optarg, "-w"); break;
                case 'p': pause = parse_num(optarg, "-p"); break;
                case 'c': callers = parse_num(optarg, "-c"); break;
                case 't': seconds = parse_num(optarg, "-t"); break;
                default: exit(2);
                }
        }
        if (callers == 0 || callers > 4096)
                die("-c must be 1..4096");

        devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (devnull < 0)
                die("cannot open /dev/null");
        struct variant *vs;
        size_t nv = parse_variants(argv + optind, argc - optind, &vs);
        if (load) {
                if (nv != 1)
                        die("load takes exactly one variant");
                return run_load(&vs[0], callers, seconds);
        }
        return run_seq(vs, nv, rounds, warmup, pause);
}
