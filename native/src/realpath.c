/* realpath, __realpath_chk, canonicalize_file_name: a registered path resolves to itself (normalised), not to
 * /proc/self/fd/N or memfd:...; readlink on it fails EINVAL, as on any regular file. */
#include "wrap.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

/* The entry's key is the normalised absolute path; aliases are never matched here. */
static char *copy_key(const struct sl_entry *e, char *resolved)
{
    const struct sl_entry *f = e->target;
    if (resolved == NULL) {
        resolved = malloc(f->key_len + 1);
        if (resolved == NULL) {
            sl_set_errno(ENOMEM);
            return NULL;
        }
    }
    memcpy(resolved, f->key, f->key_len + 1);
    return resolved;
}

/* readlink of a registered path: a regular file, not a link. */
static ssize_t not_a_link(void)
{
    sl_set_errno(EINVAL);
    return -1;
}

SL_WRAP(char *, realpath, (const char *path, char *resolved), sl_lookup_at(AT_FDCWD, path), copy_key(e, resolved),
        SL_NEXT(realpath)(path, resolved))
/* A buffer too small never matches: the next definition aborts on it. */
SL_WRAP(char *, __realpath_chk, (const char *path, char *resolved, size_t resolvedlen),
        (resolved == NULL || resolvedlen >= PATH_MAX) ? sl_lookup_at(AT_FDCWD, path) : NULL, copy_key(e, resolved),
        SL_NEXT(__realpath_chk)(path, resolved, resolvedlen))
SL_WRAP(char *, canonicalize_file_name, (const char *path), sl_lookup_at(AT_FDCWD, path), copy_key(e, NULL),
        SL_NEXT(canonicalize_file_name)(path))
SL_WRAP(ssize_t, readlink, (const char *path, char *buf, size_t size), sl_lookup_at(AT_FDCWD, path), not_a_link(),
        SL_NEXT(readlink)(path, buf, size))
