/* A minimal test harness: CHECK records a failure and goes on; main returns non-zero if
 * anything failed. */
#pragma once

#include <stdio.h>
#include <string.h>

static int gx_test_failures;
static int gx_test_checks;

#define CHECK(cond)                                                                                \
        do {                                                                                       \
                gx_test_checks++;                                                                  \
                if (!(cond)) {                                                                     \
                        gx_test_failures++;                                                        \
                        fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);  \
                }                                                                                  \
        } while (0)

#define CHECK_STREQ(a, b)                                                                          \
        do {                                                                                       \
                const char *_a = (a), *_b = (b);                                                   \
                gx_test_checks++;                                                                  \
                if (!_a || !_b || strcmp(_a, _b) != 0) {                                           \
                        gx_test_failures++;                                                        \
                        fprintf(stderr, "%s:%d: \"%s\" != \"%s\"\n", __FILE__, __LINE__,           \
                                _a ? _a : "(null)", _b ? _b : "(null)");                           \
                }                                                                                  \
        } while (0)

#define TEST_MAIN_END()                                                                            \
        do {                                                                                       \
                printf("%d checks, %d failed\n", gx_test_checks, gx_test_failures);                \
                return gx_test_failures ? 1 : 0;                                                   \
        } while (0)
