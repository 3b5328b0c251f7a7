/* opendir: a registered folder (one whose files all moved) lists the folder that stands in for it. */
#include "shim.h"

#include <dirent.h>
#include <fcntl.h>

typedef DIR *(*opendir_fn)(const char *);

SL_EXPORT DIR *opendir(const char *name)
{
    const struct sl_entry *e = sl_lookup_at(AT_FDCWD, name);
    return SL_REAL(opendir_fn, opendir)(e != NULL ? e->target->proc_path : name);
}
