#include "common/parse.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <string.h>

int gx_parse_u64(const char *s, uint64_t *ret)
{
        if (!s || !*s)
                return -EINVAL;
        uint64_t v = 0;
        for (const char *p = s; *p; p++) {
                if (!isdigit((unsigned char)*p))
                        return -EINVAL;
                unsigned d = (unsigned)(*p - '0');
                if (v > (UINT64_MAX - d) / 10)
                        return -ERANGE;
                v = v * 10 + d;
        }
        *ret = v;
        return 0;
}

int gx_parse_size(const char *s, uint64_t *ret)
{
        if (!s || !*s)
                return -EINVAL;
        char buf[32];
        size_t len = strlen(s);
        if (len >= sizeof(buf))
                return -ERANGE;
        memcpy(buf, s, len + 1);
        uint64_t mult = 1;
        switch (buf[len - 1]) {
        case 'K': case 'k': mult = 1ULL << 10; break;
        case 'M': case 'm': mult = 1ULL << 20; break;
        case 'G': case 'g': mult = 1ULL << 30; break;
        default: break;
        }
        if (mult != 1)
                buf[len - 1] = '\0';
        uint64_t v;
        int r = gx_parse_u64(buf, &v);
        if (r < 0)
                return r;
        if (v > UINT64_MAX / mult)
                return -ERANGE;
        *ret = v * mult;
        return 0;
}

int gx_parse_bool(const char *s, bool *ret)
{
        if (!s)
                return -EINVAL;
        if (strcmp(s, "yes") == 0 || strcmp(s, "true") == 0) {
                *ret = true;
                return 0;
        }
        if (strcmp(s, "no") == 0 || strcmp(s, "false") == 0) {
                *ret = false;
                return 0;
        }
        return -EINVAL;
}

int gx_parse_milli(const char *s, uint64_t *ret)
{
        if (!s || !*s)
                return -EINVAL;
        const char *dot = strchr(s, '.');
        char whole[24];
        size_t wlen = dot ? (size_t)(dot - s) : strlen(s);
        if (wlen == 0 || wlen >= sizeof(whole))
                return -EINVAL;
        memcpy(whole, s, wlen);
        whole[wlen] = '\0';
        uint64_t w;
        int r = gx_parse_u64(whole, &w);
        if (r < 0)
                return r;
        uint64_t frac = 0;
        if (dot) {
                const char *f = dot + 1;
                size_t flen = strlen(f);
                if (flen == 0 || flen > 3)
                        return -EINVAL;
                for (size_t i = 0; i < 3; i++) {
                        frac *= 10;
                        if (i < flen) {
                                if (!isdigit((unsigned char)f[i]))
                                        return -EINVAL;
                                frac += (uint64_t)(f[i] - '0');
                        }
                }
        }
        if (w > (UINT64_MAX - frac) / 1000)
                return -ERANGE;
        *ret = w * 1000 + frac;
        return 0;
}

int gx_parse_fd(const char *s, int *ret)
{
        uint64_t v;
        int r = gx_parse_u64(s, &v);
        if (r < 0)
                return r;
        if (v > INT_MAX)
                return -ERANGE;
        *ret = (int)v;
        return 0;
}
