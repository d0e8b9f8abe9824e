#include "common/strutil.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int gx_strlcpy(char *dst, const char *src, size_t n)
{
        size_t len = strlen(src);
        if (len >= n) {
                if (n)
                        dst[0] = '\0';
                return -ENAMETOOLONG;
        }
        memcpy(dst, src, len + 1);
        return 0;
}

void gx_escape(char *dst, size_t n, const char *src)
{
        size_t o = 0;
        if (n == 0)
                return;
        for (const unsigned char *p = (const unsigned char *)src; *p; p++) {
                char tmp[5];
                size_t tlen;
                if (*p >= 0x20 && *p < 0x7f && *p != '\\' && *p != '"') {
                        tmp[0] = (char)*p;
                        tlen = 1;
                } else {
                        snprintf(tmp, sizeof(tmp), "\\x%02x", *p);
                        tlen = 4;
                }
                if (o + tlen + 4 > n) {
                        if (o + 4 <= n) {
                                memcpy(dst + o, "...", 3);
                                o += 3;
                        }
                        break;
                }
                memcpy(dst + o, tmp, tlen);
                o += tlen;
        }
        dst[o] = '\0';
}

size_t gx_strv_len(char *const *v)
{
        size_t n = 0;
        while (v && v[n])
                n++;
        return n;
}

void gx_strv_free(char **v)
{
        for (size_t i = 0; v && v[i]; i++)
                free(v[i]);
        free(v);
}

int gx_strv_push(char ***v, const char *s)
{
        size_t n = gx_strv_len(*v);
        char *copy = strdup(s);
        if (!copy)
                return -ENOMEM;
        char **nv = realloc(*v, (n + 2) * sizeof(char *));
        if (!nv) {
                free(copy);
                return -ENOMEM;
        }
        nv[n] = copy;
        nv[n + 1] = NULL;
        *v = nv;
        return 0;
}

char *gx_strstrip(char *s)
{
        while (isspace((unsigned char)*s))
                s++;
        size_t len = strlen(s);
        while (len > 0 && isspace((unsigned char)s[len - 1]))
                s[--len] = '\0';
        return s;
}

char **gx_strv_split(const char *list, char sep)
{
        char **v = calloc(1, sizeof(char *));
        if (!v)
                return NULL;
        if (!list)
                return v;
        char *copy = strdup(list);
        if (!copy) {
                free(v);
                return NULL;
        }
        char *p = copy;
        for (;;) {
                char *end = strchr(p, sep);
                if (end)
                        *end = '\0';
                char *item = gx_strstrip(p);
                if (*item && gx_strv_push(&v, item) < 0) {
                        gx_strv_free(v);
                        free(copy);
                        return NULL;
                }
                if (!end)
                        break;
                p = end + 1;
        }
        free(copy);
        return v;
}

bool gx_strv_contains(char *const *v, const char *s)
{
        for (size_t i = 0; v && v[i]; i++)
                if (strcmp(v[i], s) == 0)
                        return true;
        return false;
}

bool gx_startswith(const char *s, const char *prefix)
{
        return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool gx_terminated(const char *s, size_t size)
{
        return memchr(s, '\0', size) != NULL;
}

void gx_hex(const void *bytes, size_t n, char *ret)
{
        static const char digits[] = "0123456789abcdef";
        const unsigned char *b = bytes;
        for (size_t i = 0; i < n; i++) {
                ret[2 * i] = digits[b[i] >> 4];
                ret[2 * i + 1] = digits[b[i] & 15];
        }
        ret[2 * n] = '\0';
}
