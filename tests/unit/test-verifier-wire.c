/* The request encoding between glexec and glexec-verify: what is written is read back field
 * by field, NULL strings and lists stay NULL, and a truncated or forged request is refused
 * instead of read past its end. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "verifier-wire.h"

static void test_round_trip(void)
{
        char *const aud[] = {"https://wn01.example", "any", NULL};
        char *const none[] = {NULL};
        const char cred[] = {'a', '\0', 'b', '\n'};
        struct wire w = {0};
        wire_put_u64(&w, VERIFY_TOKEN);
        wire_put_str(&w, "/etc/grid-security/token-issuers.conf");
        wire_put_str(&w, NULL);
        wire_put_strv(&w, aud);
        wire_put_strv(&w, none);
        wire_put_strv(&w, NULL);
        wire_put_bytes(&w, cred, sizeof(cred));
        wire_put_u64(&w, UINT64_MAX - 1);
        CHECK(wire_finish(&w) == 0);

        struct wire_reader r = {.p = w.buf, .left = w.len};
        CHECK(wire_get_u64(&r) == VERIFY_TOKEN);
        CHECK_STREQ(wire_get_str(&r), "/etc/grid-security/token-issuers.conf");
        CHECK(wire_get_str(&r) == NULL && !r.failed);
        char **v = wire_get_strv(&r);
        CHECK(v && v[2] == NULL);
        CHECK_STREQ(v ? v[0] : NULL, "https://wn01.example");
        CHECK_STREQ(v ? v[1] : NULL, "any");
        free(v);
        v = wire_get_strv(&r);
        CHECK(v && v[0] == NULL);
        free(v);
        CHECK(wire_get_strv(&r) == NULL && !r.failed);
        size_t len = 0;
        const char *bytes = wire_get_bytes(&r, &len);
        CHECK(bytes && len == sizeof(cred) && memcmp(bytes, cred, len) == 0);
        CHECK(wire_get_u64(&r) == UINT64_MAX - 1);
        CHECK(!r.failed && r.left == 0);
        /* Past the end: nothing, and the failure sticks. */
        CHECK(wire_get_u64(&r) == 0 && r.failed);

        /* Every truncation of the request fails somewhere, never reads beyond it. */
        for (size_t cut = 0; cut < w.len; cut++) {
                struct wire_reader t = {.p = w.buf, .left = cut};
                wire_get_u64(&t);
                wire_get_str(&t);
                wire_get_str(&t);
                free(wire_get_strv(&t));
                free(wire_get_strv(&t));
                free(wire_get_strv(&t));
                wire_get_bytes(&t, &len);
                wire_get_u64(&t);
                CHECK(t.failed);
        }
        wire_free(&w);
        CHECK(w.buf == NULL && w.len == 0);
}

/* A string must end in its one NUL; a list cannot claim more strings than bytes. */
static void test_forged(void)
{
        struct wire w = {0};
        wire_put_bytes(&w, "ab", 2); /* no NUL */
        wire_put_bytes(&w, "a\0b", 4); /* a NUL inside */
        wire_put_bytes(&w, "", 0);     /* empty, not even a NUL */
        wire_put_u64(&w, 1000000);     /* a list of a million strings in no bytes */
        CHECK(wire_finish(&w) == 0);
        for (int i = 0; i < 3; i++) {
                struct wire_reader r = {.p = w.buf, .left = w.len};
                for (int j = 0; j < i; j++)
                        wire_get_bytes(&r, &(size_t){0});
                CHECK(wire_get_str(&r) == NULL && r.failed);
        }
        struct wire_reader r = {.p = w.buf, .left = w.len};
        for (int j = 0; j < 3; j++)
                wire_get_bytes(&r, &(size_t){0});
        CHECK(!r.failed && wire_get_strv(&r) == NULL && r.failed);
        wire_free(&w);
}

int main(void)
{
        test_round_trip();
        test_forged();
        TEST_MAIN_END();
}
