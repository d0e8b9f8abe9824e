#include "verifier-wire.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

const char verify_reply_magic[8] = {'g', 'x', 'v', 'e', 'r', 'i', 0, 1};

/* A NULL string or list: a length no real one can have. */
#define WIRE_NULL UINT64_MAX

static void put(struct wire *w, const void *data, size_t len)
{
        if (w->failed)
                return;
        if (len > w->cap - w->len) {
                size_t cap = w->cap ? w->cap : 4096;
                while (cap - w->len < len)
                        cap *= 2;
                /* Not realloc(): the old buffer may hold a private key, wiped before it goes. */
                char *buf = malloc(cap);
                if (!buf) {
                        w->failed = true;
                        return;
                }
                if (w->buf) {
                        memcpy(buf, w->buf, w->len);
                        explicit_bzero(w->buf, w->cap);
                        free(w->buf);
                }
                w->buf = buf;
                w->cap = cap;
        }
        memcpy(w->buf + w->len, data, len);
        w->len += len;
}

void wire_put_u64(struct wire *w, uint64_t v)
{
        put(w, &v, sizeof(v));
}

void wire_put_bytes(struct wire *w, const void *data, size_t len)
{
        wire_put_u64(w, len);
        put(w, data, len);
}

void wire_put_str(struct wire *w, const char *s)
{
        if (s)
                wire_put_bytes(w, s, strlen(s) + 1);
        else
                wire_put_u64(w, WIRE_NULL);
}

void wire_put_strv(struct wire *w, char *const *v)
{
        size_t n = 0;
        while (v && v[n])
                n++;
        wire_put_u64(w, v ? n : WIRE_NULL);
        for (size_t i = 0; i < n; i++)
                wire_put_str(w, v[i]);
}

int wire_finish(const struct wire *w)
{
        return w->failed ? -ENOMEM : 0;
}

void wire_free(struct wire *w)
{
        if (w->buf)
                explicit_bzero(w->buf, w->cap);
        free(w->buf);
        *w = (struct wire){0};
}

static const char *take(struct wire_reader *r, size_t len)
{
        if (r->failed || len > r->left) {
                r->failed = true;
                return NULL;
        }
        const char *p = r->p;
        r->p += len;
        r->left -= len;
        return p;
}

uint64_t wire_get_u64(struct wire_reader *r)
{
        uint64_t v = 0;
        const char *p = take(r, sizeof(v));
        if (p)
                memcpy(&v, p, sizeof(v));
        return v;
}

const char *wire_get_bytes(struct wire_reader *r, size_t *ret_len)
{
        uint64_t len = wire_get_u64(r);
        const char *p = take(r, len);
        *ret_len = p ? len : 0;
        return p;
}

const char *wire_get_str(struct wire_reader *r)
{
        uint64_t len = wire_get_u64(r);
        if (len == WIRE_NULL)
                return NULL;
        const char *p = take(r, len);
        /* One NUL, at the end: a string that says what it is. */
        if (p && (len == 0 || memchr(p, '\0', len) != p + len - 1)) {
                r->failed = true;
                return NULL;
        }
        return p;
}

char **wire_get_strv(struct wire_reader *r)
{
        uint64_t n = wire_get_u64(r);
        if (n == WIRE_NULL || r->failed)
                return NULL;
        /* Each string takes at least 9 bytes: more than fit is a lie. */
        if (n > r->left / 9) {
                r->failed = true;
                return NULL;
        }
        char **v = calloc(n + 1, sizeof(*v));
        if (!v) {
                r->failed = true;
                return NULL;
        }
        for (size_t i = 0; i < n; i++) {
                v[i] = (char *)wire_get_str(r);
                if (!v[i]) {
                        r->failed = true;
                        break;
                }
        }
        return v;
}
