/* The copying machinery of --stage-in and --stage-out: what is copied and how, what is
 * skipped or refused, the stream parser on broken input, and (as root) the id switch. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "common/fdutil.h"
#include "sandbox/transfer.h"
#include "test.h"

static char root[PATH_MAX];

static void path_of(char *buf, const char *rel)
{
        snprintf(buf, PATH_MAX, "%s/%s", root, rel);
}

static void write_file(const char *rel, const char *text, mode_t mode)
{
        char p[PATH_MAX];
        path_of(p, rel);
        int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        CHECK(fd >= 0);
        CHECK(gx_write_full(fd, text, strlen(text)) == 0);
        CHECK(fchmod(fd, mode) == 0);
        close(fd);
}

static void make_dir(const char *rel)
{
        char p[PATH_MAX];
        path_of(p, rel);
        CHECK(mkdir(p, 0755) == 0);
}

static char *read_text(const char *rel)
{
        char p[PATH_MAX];
        path_of(p, rel);
        int fd = open(p, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return NULL;
        char *buf = NULL;
        size_t len;
        if (gx_read_all(fd, 1 << 20, &buf, &len) < 0)
                buf = NULL;
        close(fd);
        return buf;
}

static int lstat_rel(const char *rel, struct stat *st)
{
        char p[PATH_MAX];
        path_of(p, rel);
        return lstat(p, st);
}

static int open_dir(const char *rel)
{
        char p[PATH_MAX];
        path_of(p, rel);
        return open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

/* Send into a memfd, then receive from it: both halves in this process. */
static int copy_inproc(const char *src_dir, const char *source, const char *dst_dir,
                       unsigned flags, struct transfer_stats *stats, struct gx_error *err)
{
        int sfd = open_dir(src_dir), dfd = open_dir(dst_dir);
        int mfd = memfd_create("stream", MFD_CLOEXEC);
        struct transfer_stats sent = {0};
        int r = transfer_send(sfd, source, flags, mfd, &sent, err);
        if (r == 0) {
                char name[NAME_MAX + 1];
                CHECK(transfer_source_name(source, name, sizeof(name)) == 0);
                lseek(mfd, 0, SEEK_SET);
                r = transfer_receive(mfd, dfd, name, flags, stats, err);
                stats->skipped = sent.skipped;
        }
        close(sfd);
        close(dfd);
        close(mfd);
        return r;
}

/* Receive a hand-made stream. */
static int receive_bytes(const void *data, size_t len, const char *dst_dir, const char *name,
                         unsigned flags, struct gx_error *err)
{
        int dfd = open_dir(dst_dir);
        int mfd = memfd_create("stream", MFD_CLOEXEC);
        CHECK(gx_write_full(mfd, data, len) == 0);
        lseek(mfd, 0, SEEK_SET);
        struct transfer_stats st = {0};
        int r = transfer_receive(mfd, dfd, name, flags, &st, err);
        close(mfd);
        close(dfd);
        return r;
}

/* The stream of a source, as bytes. */
static char *stream_of(const char *src_dir, const char *source, unsigned flags, size_t *len)
{
        int sfd = open_dir(src_dir);
        int mfd = memfd_create("stream", MFD_CLOEXEC);
        struct transfer_stats st = {0};
        struct gx_error err = {0};
        CHECK(transfer_send(sfd, source, flags, mfd, &st, &err) == 0);
        lseek(mfd, 0, SEEK_SET);
        char *buf = NULL;
        CHECK(gx_read_all(mfd, 1 << 20, &buf, len) == 0);
        close(sfd);
        close(mfd);
        return buf;
}

static void test_source_name(void)
{
        char n[NAME_MAX + 1];
        CHECK(transfer_source_name("a/b/c", n, sizeof(n)) == 0);
        CHECK_STREQ(n, "c");
        CHECK(transfer_source_name("/x/dir//", n, sizeof(n)) == 0);
        CHECK_STREQ(n, "dir");
        CHECK(transfer_source_name("plain", n, sizeof(n)) == 0);
        CHECK_STREQ(n, "plain");
        CHECK(transfer_source_name("/", n, sizeof(n)) < 0);
        CHECK(transfer_source_name("", n, sizeof(n)) < 0);
        CHECK(transfer_source_name(".", n, sizeof(n)) < 0);
        CHECK(transfer_source_name("a/..", n, sizeof(n)) < 0);
        CHECK(transfer_source_name("a/./", n, sizeof(n)) < 0);

        CHECK(transfer_is_plain_path("out"));
        CHECK(transfer_is_plain_path("a/b/...c"));
        CHECK(!transfer_is_plain_path(""));
        CHECK(!transfer_is_plain_path("/etc"));
        CHECK(!transfer_is_plain_path("a/"));
        CHECK(!transfer_is_plain_path("a//b"));
        CHECK(!transfer_is_plain_path("./a"));
        CHECK(!transfer_is_plain_path("a/../b"));
        CHECK(!transfer_is_plain_path(".."));
}

