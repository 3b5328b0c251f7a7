/* access, faccessat: a registered path is readable (and as executable as the memfd); W_OK fails EROFS. */
#include "shim.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

typedef int (*access_fn)(const char *, int);
typedef int (*faccessat_fn)(int, const char *, int, int);

static int access_entry(const struct sl_entry *e, int mode)
{
    if ((mode & W_OK) != 0) {
        sl_set_errno(EROFS);
        return -1;
    }
    if (!sl_use_begin(e)) {
        sl_set_errno(ENOENT);
        return -1;
    }
    int rc = (int)syscall(SYS_faccessat, AT_FDCWD, e->target->proc_path, mode);
    int err = errno;
    sl_use_end();
    sl_set_errno(err);
    return rc;
}

SL_EXPORT int access(const char *path, int mode)
{
    const struct sl_entry *e = sl_lookup_at(AT_FDCWD, path);
    if (e != NULL) {
        return access_entry(e, mode);
    }
    return SL_REAL(access_fn, access)(path, mode);
}

SL_EXPORT int faccessat(int dirfd, const char *path, int mode, int flags)
{
    const struct sl_entry *e = sl_lookup_at(dirfd, path);
    if (e != NULL) {
        return access_entry(e, mode);
    }
    return SL_REAL(faccessat_fn, faccessat)(dirfd, path, mode, flags);
}
