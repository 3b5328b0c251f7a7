/* opendir: a registered folder (one whose files all moved) lists the folder that stands in for it. */
#include "shim.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>

typedef DIR *(*opendir_fn)(const char *);

SL_EXPORT DIR *opendir(const char *name)
{
    const struct sl_entry *e = sl_lookup_at(AT_FDCWD, name);
    if (e == NULL) {
        return SL_REAL(opendir_fn, opendir)(name);
    }
    if (!sl_use_begin(e)) {
        errno = ENOENT;
        return NULL;
    }
    DIR *d = SL_REAL(opendir_fn, opendir)(e->target->proc_path);
    int err = errno;
    sl_use_end();
    errno = err;
    return d;
}
