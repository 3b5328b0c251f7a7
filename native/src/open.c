/* open, open64, openat, openat64 and the fortify variants __open_2, __open64_2, __openat_2, __openat64_2. */
#include "shim.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>

#ifndef __OPEN_NEEDS_MODE
#define __OPEN_NEEDS_MODE(flags) (((flags) & O_CREAT) != 0 || ((flags) & __O_TMPFILE) == __O_TMPFILE)
#endif

typedef int (*open_fn)(const char *, int, ...);
typedef int (*openat_fn)(int, const char *, int, ...);
typedef int (*open2_fn)(const char *, int);
typedef int (*openat2_fn)(int, const char *, int);

SL_EXPORT int __open_2(const char *path, int flags);
SL_EXPORT int __open64_2(const char *path, int flags);
SL_EXPORT int __openat_2(int dirfd, const char *path, int flags);
SL_EXPORT int __openat64_2(int dirfd, const char *path, int flags);

static int open_entry(const struct sl_entry *e, int flags)
{
    int err = 0;
    int fd = sl_sys_open_entry(e, flags, &err);
    if (fd < 0) {
        sl_set_errno(err);
    }
    return fd;
}

#define MODE_ARG(flags, mode)                  \
    do {                                       \
        if (__OPEN_NEEDS_MODE(flags)) {        \
            va_list ap;                        \
            va_start(ap, flags);               \
            mode = va_arg(ap, mode_t);         \
            va_end(ap);                        \
        }                                      \
    } while (0)

SL_EXPORT int open(const char *path, int flags, ...)
{
    mode_t mode = 0;
    MODE_ARG(flags, mode);
    const struct sl_entry *e = sl_lookup_at(AT_FDCWD, path);
    if (e != NULL) {
        return open_entry(e, flags);
    }
    return SL_REAL(open_fn, open)(path, flags, mode);
}

SL_EXPORT int open64(const char *path, int flags, ...)
{
    mode_t mode = 0;
    MODE_ARG(flags, mode);
    const struct sl_entry *e = sl_lookup_at(AT_FDCWD, path);
    if (e != NULL) {
        return open_entry(e, flags);
    }
    return SL_REAL(open_fn, open64)(path, flags, mode);
}

SL_EXPORT int openat(int dirfd, const char *path, int flags, ...)
{
    mode_t mode = 0;
    MODE_ARG(flags, mode);
    const struct sl_entry *e = sl_lookup_at(dirfd, path);
    if (e != NULL) {
        return open_entry(e, flags);
    }
    return SL_REAL(openat_fn, openat)(dirfd, path, flags, mode);
}

SL_EXPORT int openat64(int dirfd, const char *path, int flags, ...)
{
    mode_t mode = 0;
    MODE_ARG(flags, mode);
    const struct sl_entry *e = sl_lookup_at(dirfd, path);
    if (e != NULL) {
        return open_entry(e, flags);
    }
    return SL_REAL(openat_fn, openat64)(dirfd, path, flags, mode);
}

SL_EXPORT int __open_2(const char *path, int flags)
{
    const struct sl_entry *e = __OPEN_NEEDS_MODE(flags) ? NULL : sl_lookup_at(AT_FDCWD, path);
    if (e != NULL) {
        return open_entry(e, flags);
    }
    return SL_REAL(open2_fn, __open_2)(path, flags); /* aborts on O_CREAT without a mode, as it must */
}

SL_EXPORT int __open64_2(const char *path, int flags)
{
    const struct sl_entry *e = __OPEN_NEEDS_MODE(flags) ? NULL : sl_lookup_at(AT_FDCWD, path);
    if (e != NULL) {
        return open_entry(e, flags);
    }
    return SL_REAL(open2_fn, __open64_2)(path, flags);
}

SL_EXPORT int __openat_2(int dirfd, const char *path, int flags)
{
    const struct sl_entry *e = __OPEN_NEEDS_MODE(flags) ? NULL : sl_lookup_at(dirfd, path);
    if (e != NULL) {
        return open_entry(e, flags);
    }
    return SL_REAL(openat2_fn, __openat_2)(dirfd, path, flags);
}

SL_EXPORT int __openat64_2(int dirfd, const char *path, int flags)
{
    const struct sl_entry *e = __OPEN_NEEDS_MODE(flags) ? NULL : sl_lookup_at(dirfd, path);
    if (e != NULL) {
        return open_entry(e, flags);
    }
    return SL_REAL(openat2_fn, __openat64_2)(dirfd, path, flags);
}
