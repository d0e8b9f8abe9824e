/* The error object every library module fills instead of printing or exiting.
 * The launcher turns it into one log line and an exit status. */
#pragma once

#include "common/macro.h"

/* Exit classes of SPEC section 5; modules say which kind of failure they saw. */
enum gx_class {
        GX_OK = 0,
        GX_CLIENT = 201, /* the caller's request or files are wrong */
        GX_SYSTEM = 202, /* the installation, configuration or kernel is wrong */
        GX_AUTHZ = 203,  /* the credential or identity is not authorized */
};

struct gx_error {
        enum gx_class class;
        int errnum;           /* errno of the failing call, 0 if none */
        char msg[512];        /* full reason, for the log */
        char public_msg[256]; /* what the caller may see; empty means use msg */
};

/* Fill err (if non-NULL) and return -errnum (or -EINVAL when errnum is 0), so that callers
 * can write `return gx_fail(err, ...)`. */
int gx_fail(struct gx_error *err, enum gx_class class, int errnum, const char *fmt, ...)
        _printf_(4, 5);

/* Like gx_fail, but with a short message for the caller beside the detailed one for the log
 * (authorization failures must not reveal site policy). */
int gx_fail_public(struct gx_error *err, enum gx_class class, int errnum, const char *public_msg,
                   const char *fmt, ...) _printf_(5, 6);

/* Prefix the message already in err with more context: "context: old message". */
void gx_error_prefix(struct gx_error *err, const char *fmt, ...) _printf_(2, 3);

static inline const char *gx_error_public(const struct gx_error *err)
{
        return err->public_msg[0] ? err->public_msg : err->msg;
}
