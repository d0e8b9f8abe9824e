#include "envpack.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static const char b64_alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static size_t b64_encoded_len(size_t n)
{
        return (n + 2) / 3 * 4;
}

/* Writes b64_encoded_len(n) characters to out (no NUL). */
static void b64_encode(const unsigned char *in, size_t n, char *out)
{
        size_t o = 0;
        for (size_t i = 0; i < n; i += 3) {
                uint32_t v = (uint32_t)in[i] << 16;
                if (i + 1 < n)
                        v |= (uint32_t)in[i + 1] << 8;
                if (i + 2 < n)
                        v |= in[i + 2];
                out[o++] = b64_alphabet[(v >> 18) & 63];
                out[o++] = b64_alphabet[(v >> 12) & 63];
                out[o++] = i + 1 < n ? b64_alphabet[(v >> 6) & 63] : '=';
                out[o++] = i + 2 < n ? b64_alphabet[v & 63] : '=';
        }
}

static int b64_value(char c)
{
        if (c >= 'A' && c <= 'Z')
                return c - 'A';
        if (c >= 'a' && c <= 'z')
                return c - 'a' + 26;
        if (c >= '0' && c <= '9')
                return c - '0' + 52;
        if (c == '+')
                return 62;
        if (c == '/')
                return 63;
        return -1;
}

/* Strict: whole quads, '=' only as the padding of the last one. out needs n / 4 * 3 bytes. */
static int b64_decode(const char *in, size_t n, unsigned char *out, size_t *out_len)
{
        if (n % 4 != 0)
                return -EINVAL;
        size_t o = 0;
        for (size_t i = 0; i < n; i += 4) {
                bool last = i + 4 == n;
                int pad = 0;
                if (last && in[i + 3] == '=')
                        pad = in[i + 2] == '=' ? 2 : 1;
                uint32_t v = 0;
                for (int k = 0; k < 4; k++) {
                        int d = k >= 4 - pad ? 0 : b64_value(in[i + k]);
                        if (d < 0)
                                return -EINVAL;
                        v = v << 6 | (uint32_t)d;
                }
                out[o++] = (unsigned char)(v >> 16);
                if (pad < 2)
                        out[o++] = (unsigned char)(v >> 8);
                if (pad < 1)
                        out[o++] = (unsigned char)v;
        }
        *out_len = o;
        return 0;
}

int envpack_encode(char *const *vars, char **ret)
{
        size_t total = 0;
        for (size_t i = 0; vars[i]; i++)
                if (strchr(vars[i], '='))
                        total += b64_encoded_len(strlen(vars[i])) + 1;
        char *list = malloc(total + 1);
        if (!list)
                return -ENOMEM;
        size_t o = 0;
        for (size_t i = 0; vars[i]; i++) {
                if (!strchr(vars[i], '='))
                        continue;
                size_t n = strlen(vars[i]);
                b64_encode((const unsigned char *)vars[i], n, list + o);
                o += b64_encoded_len(n);
                list[o++] = ' ';
        }

        uLongf zlen = compressBound((uLong)o);
        unsigned char *z = malloc(zlen);
        if (!z) {
                free(list);
                return -ENOMEM;
        }
        int zr = compress2(z, &zlen, (const Bytef *)list, (uLong)o, Z_DEFAULT_COMPRESSION);
        free(list);
        if (zr != Z_OK) {
                free(z);
                return zr == Z_MEM_ERROR ? -ENOMEM : -EIO;
        }
        char *out = malloc(b64_encoded_len(zlen) + 1);
        if (!out) {
                free(z);
                return -ENOMEM;
        }
        b64_encode(z, zlen, out);
        out[b64_encoded_len(zlen)] = '\0';
        free(z);
        *ret = out;
        return 0;
}

void envpack_free(char **vars)
{
        for (size_t i = 0; vars && vars[i]; i++)
                free(vars[i]);
        free(vars);
}

