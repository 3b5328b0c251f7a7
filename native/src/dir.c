/* opendir: a registered folder (one whose files all moved) lists the folder that stands in for it. */
#include "wrap.h"

#include <dirent.h>
#include <fcntl.h>

SL_WRAP(DIR *, opendir, (const char *name), sl_lookup_at(AT_FDCWD, name), SL_NEXT(opendir)(e->target->proc_path),
        SL_NEXT(opendir)(name))
