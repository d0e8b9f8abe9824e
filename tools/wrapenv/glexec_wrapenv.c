/* glexec_wrapenv: print the environment packed for GLEXEC_ENV (envpack.h, the man page
 * glexec_wrapenv(1)). Runs as the pilot, with no privilege. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "envpack.h"

extern char **environ;

static int usage(FILE *out, int status)
{
        fprintf(out, "Usage: glexec_wrapenv [--exclude=NAME[,NAME...]]...\n"
                     "Print the environment packed into one line for GLEXEC_ENV.\n");
        return status;
}

int main(int argc, char **argv)
{
        char **exclude = NULL;
        size_t n_exclude = 0;
        int r = envpack_exclude_defaults(&exclude, &n_exclude);
        /* A GLEXEC_ENV packed again inside the next one would grow with every payload. */
        if (r == 0)
                r = envpack_exclude_add(&exclude, &n_exclude, "GLEXEC_ENV");
        for (int i = 1; r == 0 && i < argc; i++) {
                int opt = envpack_exclude_option(argc, argv, &i, &exclude, &n_exclude);
                if (opt != 0)
                        r = opt < 0 ? opt : 0;
                else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
                        return usage(stdout, 0);
                else {
                        fprintf(stderr, "glexec_wrapenv: unknown argument \"%s\"\n", argv[i]);
                        return usage(stderr, 1);
                }
        }
        if (r < 0) {
                fprintf(stderr, "glexec_wrapenv: out of memory\n");
                return 1;
        }

        size_t n = 0;
        while (environ[n])
                n++;
        char **vars = calloc(n + 1, sizeof(char *));
        if (!vars) {
                fprintf(stderr, "glexec_wrapenv: out of memory\n");
                return 1;
        }
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
                if (!envpack_excluded(exclude, environ[i]))
                        vars[k++] = environ[i];

        char *packed = NULL;
        r = envpack_encode(vars, &packed);
        if (r < 0) {
                fprintf(stderr, "glexec_wrapenv: cannot pack the environment: %s\n", strerror(-r));
                return 1;
        }
        printf("%s\n", packed);
        if (fflush(stdout) != 0 || ferror(stdout)) {
                perror("glexec_wrapenv: writing");
                return 1;
        }
        free(packed);
        free(vars);
        envpack_free(exclude);
        return 0;
}