static int inflate_all(const unsigned char *in, size_t n, char **ret, size_t *ret_len)
{
        z_stream zs = {0};
        if (inflateInit(&zs) != Z_OK)
                return -ENOMEM;
        size_t cap = 4096, len = 0;
        char *out = malloc(cap);
        int r = out ? 0 : -ENOMEM;
        zs.next_in = (Bytef *)in;
        zs.avail_in = (uInt)n;
        while (r == 0) {
                if (len == cap) {
                        if (cap >= ENVPACK_MAX_DECODED) {
                                r = -E2BIG;
                                break;
                        }
                        cap *= 2;
                        char *bigger = realloc(out, cap);
                        if (!bigger) {
                                r = -ENOMEM;
                                break;
                        }
                        out = bigger;
                }
                zs.next_out = (Bytef *)out + len;
                zs.avail_out = (uInt)(cap - len);
                int zr = inflate(&zs, Z_NO_FLUSH);
                len = cap - zs.avail_out;
                if (zr == Z_STREAM_END) {
                        /* Nothing may follow the stream. */
                        if (zs.avail_in != 0)
                                r = -EINVAL;
                        break;
                }
                if (zr == Z_MEM_ERROR)
                        r = -ENOMEM;
                else if (zr != Z_OK && zr != Z_BUF_ERROR)
                        r = -EINVAL;
                else if (zs.avail_out != 0)
                        r = -EINVAL; /* room left, so the input ended before the stream did */
        }
        inflateEnd(&zs);
        if (r < 0) {
                free(out);
                return r;
        }
        *ret = out;
        *ret_len = len;
        return 0;
}

static int decode_item(const char *tok, size_t n, char **ret)
{
        unsigned char *kv = malloc(n / 4 * 3 + 1);
        if (!kv)
                return -ENOMEM;
        size_t len;
        int r = b64_decode(tok, n, kv, &len);
        unsigned char *eq = r == 0 ? memchr(kv, '=', len) : NULL;
        if (r < 0 || !eq || eq == kv || memchr(kv, '\0', len)) {
                free(kv);
                return -EINVAL;
        }
        kv[len] = '\0';
        *ret = (char *)kv;
        return 0;
}

int envpack_decode(const char *text, size_t len, char ***ret)
{
        /* The outer base64, white space dropped (a line end from a file or a here-string). */
        char *clean = malloc(len + 1);
        if (!clean)
                return -ENOMEM;
        size_t n = 0;
        for (size_t i = 0; i < len; i++)
                if (text[i] != ' ' && text[i] != '\t' && text[i] != '\r' && text[i] != '\n')
                        clean[n++] = text[i];
        unsigned char *z = malloc(n / 4 * 3 + 1);
        size_t zlen = 0;
        int r = z ? b64_decode(clean, n, z, &zlen) : -ENOMEM;
        free(clean);
        char *list = NULL;
        size_t list_len = 0;
        if (r == 0)
                r = inflate_all(z, zlen, &list, &list_len);
        free(z);
        if (r < 0)
                return r;

        /* Items separated by single spaces; empty ones (the trailing space) carry nothing. */
        size_t count = 0;
        for (size_t i = 0; i < list_len; i++)
                count += list[i] == ' ';
        char **vars = calloc(count + 2, sizeof(char *));
        size_t nv = 0;
        r = vars ? 0 : -ENOMEM;
        for (size_t i = 0; r == 0 && i < list_len;) {
                size_t j = i;
                while (j < list_len && list[j] != ' ')
                        j++;
                if (j > i)
                        r = decode_item(list + i, j - i, &vars[nv++]);
                i = j + 1;
        }
        free(list);
        if (r < 0) {
                envpack_free(vars);
                return r;
        }
        *ret = vars;
        return 0;
}

const char *const envpack_default_excludes[] = {"HOME", "LOGNAME", "USER", "X509_USER_PROXY", "_",
                                                NULL};

int envpack_exclude_add(char ***list, size_t *n, const char *names)
{
        for (const char *p = names;;) {
                size_t len = strcspn(p, ",");
                if (len > 0) {
                        char **v = realloc(*list, (*n + 2) * sizeof(char *));
                        if (!v)
                                return -ENOMEM;
                        *list = v;
                        v[*n] = strndup(p, len);
                        if (!v[*n])
                                return -ENOMEM;
                        v[++*n] = NULL;
                }
                if (!p[len])
                        return 0;
                p += len + 1;
        }
}

int envpack_exclude_defaults(char ***list, size_t *n)
{
        int r = 0;
        for (size_t i = 0; r == 0 && envpack_default_excludes[i]; i++)
                r = envpack_exclude_add(list, n, envpack_default_excludes[i]);
        return r;
}

bool envpack_excluded(char *const *list, const char *var)
{
        size_t len = strcspn(var, "=");
        for (size_t i = 0; list && list[i]; i++)
                if (strlen(list[i]) == len && memcmp(list[i], var, len) == 0)
                        return true;
        return false;
}

int envpack_exclude_option(int argc, char **argv, int *i, char ***list, size_t *n)
{
        int r;
        if (strncmp(argv[*i], "--exclude=", 10) == 0)
                r = envpack_exclude_add(list, n, argv[*i] + 10);
        else if (strcmp(argv[*i], "--exclude") == 0 && *i + 1 < argc)
                r = envpack_exclude_add(list, n, argv[++*i]);
        else
                return 0;
        return r < 0 ? r : 1;
}
