/*
 * LD_PRELOAD shim for Debian's linux.uml (6.1), used by tests/vm/uml-run.
 *
 * UML 6.1 saves and restores its processes' FPU state with
 * PTRACE_GETREGSET/PTRACE_SETREGSET(NT_X86_XSTATE) through a buffer whose
 * size was fixed when UML was built (2696 bytes: x87/SSE, AVX, AVX-512,
 * PKRU). The host kernel's xstateregs_set() accepts only a buffer of exactly
 * its own maximum user xstate size and answers EFAULT otherwise. On a host
 * CPU with AMX that size is about 11 KiB, so the first FPU restore fails
 * ("ptrace set fp regs failed, errno = 14") and UML panics before the guest's
 * init runs.
 *
 * When such a SETREGSET fails with EFAULT, this wrapper reads the tracee's
 * complete current state at the host's size, overlays the part UML supplied
 * and writes the complete buffer back. The components beyond UML's buffer
 * (the AMX tile state) keep the tracee's current contents; guest code never
 * uses them because UML does not expose them. A host whose size is smaller
 * than UML's gets UML's buffer cut to the host's size. Where the sizes
 * match, the real call succeeds and the wrapper does nothing else.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/types.h>
#include <sys/uio.h>

typedef long (*ptrace_fn)(enum __ptrace_request, ...);

static ptrace_fn real_ptrace;

/*
 * Static, not on the stack: UML calls ptrace() from its kernel threads,
 * whose stacks are a few KiB. 64 KiB is far above any x86 xstate size
 * (about 11 KiB with AMX). UML's tracer is a single host thread.
 */
static unsigned char full_state[65536] __attribute__((aligned(64)));

__attribute__((constructor)) static void resolve_real_ptrace(void)
{
        real_ptrace = (ptrace_fn)dlsym(RTLD_NEXT, "ptrace");
}

static long setregset_at_host_size(pid_t pid, const struct iovec *uml_iov)
{
        struct iovec iov = { .iov_base = full_state, .iov_len = sizeof(full_state) };
        size_t n;

        /* The kernel shortens iov_len to its own xstate size. */
        if (real_ptrace(PTRACE_GETREGSET, pid, (void *)(uintptr_t)NT_X86_XSTATE, &iov) < 0)
                return -1;
        if (iov.iov_len == uml_iov->iov_len) {
                errno = EFAULT;
                return -1;
        }
        n = uml_iov->iov_len < iov.iov_len ? uml_iov->iov_len : iov.iov_len;
        memcpy(full_state, uml_iov->iov_base, n);
        return real_ptrace(PTRACE_SETREGSET, pid, (void *)(uintptr_t)NT_X86_XSTATE, &iov);
}

long ptrace(enum __ptrace_request request, ...)
{
        va_list ap;
        pid_t pid;
        void *addr, *data;
        long r;

        va_start(ap, request);
        pid = va_arg(ap, pid_t);
        addr = va_arg(ap, void *);
        data = va_arg(ap, void *);
        va_end(ap);

        if (!real_ptrace) {
                errno = ENOSYS;
                return -1;
        }
        r = real_ptrace(request, pid, addr, data);
        if (r == 0 || request != PTRACE_SETREGSET || (uintptr_t)addr != NT_X86_XSTATE ||
            errno != EFAULT || !data)
                return r;
        return setregset_at_host_size(pid, data);
}
