/* The benchmark's stage trace (common/trace.h), compiled here with the trace on, whatever the
 * project's build says: marks from the process that started the trace and from its forked
 * children end up in one timeline, printed once, by that process, at its exit. */
#define GX_STAGE_TRACE 1
#include "../../common/trace.c"

#include <stdlib.h>
#include <sys/wait.h>

#include "common/fdutil.h"
#include "test.h"

/* What a traced glexec does: marks in the supervisor and in a forked child that leaves with
 * exit(), as helpers may, and must not print a copy. */
static _noreturn_ void traced_process(int out_fd)
{
        dup2(out_fd, STDERR_FILENO);
        gx_trace_start();
        gx_trace("first");
        pid_t child = fork();
        if (child == 0) {
                gx_trace("child");
                exit(0);
        }
        waitpid(child, NULL, 0);
        gx_trace("last");
        exit(0);
}

int main(void)
{
        int p[2];
        CHECK(pipe(p) == 0);
        pid_t pid = fork();
        if (pid == 0) {
                close(p[0]);
                traced_process(p[1]);
        }
        close(p[1]);
        char *out = NULL;
        size_t len = 0;
        CHECK(gx_read_all(p[0], 65536, &out, &len) == 0);
        int status;
        CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0);

        const char *want[] = {"first", "child", "last"};
        unsigned long long prev = 0;
        size_t n = 0;
        for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n"), n++) {
                unsigned long long ns;
                char stage[32];
                CHECK(sscanf(line, "glexec-trace\t%llu\t%31s", &ns, stage) == 2);
                CHECK(ns >= prev);
                prev = ns;
                if (n < ELEMENTSOF(want))
                        CHECK_STREQ(stage, want[n]);
        }
        CHECK(n == ELEMENTSOF(want));
        free(out);
        TEST_MAIN_END();
}
