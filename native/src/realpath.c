/* realpath, __realpath_chk, canonicalize_file_name: a registered path resolves to itself (normalised), not to
 * /proc/self/fd/N or memfd:...; readlink on it fails EINVAL, as on any regular file. */
#include "shim.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

typedef char *(*realpath_fn)(const char *, char *);
typedef char *(*realpath_chk_fn)(const char *, char *, size_t);
typedef char *(*canon_fn)(const char *);
typedef ssize_t (*readlink_fn)(const char *, char *, size_t);

SL_EXPORT char *__realpath_chk(const char *path, char *resolved, size_t resolvedlen);

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

SL_EXPORT char *realpath(const char *path, char *resolved)
{
    const struct sl_entry *e = sl_lookup_at(AT_FDCWD, path);
    if (e != NULL) {
        return copy_key(e, resolved);
    }
    return SL_REAL(realpath_fn, realpath)(path, resolved);
}

SL_EXPORT char *__realpath_chk(const char *path, char *resolved, size_t resolvedlen)
{
    const struct sl_entry *e = sl_lookup_at(AT_FDCWD, path);
    if (e != NULL && (resolved == NULL || resolvedlen >= PATH_MAX)) {
        return copy_key(e, resolved);
    }
    /* unmatched, or a buffer too small: the real one answers (and aborts on the latter) */
    return SL_REAL(realpath_chk_fn, __realpath_chk)(path, resolved, resolvedlen);
}

SL_EXPORT char *canonicalize_file_name(const char *path)
{
    const struct sl_entry *e = sl_lookup_at(AT_FDCWD, path);
    if (e != NULL) {
        return copy_key(e, NULL);
    }
    return SL_REAL(canon_fn, canonicalize_file_name)(path);
}

SL_EXPORT ssize_t readlink(const char *path, char *buf, size_t size)
{
    const struct sl_entry *e = sl_lookup_at(AT_FDCWD, path);
    if (e != NULL) {
        sl_set_errno(EINVAL);
        return -1;
    }
    return SL_REAL(readlink_fn, readlink)(path, buf, size);
}