static void test_tree(void)
{
        struct transfer_stats st = {0};
        struct gx_error err = {0};

        make_dir("src");
        make_dir("src/tree");
        make_dir("src/tree/sub");
        make_dir("dst");
        write_file("src/tree/a.txt", "alpha\nbeta\n", 0640);
        write_file("src/tree/sub/b", "", 0600);
        write_file("src/tree/suid", "#!/bin/sh\n", 04755);
        write_file("outside", "secret", 0600);
        char p[PATH_MAX], q[PATH_MAX];
        path_of(p, "outside");
        path_of(q, "src/tree/abs-link");
        CHECK(symlink(p, q) == 0);
        path_of(q, "src/tree/sub/rel-link");
        CHECK(symlink("../../../outside", q) == 0);
        path_of(p, "src/tree/a.txt");
        path_of(q, "src/tree/sub/a-hardlink");
        CHECK(link(p, q) == 0);
        path_of(q, "src/tree/fifo");
        CHECK(mkfifo(q, 0600) == 0);
        /* A sparse file: 1 byte of data after a 64 MiB hole. */
        path_of(p, "src/tree/sparse");
        int fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        CHECK(pwrite(fd, "x", 1, 64 << 20) == 1);
        close(fd);
        /* A known mtime on a directory, applied after its contents. */
        path_of(p, "src/tree/sub");
        struct timespec ts[2] = {{.tv_sec = 1000000000}, {.tv_sec = 1000000000, .tv_nsec = 5}};
        CHECK(utimensat(AT_FDCWD, p, ts, 0) == 0);

        CHECK(copy_inproc("src", "tree", "dst", TRANSFER_FOLLOW_TOP | TRANSFER_SYMLINKS, &st,
                          &err) == 0);
        char *t = read_text("dst/tree/a.txt");
        CHECK_STREQ(t, "alpha\nbeta\n");
        free(t);
        struct stat s1, s2;
        CHECK(lstat_rel("dst/tree/a.txt", &s1) == 0 && (s1.st_mode & 07777) == 0640);
        CHECK(lstat_rel("dst/tree/sub/a-hardlink", &s2) == 0 && s2.st_ino == s1.st_ino);
        CHECK(lstat_rel("dst/tree/suid", &s1) == 0 && (s1.st_mode & 07777) == 0755);
        CHECK(lstat_rel("dst/tree/sub/b", &s1) == 0 && s1.st_size == 0);
        CHECK(lstat_rel("dst/tree/fifo", &s1) < 0 && errno == ENOENT);
        CHECK(lstat_rel("dst/tree/abs-link", &s1) == 0 && S_ISLNK(s1.st_mode));
        CHECK(lstat_rel("dst/tree/sub/rel-link", &s1) == 0 && S_ISLNK(s1.st_mode));
        CHECK(lstat_rel("dst/tree/sparse", &s1) == 0 && s1.st_size == (64 << 20) + 1);
        CHECK(s1.st_blocks < 1024);
        CHECK(lstat_rel("dst/tree/sub", &s1) == 0 && s1.st_mtim.tv_sec == 1000000000 &&
              s1.st_mtim.tv_nsec == 5);
        CHECK(st.files == 4 && st.hardlinks == 1 && st.symlinks == 2 && st.dirs == 2);
        CHECK(st.skipped == 1);
        CHECK(st.bytes == 11 + 10 + 1);

        /* Again: the copy exists, and without merging nothing is replaced. */
        CHECK(copy_inproc("src", "tree", "dst", TRANSFER_FOLLOW_TOP | TRANSFER_SYMLINKS, &st,
                          &err) == -EEXIST);
        CHECK(err.class == GX_CLIENT);

        /* Without TRANSFER_SYMLINKS links are skipped, and a link at the top is refused. */
        make_dir("dst2");
        memset(&st, 0, sizeof(st));
        CHECK(copy_inproc("src", "tree", "dst2", TRANSFER_FOLLOW_TOP, &st, &err) == 0);
        CHECK(lstat_rel("dst2/tree/abs-link", &s1) < 0 && errno == ENOENT);
        CHECK(st.skipped == 3);
        CHECK(copy_inproc("src/tree", "abs-link", "dst2", 0, &st, &err) < 0);
        CHECK(err.class == GX_CLIENT && strstr(err.msg, "not a regular file or directory"));
        /* With TRANSFER_FOLLOW_TOP the top may be a link; it is copied as what it names. */
        CHECK(copy_inproc("src/tree", "abs-link", "dst2", TRANSFER_FOLLOW_TOP, &st, &err) == 0);
        t = read_text("dst2/abs-link");
        CHECK_STREQ(t, "secret");
        free(t);
}

