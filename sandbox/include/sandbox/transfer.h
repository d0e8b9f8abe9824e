/* Copying a file or a tree between two identities (--stage-in, --stage-out).
 *
 * transfer_copy() forks a sender that switches fully to the owner of the source (setgroups,
 * setresgid, setresuid: no capability, not even through /proc, survives) and a receiver that
 * switches fully to the owner of the destination. The sender walks the source and streams it
 * through a pipe; the receiver trusts nothing in the stream: every name is one component, the
 * tree is bounded, and it only creates entries below directory fds it opened itself, with
 * O_NOFOLLOW and O_EXCL. The supervisor's privilege never touches either side's files.
 *
 * What is copied: regular files (contents with their holes, permission bits, mtime) and
 * directories; with TRANSFER_SYMLINKS, symbolic links below the top as links (their targets
 * are never read or followed). Files hard-linked to each other within one transfer stay hard
 * links, so a file linked many times costs its size once. FIFOs, sockets, devices, entries on
 * another file system and (without TRANSFER_SYMLINKS) symbolic links below the top are
 * skipped and counted; none of them is ever opened. setuid, setgid and sticky bits are never
 * copied.
 *
 * Bounds: TRANSFER_MAX_DEPTH directory levels and TRANSFER_MAX_ENTRIES entries per transfer,
 * relative paths below PATH_MAX. Bytes are bounded by the destination owner's disk quota,
 * since the receiver writes with that owner's ids, and by the source's allocated size, since
 * holes stay holes and hard links stay links. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/error.h"

#define TRANSFER_MAX_DEPTH 128
#define TRANSFER_MAX_ENTRIES 200000

enum {
        /* The source path is resolved normally: its last component may be a symlink. Without
         * this flag every component is opened with O_NOFOLLOW and ".." is refused. */
        TRANSFER_FOLLOW_TOP = 1 << 0,
        /* Copy symbolic links below the top as links; otherwise they are skipped. */
        TRANSFER_SYMLINKS = 1 << 1,
        /* An existing destination entry owned by the receiving uid is replaced (a regular
         * file, atomically by rename) or merged into (a directory). Any other existing entry,
         * a symlink included, is refused. Without this flag every existing entry is refused. */
        TRANSFER_MERGE = 1 << 2,
        /* Clear group and other write permission on the copies. */
        TRANSFER_NO_SHARED_WRITE = 1 << 3,
};

/* One side of a transfer. */
struct transfer_side {
        /* Switch to uid, gid and groups before touching anything. False only when the
         * supervisor runs without privilege and already is this user. */
        bool switch_ids;
        uid_t uid;
        gid_t gid;
        const gid_t *groups;
        size_t n_groups;
        int dirfd; /* the source path or the copy is relative to it; AT_FDCWD allowed */
};

struct transfer_spec {
        struct transfer_side from;
        struct transfer_side to;
        const char *source; /* below from.dirfd; the copy in to.dirfd gets its last component */
        unsigned flags;
};

struct transfer_stats {
        uint64_t files;
        uint64_t dirs;
        uint64_t symlinks;
        uint64_t hardlinks; /* names linked to a file already copied */
        uint64_t skipped;   /* entries not copied (see above) */
        uint64_t bytes;     /* data bytes written, holes excluded */
};

/* A relative path of plain names: no empty, "." or ".." component, no leading or trailing
 * slash. */
bool transfer_is_plain_path(const char *path);

/* The name a copy of path gets: its last component, trailing slashes ignored. "", ".", ".."
 * and "/" have none (-EINVAL). */
int transfer_source_name(const char *path, char *buf, size_t size);

/* Copy spec->source to a new entry of spec->to.dirfd. Failures reading the source (missing,
 * unreadable, not a file or directory) and entries that already exist are GX_CLIENT; other
 * failures writing the copy, a malformed stream and process failures are GX_SYSTEM. A failed
 * transfer may leave a partial copy. On success, *ret (if not NULL) says what was copied. */
int transfer_copy(const struct transfer_spec *spec, struct transfer_stats *ret,
                  struct gx_error *err);

/* The two halves, in the calling process and with its ids (used by transfer_copy's children,
 * tests and the fuzzer). The sender writes the stream of source (below dirfd) to out_fd; the
 * receiver reads one from in_fd and creates the entry name in dirfd. Either returns -EPIPE
 * when the other half went away. stats are added to. */
int transfer_send(int dirfd, const char *source, unsigned flags, int out_fd,
                  struct transfer_stats *stats, struct gx_error *err);
int transfer_receive(int in_fd, int dirfd, const char *name, unsigned flags,
                     struct transfer_stats *stats, struct gx_error *err);
