/* open, open64, openat, openat64 and the fortify variants __open_2, __open64_2, __openat_2, __openat64_2: a
 * registered path gets a fresh read-only open of its memfd (util.c). */
#include "wrap.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>

#ifndef __OPEN_NEEDS_MODE
#define __OPEN_NEEDS_MODE(flags) (((flags) & O_CREAT) != 0 || ((flags) & __O_TMPFILE) == __O_TMPFILE)
#endif

static int open_entry(const struct sl_entry *e, int flags)
{
    int err = 0;
    int fd = sl_sys_open_entry(e, flags, &err);
    if (fd < 0) {
        sl_set_errno(err);
    }
    return fd;
}

/* The caller's mode argument, read only when the flags say one was passed (reading an absent one is undefined), else
 * 0. A statement expression, because va_start reads the arguments of the variadic wrapper it is written in. */
#define MODE(flags)                      \
    ({                                   \
        mode_t mode_ = 0;                \
        if (__OPEN_NEEDS_MODE(flags)) {  \
            va_list ap_;                 \
            va_start(ap_, flags);        \
            mode_ = va_arg(ap_, mode_t); \
            va_end(ap_);                 \
        }                                \
        mode_;                           \
    })

/* The fortify variants take no mode: flags that need one never match, and the next definition aborts, as it must. */
#define WITHOUT_MODE(flags, lookup) (__OPEN_NEEDS_MODE(flags) ? NULL : (lookup))

#define OPEN(name)                                                                                             \
    SL_WRAP(int, name, (const char *path, int flags, ...), sl_lookup_at(AT_FDCWD, path), open_entry(e, flags), \
            SL_NEXT(name)(path, flags, MODE(flags)))
#define OPENAT(name)                                                                             \
    SL_WRAP(int, name, (int dirfd, const char *path, int flags, ...), sl_lookup_at(dirfd, path), \
            open_entry(e, flags), SL_NEXT(name)(dirfd, path, flags, MODE(flags)))
#define OPEN_2(name)                                                                                     \
    SL_WRAP(int, name, (const char *path, int flags), WITHOUT_MODE(flags, sl_lookup_at(AT_FDCWD, path)), \
            open_entry(e, flags), SL_NEXT(name)(path, flags))
#define OPENAT_2(name)                                                                                           \
    SL_WRAP(int, name, (int dirfd, const char *path, int flags), WITHOUT_MODE(flags, sl_lookup_at(dirfd, path)), \
            open_entry(e, flags), SL_NEXT(name)(dirfd, path, flags))

OPEN(open)
OPEN(open64)
OPENAT(openat)
OPENAT(openat64)
OPEN_2(__open_2)
OPEN_2(__open64_2)
OPENAT_2(__openat_2)
OPENAT_2(__openat64_2)
