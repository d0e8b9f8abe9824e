/* Seccomp profiles in the OCI/Docker JSON format, compiled with libseccomp in the supervisor
 * into a plain BPF program that the payload's last step only loads (DESIGN habit 8).
 *
 * Profile semantics, where the format leaves room:
 * - Only the native architecture is compiled, whatever "architectures"/"archMap" say (the names
 *   are validated, then ignored). Every other audit arch, and the x32 ABI on x86_64 (which
 *   shares AUDIT_ARCH_X86_64 and is told apart by syscall bit 0x40000000), kills the process.
 * - Syscall numbers above the highest one libseccomp can name on this architecture get ENOSYS,
 *   so that libc falls back to an older call and no profile allows a syscall its author could
 *   not have reviewed. Names libseccomp does not know, or that are not syscalls on this
 *   architecture, are skipped silently (as runc does), so newer profiles load unchanged.
 * - The payload holds no capabilities: a rule "includes"-ing any capability never applies, an
 *   "excludes" by capability never excludes. "arches" match the Docker name of the native
 *   architecture ("amd64", "arm64", ...). "minKernel" ("X.Y") compares with uname.
 * - Several "args" on one index within one rule are alternatives (one rule per argument), as
 *   in runc; "args" on distinct indices must all match. For SCMP_CMP_MASKED_EQ "value" is the
 *   mask and "valueTwo" the expected result.
 * - SCMP_ACT_KILL kills the whole process (a half-dead multi-threaded payload would only hang).
 *   SCMP_ACT_ERRNO and SCMP_ACT_TRACE default to EPERM. SCMP_ACT_NOTIFY is not supported.
 * - A rule whose action is the default action is a no-op. An unconditional rule and another
 *   rule for the same syscall with a different action is an error (libseccomp would silently
 *   keep only one of them).
 * - Unknown fields, actions, operators and architectures are errors; "comment" is ignored
 *   everywhere. A duplicated JSON key keeps its last value, as in Go's encoding/json.
 * Every profile error is GX_SYSTEM: profiles are site configuration. */
#pragma once

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

#define SC_PROFILE_MAX_BYTES (1024 * 1024)

struct sc_filter {
        struct sock_filter *insns;
        unsigned short len;
        unsigned int flags; /* SECCOMP_FILTER_FLAG_* for seccomp(2), from the profile's "flags" */
};

/* json need not be NUL-terminated. On success *ret holds a filter to free with
 * sc_filter_free. */
int sc_profile_compile_text(const char *json, size_t len, struct sc_filter *ret,
                            struct gx_error *err);

/* The profile must be root-owned along its whole path (gx_open_trusted). */
int sc_profile_compile_file(const char *path, struct sc_filter *ret, struct gx_error *err);

/* The two halves of sc_profile_compile_file, for a caller that also hashes the profile's text
 * (launcher/seccomp-cache.c): read it through gx_open_trusted into a NUL-terminated malloc'd
 * buffer, and compile that text with errors prefixed by path. */
int sc_profile_read(const char *path, char **ret_buf, size_t *ret_len, struct gx_error *err);
int sc_profile_compile_named(const char *path, const char *json, size_t len,
                             struct sc_filter *ret, struct gx_error *err);

/* What, besides the profile's text and glexec's own code, decides the compiled program: the
 * native architecture, the kernel's major.minor (profiles' "minKernel") and libseccomp's
 * version (which syscalls it names). A printable line into buf. */
int sc_host_fingerprint(char *buf, size_t size, struct gx_error *err);

/* The checks every compiled program passes: 1..BPF_MAXINSNS instructions, only the flags a
 * profile can set, and execve allowed. For a program that comes from elsewhere (the cache). */
int sc_filter_check(const struct sc_filter *f, struct gx_error *err);

void sc_filter_free(struct sc_filter *f);

/* Install the filter on the calling thread. Meant for the payload right before execve: it
 * allocates nothing and refuses unless no_new_privs is already set. */
int sc_filter_load(const struct sc_filter *f, struct gx_error *err);

/* Run the filter on one syscall as the kernel would and return its SECCOMP_RET_* value; an
 * instruction outside what seccomp filters use gives SECCOMP_RET_KILL_PROCESS. The compiler
 * uses it to check each filter it produces; tests use it to check profiles exhaustively. */
uint32_t sc_filter_eval(const struct sc_filter *f, const struct seccomp_data *data);
