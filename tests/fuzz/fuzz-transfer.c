/* The receiving half of --stage-in/--stage-out on arbitrary streams. The stream comes from a
 * helper running as another user, so the receiver must reject anything malformed without
 * creating entries outside its directory. Input: one byte of flags, then the stream; each
 * run receives into a fresh directory that is removed afterwards, and nothing may appear
 * beside it. */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fdutil.h"
#include "sandbox/transfer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void remove_tree(int dfd)
{
        DIR *d = fdopendir(dfd);
        if (!d) {
                close(dfd);
                return;
        }
        struct dirent *de;
        while ((de = readdir(d))) {
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                struct stat st;
                if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                    S_ISDIR(st.st_mode)) {
                        int sub = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
                        if (sub < 0 && fchmodat(dirfd(d), de->d_name, 0700, 0) == 0)
                                sub = openat(dirfd(d), de->d_name,
                                             O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
                        if (sub >= 0) {
                                fchmod(sub, 0700);
                                remove_tree(sub);
                        }
                        unlinkat(dirfd(d), de->d_name, AT_REMOVEDIR);
                } else {
                        unlinkat(dirfd(d), de->d_name, 0);
                }
        }
        closedir(d);
}

static int count_entries(int dfd)
{
        int n = 0, fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY); /* own offset */
        DIR *d = fdopendir(fd);
        struct dirent *de;
        while (d && (de = readdir(d)))
                n += strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
        if (d)
                closedir(d);
        return n;
}

static char base[] = "/tmp/gx-fuzz-transfer-XXXXXX";

static void remove_base(void)
{
        rmdir(base);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static int base_fd = -1;
        if (base_fd < 0) {
                if (!mkdtemp(base))
                        abort();
                base_fd = open(base, O_RDONLY | O_DIRECTORY);
                atexit(remove_base);
        }
        if (size < 1)
                return 0;
        unsigned flags = data[0] & (TRANSFER_SYMLINKS | TRANSFER_MERGE | TRANSFER_NO_SHARED_WRITE);
        int in = memfd_create("stream", MFD_CLOEXEC);
        if (in < 0 || gx_write_full(in, data + 1, size - 1) < 0)
                abort();
        lseek(in, 0, SEEK_SET);
        if (mkdirat(base_fd, "d", 0700) < 0)
                abort();
        int dfd = openat(base_fd, "d", O_RDONLY | O_DIRECTORY);
        struct transfer_stats st = {0};
        struct gx_error err;
        transfer_receive(in, dfd, "t", flags, &st, &err);
        close(in);
        /* Only "t" may have been made, and only inside d. */
        if (count_entries(base_fd) != 1 || count_entries(dfd) > 1)
                abort();
        remove_tree(dfd);
        if (unlinkat(base_fd, "d", AT_REMOVEDIR) < 0)
                abort();
        return 0;
}
