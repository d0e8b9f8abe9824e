/* The GLEXEC_ENV codec of glexec_wrapenv and glexec_unwrapenv: round trips of awkward values,
 * a packed string in gLExec's format made independently here, exclusions, and refusals of
 * malformed or oversized input. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "envpack.h"
#include "test.h"

static size_t count(char **v)
{
        size_t n = 0;
        while (v && v[n])
                n++;
        return n;
}

static void test_round_trip(void)
{
        char big[70000];
        memset(big, 'x', sizeof(big) - 1);
        big[0] = 'B';
        big[1] = '=';
        big[sizeof(big) - 1] = '\0';
        char *vars[] = {
                "PLAIN=value",
                "NEWLINES=line 1\nline 2\n\n",
                "QUOTES=it's \"quoted\" `and` $(not run)",
                "EQUALS=a=b==c=",
                "EMPTY=",
                "SPACES=  lead and trail  ",
                "UTF8=Jos\xc3\xa9 M\xc3\xbcller",
                "CTRL=\x01\x7f\xff",
                big,
                "NOEQUALS", /* not a variable: dropped */
                NULL,
        };
        char *packed = NULL;
        CHECK(envpack_encode(vars, &packed) == 0);
        /* One line of base64, safe as an environment value. */
        CHECK(packed && strspn(packed, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                       "0123456789+/=") == strlen(packed));
        char **out = NULL;
        CHECK(envpack_decode(packed, strlen(packed), &out) == 0);
        CHECK(count(out) == 9);
        for (size_t i = 0; out && i < 9; i++)
                CHECK_STREQ(out[i], vars[i]);
        envpack_free(out);

        /* A trailing newline (from a file) and line breaks are tolerated. */
        size_t len = strlen(packed);
        char *wrapped = malloc(len + len / 60 + 2);
        size_t o = 0;
        for (size_t i = 0; i < len; i++) {
                wrapped[o++] = packed[i];
                if (i % 60 == 59)
                        wrapped[o++] = '\n';
        }
        wrapped[o++] = '\n';
        CHECK(envpack_decode(wrapped, o, &out) == 0);
        CHECK(count(out) == 9);
        envpack_free(out);
        free(wrapped);
        free(packed);

        char *none[] = {NULL};
        CHECK(envpack_encode(none, &packed) == 0);
        CHECK(envpack_decode(packed, strlen(packed), &out) == 0);
        CHECK(count(out) == 0);
        envpack_free(out);
        free(packed);
}

/* base64 with padding, written out here rather than shared with the codec. */
static char *b64(const unsigned char *in, size_t n)
{
        static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        char *out = malloc((n + 2) / 3 * 4 + 1), *p = out;
        for (size_t i = 0; i < n; i += 3) {
                unsigned v = in[i] << 16 | (i + 1 < n ? in[i + 1] << 8 : 0) |
                             (i + 2 < n ? in[i + 2] : 0);
                *p++ = a[v >> 18 & 63];
                *p++ = a[v >> 12 & 63];
                *p++ = i + 1 < n ? a[v >> 6 & 63] : '=';
                *p++ = i + 2 < n ? a[v & 63] : '=';
        }
        *p = '\0';
        return out;
}

static char *pack_raw(const char *list, size_t len)
{
        uLongf zlen = compressBound(len);
        unsigned char *z = malloc(zlen);
        CHECK(compress(z, &zlen, (const Bytef *)list, len) == Z_OK);
        char *s = b64(z, zlen);
        free(z);
        return s;
}

static void test_glexec_format(void)
{
        /* What glexec_wrapenv.pl produces: "base64(K=V) " per variable, deflated, base64. */
        char *i1 = b64((const unsigned char *)"A=1", 3);
        char *i2 = b64((const unsigned char *)"B=x\ny", 5);
        char list[64];
        snprintf(list, sizeof(list), "%s %s ", i1, i2);
        char *packed = pack_raw(list, strlen(list));
        char **out = NULL;
        CHECK(envpack_decode(packed, strlen(packed), &out) == 0);
        CHECK(count(out) == 2);
        CHECK_STREQ(out[0], "A=1");
        CHECK_STREQ(out[1], "B=x\ny");
        envpack_free(out);
        free(packed);
        free(i1);
        free(i2);
}

static int decode_list(const char *list, size_t len)
{
        char *packed = pack_raw(list, len);
        char **out = NULL;
        int r = envpack_decode(packed, strlen(packed), &out);
        envpack_free(out);
        free(packed);
        return r;
}

static void test_malformed(void)
{
        char **out = NULL;
        CHECK(envpack_decode("not base64!", 11, &out) == -EINVAL);
        CHECK(envpack_decode("QUJD", 4, &out) == -EINVAL); /* "ABC": not zlib */
        CHECK(envpack_decode("QQ=", 3, &out) == -EINVAL);
        CHECK(envpack_decode("Q=E=", 4, &out) == -EINVAL);

        char *vars[] = {"A=1", NULL};
        char *packed = NULL;
        CHECK(envpack_encode(vars, &packed) == 0);
        size_t len = strlen(packed);
        /* Truncated: every shorter whole-quad prefix is refused. */
        for (size_t n = 4; n < len; n += 4)
                CHECK(envpack_decode(packed, n, &out) < 0);
        free(packed);

        /* Items: without '=', with an empty name, with a NUL, not base64. */
        CHECK(decode_list("QQ== ", 5) == -EINVAL);    /* "A" */
        CHECK(decode_list("PTE= ", 5) == -EINVAL);    /* "=1" */
        CHECK(decode_list("QT0AMQ== ", 9) == -EINVAL); /* "A=\0" "1" */
        CHECK(decode_list("QT0x\n", 5) == -EINVAL);
        CHECK(decode_list("QT0x  QT0x ", 11) == 0); /* empty items are nothing */

        /* Data after the zlib stream. */
        unsigned char z[64];
        uLongf zlen = sizeof(z);
        CHECK(compress(z, &zlen, (const Bytef *)"QT0x ", 5) == Z_OK);
        z[zlen++] = 'x';
        char *s = b64(z, zlen);
        CHECK(envpack_decode(s, strlen(s), &out) == -EINVAL);
        free(s);

        /* A deflate bomb: small packed, too large unpacked. */
        size_t huge = ENVPACK_MAX_DECODED + 4096;
        char *list = malloc(huge);
        memset(list, ' ', huge);
        CHECK(decode_list(list, huge) == -E2BIG);
        free(list);
}

static void test_exclude(void)
{
        char **list = NULL;
        size_t n = 0;
        CHECK(envpack_exclude_add(&list, &n, "A,,BB,") == 0);
        CHECK(envpack_exclude_add(&list, &n, "PATH") == 0);
        CHECK(n == 3);
        CHECK(envpack_excluded(list, "A=1"));
        CHECK(envpack_excluded(list, "BB"));
        CHECK(envpack_excluded(list, "PATH=/bin"));
        CHECK(!envpack_excluded(list, "B=1"));
        CHECK(!envpack_excluded(list, "AA=1"));
        CHECK(!envpack_excluded(list, "LD_LIBRARY_PATH=/x"));
        envpack_free(list);
        bool has_home = false;
        for (size_t i = 0; envpack_default_excludes[i]; i++)
                has_home |= strcmp(envpack_default_excludes[i], "HOME") == 0;
        CHECK(has_home);
}

int main(void)
{
        test_round_trip();
        test_glexec_format();
        test_malformed();
        test_exclude();
        TEST_MAIN_END();
}
