/* opendir: a registered folder (one whose files all moved) lists the folder that stands in for it. */
#include "wrap.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>

static DIR *opendir_entry(const struct sl_entry *e)
{
    if (!sl_use_begin(e)) {
        errno = ENOENT;
        return NULL;
    }
    DIR *d = SL_NEXT(opendir)(e->target->proc_path);
    sl_use_end();
    return d;
}

SL_WRAP(DIR *, opendir, (const char *name), sl_lookup_at(AT_FDCWD, name), opendir_entry(e), SL_NEXT(opendir)(name))
