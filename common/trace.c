/* See common/trace.h: built only for the benchmark. */
#include "common/trace.h"

#if GX_STAGE_TRACE

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "common/fdutil.h"
#include "common/macro.h"

struct trace_mark {
        uint64_t ns;
        const char *stage; /* a literal: the same address in every forked process */
};

struct trace_page {
        pid_t owner;
        unsigned n;
        struct trace_mark marks[250];
};

static struct trace_page *page;

static void trace_print(void)
{
        /* Forked processes that exit() instead of _exit() must not print a copy. */
        if (!page || getpid() != page->owner)
                return;
        unsigned n = __atomic_load_n(&page->n, __ATOMIC_ACQUIRE);
        if (n > ELEMENTSOF(page->marks))
                n = ELEMENTSOF(page->marks);
        char buf[16384];
        size_t o = 0;
        for (unsigned i = 0; i < n && o + 64 < sizeof(buf); i++)
                o += (size_t)snprintf(buf + o, sizeof(buf) - o, "glexec-trace\t%llu\t%s\n",
                                      (unsigned long long)page->marks[i].ns,
                                      page->marks[i].stage);
        gx_write_full(STDERR_FILENO, buf, o);
}

void gx_trace_start(void)
{
        /* MAP_SHARED: the init and the payload, forked later, write into the same page. */
        void *p = mmap(NULL, sizeof(*page), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                       -1, 0);
        if (p == MAP_FAILED)
                return;
        page = p;
        page->owner = getpid();
        atexit(trace_print);
}

void gx_trace(const char *stage)
{
        if (!page)
                return;
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        unsigned i = __atomic_fetch_add(&page->n, 1, __ATOMIC_ACQ_REL);
        if (i < ELEMENTSOF(page->marks))
                page->marks[i] = (struct trace_mark){
                        .ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec,
                        .stage = stage};
}

#endif
