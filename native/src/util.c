/* Raw system calls on the shim's memfd duplicates, and the read-only rules shared by the wrappers. */
#include "shim.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

void sl_set_errno(int e)
{
    errno = e;
}

int sl_open_flags_check(int flags)
{
    if ((flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC) != 0) {
        return EROFS; /* also covers O_TMPFILE, which needs write access */
    }
    if ((flags & (O_CREAT | O_EXCL)) == (O_CREAT | O_EXCL)) {
        return EEXIST;
    }
    return 0;
}

int sl_fopen_mode_check(const char *mode)
{
    if (mode == NULL || mode[0] != 'r') {
        return mode != NULL && (mode[0] == 'w' || mode[0] == 'a') ? EROFS : EINVAL;
    }
    for (const char *m = mode + 1; *m != '\0' && *m != ','; m++) {
        if (*m == '+') {
            return EROFS;
        }
    }
    return 0;
}

int sl_sys_open_entry(const struct sl_entry *e, int flags, int *err)
{
    int check = sl_open_flags_check(flags);
    if (check != 0) {
        *err = check;
        return -1;
    }
    /* A fresh open of the memfd through /proc gives a new description with its own offset. O_NOFOLLOW must
     * go (the /proc entry is a symlink); O_CREAT/O_EXCL have been answered; the rest is kept. */
    int f = flags & ~(O_NOFOLLOW | O_CREAT | O_EXCL);
    long fd = syscall(SYS_openat, AT_FDCWD, e->target->proc_path, f, 0);
    *err = errno;
    return fd < 0 ? -1 : (int)fd;
}

int sl_sys_fstat(int fd, struct stat *st, int *err)
{
    if (syscall(SYS_fstat, fd, st) != 0) {
        *err = errno;
        return -1;
    }
    return 0;
}

int sl_entry_stat(const struct sl_entry *e, struct stat *st)
{
    int err = 0;
    if (sl_sys_fstat(e->target->fd, st, &err) != 0) {
        errno = err;
        return -1;
    }
    st->st_mode &= ~(mode_t)(S_IWUSR | S_IWGRP | S_IWOTH); /* a read-only regular file */
    return 0;
}
