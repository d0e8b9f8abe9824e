/* Replays a libFuzzer corpus directory (or single files) through LLVMFuzzerTestOneInput, so
 * that every past input, crashers included, runs in the normal test suite. */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fdutil.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_file(int dirfd, const char *name)
{
        int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
                perror(name);
                return -1;
        }
        char *buf = NULL;
        size_t len = 0;
        int r = gx_read_all(fd, 16 << 20, &buf, &len);
        close(fd);
        if (r < 0) {
                fprintf(stderr, "%s: read failed\n", name);
                return -1;
        }
        /* A private copy without the trailing NUL, so out-of-bounds reads are visible. */
        uint8_t *copy = malloc(len ? len : 1);
        memcpy(copy, buf, len);
        free(buf);
        LLVMFuzzerTestOneInput(copy, len);
        free(copy);
        return 0;
}

int main(int argc, char **argv)
{
        int count = 0, failed = 0;
        for (int i = 1; i < argc; i++) {
                struct stat st;
                if (stat(argv[i], &st) < 0) {
                        perror(argv[i]);
                        return 1;
                }
                if (!S_ISDIR(st.st_mode)) {
                        failed += replay_file(AT_FDCWD, argv[i]) < 0;
                        count++;
                        continue;
                }
                DIR *d = opendir(argv[i]);
                struct dirent *de;
                while (d && (de = readdir(d))) {
                        if (de->d_name[0] == '.')
                                continue;
                        failed += replay_file(dirfd(d), de->d_name) < 0;
                        count++;
                }
                if (d)
                        closedir(d);
        }
        printf("replayed %d inputs, %d unreadable\n", count, failed);
        return failed || count == 0 ? 1 : 0;
}
