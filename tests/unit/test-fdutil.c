/* gx_open_trusted: the checks on the way to a file, and the walks it remembers for later
 * walks below the same directories (".." and absolute symlinks after a remembered prefix,
 * an untrusted directory below one, forgetting them in gx_close_from). The trust checks
 * need root-owned files, so without root only the refusals are tested. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fdutil.h"
#include "test.h"

static char top[64];

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
        (void)st, (void)flag, (void)ftw;
        return remove(path);
}

static char *at(const char *rel)
{
        static char buf[8][512];
        static int i;
        char *b = buf[i++ % 8];
        snprintf(b, sizeof(buf[0]), "%s/%s", top, rel);
        return b;
}

static void make_file(const char *rel, const char *text)
{
        FILE *f = fopen(at(rel), "w");
        CHECK(f != NULL);
        if (f) {
                fputs(text, f);
                fclose(f);
        }
        chmod(at(rel), 0644);
}

/* The first bytes of the file gx_open_trusted opens for path, or the negative errno. */
static int read_trusted(const char *path, char *buf, size_t n)
{
        struct gx_error err = {0};
        int fd = gx_open_trusted(path, O_RDONLY, &err);
        if (fd < 0)
                return fd;
        ssize_t len = read(fd, buf, n - 1);
        close(fd);
        buf[len > 0 ? len : 0] = '\0';
        return 0;
}

static int open_fds(void)
{
        int n = 0;
        DIR *d = opendir("/proc/self/fd");
        struct dirent *de;
        while (d && (de = readdir(d)))
                n += de->d_name[0] != '.';
        if (d)
                closedir(d);
        return n;
}

static void test_walks(void)
{
        char buf[64];
        mkdir(at("a"), 0755);
        mkdir(at("a/b"), 0755);
        mkdir(at("a/c"), 0755);
        mkdir(at("a/b/open"), 0755);
        chmod(at("a/b/open"), 0777);
        mkdir(at("d"), 0755);
        make_file("a/b/f", "b/f");
        make_file("a/b/g", "b/g");
        make_file("a/c/f", "c/f");
        make_file("d/f", "d/f");
        make_file("a/b/open/f", "open/f");
        CHECK(symlink(at("d"), at("a/b/abs")) == 0);

        /* The first walk remembers a/b; the next ones start from it. */
        CHECK(read_trusted(at("a/b/f"), buf, sizeof(buf)) == 0 && strcmp(buf, "b/f") == 0);
        CHECK(read_trusted(at("a/b/g"), buf, sizeof(buf)) == 0 && strcmp(buf, "b/g") == 0);
        CHECK(read_trusted(at("a/b//g"), buf, sizeof(buf)) == 0 && strcmp(buf, "b/g") == 0);
        /* ".." and an absolute symlink after the remembered prefix. */
        CHECK(read_trusted(at("a/b/../c/f"), buf, sizeof(buf)) == 0 && strcmp(buf, "c/f") == 0);
        CHECK(read_trusted(at("a/b/abs/f"), buf, sizeof(buf)) == 0 && strcmp(buf, "d/f") == 0);
        /* A name that only starts like a remembered directory is not below it. */
        mkdir(at("a/bb"), 0755);
        make_file("a/bb/f", "bb/f");
        CHECK(read_trusted(at("a/bb/f"), buf, sizeof(buf)) == 0 && strcmp(buf, "bb/f") == 0);
        /* What is below a remembered directory is still checked. */
        CHECK(read_trusted(at("a/b/open/f"), buf, sizeof(buf)) == -EPERM);
        chmod(at("a/b/g"), 0666);
        CHECK(read_trusted(at("a/b/g"), buf, sizeof(buf)) == -EPERM);
        CHECK(read_trusted(at("a/b/missing"), buf, sizeof(buf)) == -ENOENT);

        /* A bounded number of remembered walks, whatever the number of paths. */
        int before = open_fds();
        for (int i = 0; i < 40; i++) {
                char rel[32];
                snprintf(rel, sizeof(rel), "a/c/%d", i);
                mkdir(at(rel), 0755);
                snprintf(rel, sizeof(rel), "a/c/%d/f", i);
                make_file(rel, "x");
                CHECK(read_trusted(at(rel), buf, sizeof(buf)) == 0);
        }
        CHECK(open_fds() - before < 64);

        /* gx_close_from closes the remembered fds and forgets them: walks still work. */
        CHECK(gx_close_from(3, NULL, 0) == 0);
        CHECK(open_fds() <= 4); /* 0, 1, 2 and the listing's own */
        CHECK(read_trusted(at("a/b/f"), buf, sizeof(buf)) == 0 && strcmp(buf, "b/f") == 0);
        CHECK(read_trusted(at("a/c/f"), buf, sizeof(buf)) == 0 && strcmp(buf, "c/f") == 0);
}

int main(void)
{
        if (geteuid() != 0) {
                printf("not root: trusted walks need root-owned files, skipped\n");
                TEST_MAIN_END();
        }
        snprintf(top, sizeof(top), "/var/tmp/gx-test-fdutil-XXXXXX");
        CHECK(mkdtemp(top) != NULL);
        chmod(top, 0755);
        test_walks();
        nftw(top, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
        TEST_MAIN_END();
}
