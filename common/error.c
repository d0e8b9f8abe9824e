#include "common/error.h"

#include <stdarg.h>
#include <string.h>

static _printf_(5, 0) int fill(struct gx_error *err, enum gx_class class, int errnum, const char *public_msg,
                const char *fmt, va_list ap)
{
        if (errnum < 0)
                errnum = -errnum;
        if (err) {
                err->class = class;
                err->errnum = errnum;
                vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
                if (errnum) {
                        size_t len = strlen(err->msg);
                        snprintf(err->msg + len, sizeof(err->msg) - len, ": %s", strerror(errnum));
                }
                snprintf(err->public_msg, sizeof(err->public_msg), "%s",
                         public_msg ? public_msg : "");
        }
        return errnum ? -errnum : -EINVAL;
}

int gx_fail(struct gx_error *err, enum gx_class class, int errnum, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        int r = fill(err, class, errnum, NULL, fmt, ap);
        va_end(ap);
        return r;
}

int gx_fail_public(struct gx_error *err, enum gx_class class, int errnum, const char *public_msg,
                   const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        int r = fill(err, class, errnum, public_msg, fmt, ap);
        va_end(ap);
        return r;
}

void gx_error_prefix(struct gx_error *err, const char *fmt, ...)
{
        if (!err)
                return;
        char prefix[256], old[sizeof(err->msg)];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(prefix, sizeof(prefix), fmt, ap);
        va_end(ap);
        memcpy(old, err->msg, sizeof(old));
        snprintf(err->msg, sizeof(err->msg), "%s: %s", prefix, old);
}