static void test_paths(void)
{
        struct transfer_stats st = {0};
        struct gx_error err = {0};

        make_dir("p");
        make_dir("p/d");
        write_file("p/d/f", "f", 0644);
        make_dir("pout");
        char p[PATH_MAX];
        path_of(p, "p/ld");
        CHECK(symlink("d", p) == 0);
        CHECK(copy_inproc("p", "d/f", "pout", 0, &st, &err) == 0);
        CHECK(copy_inproc("p", "ld/f", "pout", 0, &st, &err) < 0);
        CHECK(copy_inproc("p", "../p/d", "pout", 0, &st, &err) < 0);
        CHECK(err.class == GX_CLIENT);
        CHECK(copy_inproc("p", "d/../d", "pout", 0, &st, &err) < 0);
        CHECK(copy_inproc("p", "d//f", "pout", 0, &st, &err) < 0);
        CHECK(copy_inproc("p", "/etc/passwd", "pout", 0, &st, &err) < 0);
        CHECK(copy_inproc("p", "missing", "pout", 0, &st, &err) == -ENOENT);
        CHECK(err.class == GX_CLIENT);
}

static void test_merge(void)
{
        struct transfer_stats st = {0};
        struct gx_error err = {0};
        unsigned flags = TRANSFER_MERGE | TRANSFER_NO_SHARED_WRITE;

        make_dir("m");
        make_dir("m/out");
        write_file("m/out/new", "new", 0666);
        make_dir("mdst");
        make_dir("mdst/out");
        write_file("mdst/out/new", "old", 0600);
        CHECK(copy_inproc("m", "out", "mdst", flags, &st, &err) == 0);
        char *t = read_text("mdst/out/new");
        CHECK_STREQ(t, "new");
        free(t);
        struct stat s;
        CHECK(lstat_rel("mdst/out/new", &s) == 0 && (s.st_mode & 07777) == 0644);
        /* A symlink where the copy goes is never followed nor replaced. */
        char p[PATH_MAX];
        path_of(p, "mdst/out/new");
        CHECK(unlink(p) == 0);
        CHECK(symlink("/etc/hostname", p) == 0);
        CHECK(copy_inproc("m", "out", "mdst", flags, &st, &err) < 0);
        CHECK(err.class == GX_CLIENT && strstr(err.msg, "not replaced"));
        CHECK(lstat_rel("mdst/out/new", &s) == 0 && S_ISLNK(s.st_mode));
        /* No temporary file is left behind. */
        int n = 0;
        path_of(p, "mdst/out");
        DIR *d = opendir(p);
        for (struct dirent *de; d && (de = readdir(d));)
                n += de->d_name[0] != '.';
        closedir(d);
        CHECK(n == 1);
}

static void test_bounds(void)
{
        struct transfer_stats st = {0};
        struct gx_error err = {0};
        char rel[PATH_MAX] = "deep";
        make_dir("deep");
        for (int i = 0; i < TRANSFER_MAX_DEPTH + 1; i++) {
                strcat(rel, "/d");
                make_dir(rel);
        }
        make_dir("deepout");
        CHECK(copy_inproc(".", "deep", "deepout", 0, &st, &err) < 0);
        CHECK(strstr(err.msg, "too deep") != NULL);
}

struct rec {
        uint32_t type, mode, name_len, data_len;
        uint64_t a;
        int64_t b, c;
};

static void test_bad_streams(void)
{
        struct gx_error err = {0};
        size_t len;
        make_dir("bsrc");
        write_file("bsrc/f", "0123456789", 0644);
        make_dir("bdst");
        char *good = stream_of("bsrc", "f", 0, &len);

        /* Every truncation is noticed; one inside the file leaves no file behind (one that
         * only loses the end record leaves the complete file). */
        for (size_t cut = 0; cut < len; cut++) {
                CHECK(receive_bytes(good, cut, "bdst", "f", 0, &err) == -EPIPE);
                char p[PATH_MAX];
                path_of(p, "bdst/f");
                CHECK((unlink(p) == 0) == (cut >= len - sizeof(struct rec)));
        }
        CHECK(receive_bytes(good, len, "bdst", "f", 0, &err) == 0);
        /* The top-level name is the receiver's, not the stream's. */
        CHECK(receive_bytes(good, len, "bdst", "g", 0, &err) == -EBADMSG);
        free(good);

        struct {
                struct rec r;
                char name[8];
        } slash = {{.type = 3, .name_len = 3}, "a/b"}, dots = {{.type = 1, .name_len = 2}, ".."};
        CHECK(receive_bytes(&slash, sizeof(slash.r) + 3, "bdst", "a/b", 0, &err) < 0);
        CHECK(receive_bytes(&dots, sizeof(dots.r) + 2, "bdst", "x", 0, &err) == -EBADMSG);
        struct rec link = {.type = 7, .name_len = 1, .a = 1};
        char buf[sizeof(link) + 1];
        memcpy(buf, &link, sizeof(link));
        buf[sizeof(link)] = 'l';
        CHECK(receive_bytes(buf, sizeof(buf), "bdst", "l", 0, &err) == -EBADMSG);
        struct rec sym = {.type = 6, .name_len = 1, .data_len = 4};
        char sbuf[sizeof(sym) + 5];
        memcpy(sbuf, &sym, sizeof(sym));
        memcpy(sbuf + sizeof(sym), "s/etc", 5);
        CHECK(receive_bytes(sbuf, sizeof(sbuf), "bdst", "s", 0, &err) == -EBADMSG);
}

