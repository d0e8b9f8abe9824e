/* glexec_unwrapenv: set the variables packed in GLEXEC_ENV and execute a command
 * (glexec_unwrapenv(1)). It runs as the payload, after glexec dropped every privilege and
 * set no_new_privs, so it restores whatever the pilot packed, LD_PRELOAD, LD_LIBRARY_PATH and
 * MALLOC_* included: the pilot, which chose the command and its input, gains nothing by them
 * that it did not have. glexec itself still never passes them (SPEC section 4). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "envpack.h"

static int usage(FILE *out, int status)
{
        fprintf(out, "Usage: glexec_unwrapenv [--exclude=NAME[,NAME...]]... [--] COMMAND [ARG...]\n"
                     "Set the variables packed in GLEXEC_ENV and execute COMMAND.\n");
        return status;
}

int main(int argc, char **argv)
{
        char **exclude = NULL;
        size_t n_exclude = 0;
        int r = envpack_exclude_defaults(&exclude, &n_exclude), i;
        for (i = 1; r == 0 && i < argc; i++) {
                int opt = envpack_exclude_option(argc, argv, &i, &exclude, &n_exclude);
                if (opt != 0)
                        r = opt < 0 ? opt : 0;
                else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
                        return usage(stdout, 0);
                else if (strcmp(argv[i], "--") == 0) {
                        i++;
                        break;
                } else if (argv[i][0] == '-') {
                        fprintf(stderr, "glexec_unwrapenv: unknown option \"%s\"\n", argv[i]);
                        return usage(stderr, 1);
                } else
                        break;
        }
        if (r < 0) {
                fprintf(stderr, "glexec_unwrapenv: out of memory\n");
                return 1;
        }
        if (i >= argc)
                return usage(stderr, 1);

        const char *packed = getenv("GLEXEC_ENV");
        if (packed && *packed) {
                char **vars = NULL;
                r = envpack_decode(packed, strlen(packed), &vars);
                if (r < 0) {
                        fprintf(stderr, "glexec_unwrapenv: GLEXEC_ENV cannot be unpacked: %s\n",
                                r == -EINVAL ? "malformed" : strerror(-r));
                        return 1;
                }
                for (size_t k = 0; vars[k]; k++) {
                        if (envpack_excluded(exclude, vars[k]))
                                continue;
                        char *eq = strchr(vars[k], '=');
                        *eq = '\0';
                        if (setenv(vars[k], eq + 1, 1) < 0) {
                                fprintf(stderr, "glexec_unwrapenv: setting %s: %s\n", vars[k],
                                        strerror(errno));
                                return 1;
                        }
                }
                envpack_free(vars);
        }
        envpack_free(exclude);

        execvp(argv[i], argv + i);
        int e = errno;
        fprintf(stderr, "glexec_unwrapenv: %s: %s\n", argv[i], strerror(e));
        return e == ENOENT ? 127 : 126;
}
