/* The stat family, both ABIs: old (__xstat & co, what binaries built against glibc < 2.33 import) and new
 * (stat & co, glibc >= 2.33), plus statx. On a match they report the memfd: a regular file, not a symlink. */
#include "wrap.h"

#include <fcntl.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* glibc >= 2.33 headers no longer declare the old ABI. On 64-bit targets struct stat64 == struct stat. */
SL_EXPORT int __xstat(int ver, const char *path, struct stat *buf);
SL_EXPORT int __xstat64(int ver, const char *path, struct stat *buf);
SL_EXPORT int __lxstat(int ver, const char *path, struct stat *buf);
SL_EXPORT int __lxstat64(int ver, const char *path, struct stat *buf);
SL_EXPORT int __fxstatat(int ver, int dirfd, const char *path, struct stat *buf, int flags);
SL_EXPORT int __fxstatat64(int ver, int dirfd, const char *path, struct stat *buf, int flags);
_Static_assert(sizeof(struct stat) == sizeof(struct stat64), "64-bit stat layout expected");
#if defined(__x86_64__)
#define SL_STAT_VER 1 /* _STAT_VER_LINUX */
#else
#define SL_STAT_VER 0 /* _STAT_VER_KERNEL: the only version of generic 64-bit ports such as aarch64 */
#endif

/* fstatat(fd, "", AT_EMPTY_PATH) is a stat of the fd itself: never a path lookup. */
static const struct sl_entry *lookup_at(int dirfd, const char *path, int flags)
{
    if ((flags & AT_EMPTY_PATH) != 0) {
        const char *volatile v = path;
        const char *p = v;
        if (p != NULL && p[0] == '\0') {
            return NULL;
        }
    }
    return sl_lookup_at(dirfd, path);
}

#define OLD_ABI(name)                                                                               \
    SL_WRAP(int, name, (int ver, const char *path, struct stat *buf), sl_lookup_at(AT_FDCWD, path), \
            sl_entry_stat(e, buf), SL_NEXT(name)(ver, path, buf))
#define OLD_ABI_AT(name)                                                                    \
    SL_WRAP(int, name, (int ver, int dirfd, const char *path, struct stat *buf, int flags), \
            lookup_at(dirfd, path, flags), sl_entry_stat(e, buf), SL_NEXT(name)(ver, dirfd, path, buf, flags))

/* glibc < 2.33 (Amazon Linux 2) has no stat/lstat/fstatat symbols: nothing built there imports them, but a
 * dlsym(RTLD_DEFAULT, "stat") finds ours, so a missing next definition falls back to the old ABI. */
#define NEW_ABI(name, stype, old)                                                           \
    SL_WRAP(int, name, (const char *path, struct stype *buf), sl_lookup_at(AT_FDCWD, path), \
            sl_entry_stat(e, (struct stat *)buf),                                           \
            SL_NEXT_OR(name, (path, buf), SL_NEXT(old)(SL_STAT_VER, path, (struct stat *)buf)))
#define NEW_ABI_AT(name, stype, old)                                                                               \
    SL_WRAP(int, name, (int dirfd, const char *path, struct stype *buf, int flags), lookup_at(dirfd, path, flags), \
            sl_entry_stat(e, (struct stat *)buf),                                                                  \
            SL_NEXT_OR(name, (dirfd, path, buf, flags),                                                            \
                       SL_NEXT(old)(SL_STAT_VER, dirfd, path, (struct stat *)buf, flags)))

/* The memfd's own statx (AT_EMPTY_PATH on the shim's descriptor, the caller's sync flags kept), without write bits. */
static int statx_entry(const struct sl_entry *e, int flags, unsigned int mask, struct statx *buf)
{
    int f = AT_EMPTY_PATH | (flags & AT_STATX_SYNC_TYPE);
    if (syscall(SYS_statx, e->target->fd, "", f, mask, buf) != 0) {
        return -1;
    }
    buf->stx_mode &= (unsigned short)~(S_IWUSR | S_IWGRP | S_IWOTH);
    return 0;
}

OLD_ABI(__xstat)
OLD_ABI(__xstat64)
OLD_ABI(__lxstat)
OLD_ABI(__lxstat64)
OLD_ABI_AT(__fxstatat)
OLD_ABI_AT(__fxstatat64)
NEW_ABI(stat, stat, __xstat)
NEW_ABI(stat64, stat64, __xstat64)
NEW_ABI(lstat, stat, __lxstat)
NEW_ABI(lstat64, stat64, __lxstat64)
NEW_ABI_AT(fstatat, stat, __fxstatat)
NEW_ABI_AT(fstatat64, stat64, __fxstatat64)
/* glibc < 2.28 has no statx: the system call. */
SL_WRAP(int, statx, (int dirfd, const char *path, int flags, unsigned int mask, struct statx *buf),
        lookup_at(dirfd, path, flags), statx_entry(e, flags, mask, buf),
        SL_NEXT_OR(statx, (dirfd, path, flags, mask, buf), (int)syscall(SYS_statx, dirfd, path, flags, mask, buf)))