/* Through the two helper processes, without an id switch (works for any user). */
static void test_copy_processes(void)
{
        struct transfer_stats st = {0};
        struct gx_error err = {0};
        make_dir("csrc");
        write_file("csrc/data", "payload input", 0644);
        make_dir("cdst");
        int sfd = open_dir("csrc"), dfd = open_dir("cdst");
        struct transfer_spec spec = {
                .from = {.dirfd = sfd},
                .to = {.dirfd = dfd},
                .source = "data",
        };
        CHECK(transfer_copy(&spec, &st, &err) == 0);
        CHECK(st.files == 1 && st.bytes == 13);
        char *t = read_text("cdst/data");
        CHECK_STREQ(t, "payload input");
        free(t);
        /* Existing now: the receiver's error, not the sender's broken pipe. */
        CHECK(transfer_copy(&spec, &st, &err) == -EEXIST);
        CHECK(err.class == GX_CLIENT && strstr(err.msg, "not replaced"));
        spec.source = "nothing-here";
        CHECK(transfer_copy(&spec, &st, &err) == -ENOENT);
        CHECK(err.class == GX_CLIENT && strstr(err.msg, "nothing-here"));
        spec.source = "..";
        CHECK(transfer_copy(&spec, &st, &err) < 0 && err.class == GX_CLIENT);

        if (geteuid() == 0) {
                /* As root: the sender as nobody cannot read a root-only file, and the receiver
                 * as nobody creates copies owned by nobody. */
                const uid_t nobody = 65534;
                const gid_t nogroup = 65534;
                write_file("csrc/rootonly", "root secret", 0600);
                make_dir("nob");
                char p[PATH_MAX];
                path_of(p, "nob");
                CHECK(chown(p, nobody, nogroup) == 0 && chmod(p, 0700) == 0);
                CHECK(chmod(root, 0711) == 0);
                int nfd = open_dir("nob");
                spec = (struct transfer_spec){
                        .from = {.switch_ids = true, .uid = nobody, .gid = nogroup, .dirfd = sfd},
                        .to = {.switch_ids = true, .uid = nobody, .gid = nogroup, .dirfd = nfd},
                        .source = "rootonly",
                };
                CHECK(transfer_copy(&spec, &st, &err) == -EACCES);
                CHECK(err.class == GX_CLIENT);
                spec.source = "data";
                CHECK(transfer_copy(&spec, &st, &err) == 0);
                struct stat s;
                CHECK(lstat_rel("nob/data", &s) == 0 && s.st_uid == nobody && s.st_gid == nogroup);
                /* A directory nobody may search but not list: a file in it is found. */
                make_dir("xonly");
                write_file("xonly/pub", "public", 0644);
                path_of(p, "xonly");
                CHECK(chmod(p, 0711) == 0);
                int rfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                spec.from.dirfd = rfd;
                spec.source = "xonly/pub";
                spec.flags = TRANSFER_FOLLOW_TOP;
                CHECK(transfer_copy(&spec, &st, &err) == 0);
                t = read_text("nob/pub");
                CHECK_STREQ(t, "public");
                free(t);
                close(rfd);
                spec.from.dirfd = sfd;
                spec.flags = 0;
                /* The receiver as nobody cannot write into root's directory. */
                spec.to.dirfd = dfd;
                spec.source = "data";
                CHECK(transfer_copy(&spec, &st, &err) < 0);
                close(nfd);
        }
        close(sfd);
        close(dfd);
}

int main(void)
{
        snprintf(root, sizeof(root), "/tmp/gx-transfer-XXXXXX");
        if (!mkdtemp(root)) {
                perror("mkdtemp");
                return 1;
        }
        test_source_name();
        test_tree();
        test_paths();
        test_merge();
        test_bounds();
        test_bad_streams();
        test_copy_processes();

        char cmd[PATH_MAX + 16];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
        CHECK(system(cmd) == 0);
        TEST_MAIN_END();
}
