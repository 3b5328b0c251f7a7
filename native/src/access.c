/* access, faccessat: a registered path is readable (and as executable as the memfd); W_OK fails EROFS. */
#include "wrap.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

static int access_entry(const struct sl_entry *e, int mode)
{
    if ((mode & W_OK) != 0) {
        sl_set_errno(EROFS);
        return -1;
    }
    return (int)syscall(SYS_faccessat, AT_FDCWD, e->target->proc_path, mode);
}

SL_WRAP(int, access, (const char *path, int mode), sl_lookup_at(AT_FDCWD, path), access_entry(e, mode),
        SL_NEXT(access)(path, mode))
SL_WRAP(int, faccessat, (int dirfd, const char *path, int mode, int flags), sl_lookup_at(dirfd, path),
        access_entry(e, mode), SL_NEXT(faccessat)(dirfd, path, mode, flags))
