/* fopen, fopen64, freopen, freopen64: a registered path is opened as /proc/self/fd/<shim fd>, read-only. */
#include "shim.h"

#include <errno.h>
#include <fcntl.h>

typedef FILE *(*fopen_fn)(const char *, const char *);
typedef FILE *(*freopen_fn)(const char *, const char *, FILE *);

/* The path to hand to the real function, or NULL with errno set when the mode asks for writing. */
static const char *target(const struct sl_entry *e, const char *mode)
{
    int err = sl_fopen_mode_check(mode);
    if (err != 0) {
        sl_set_errno(err);
        return NULL;
    }
    return e->target->proc_path;
}

static void close_stream(FILE *stream)
{
    int saved = errno;
    if (stream != NULL) {
        fclose(stream);
    }
    errno = saved;
}

SL_EXPORT FILE *fopen(const char *path, const char *mode)
{
    const struct sl_entry *e = sl_lookup_at(AT_FDCWD, path);
    if (e != NULL) {
        const char *p = target(e, mode);
        return p == NULL ? NULL : SL_REAL(fopen_fn, fopen)(p, mode);
    }
    return SL_REAL(fopen_fn, fopen)(path, mode);
}

SL_EXPORT FILE *fopen64(const char *path, const char *mode)
{
    const struct sl_entry *e = sl_lookup_at(AT_FDCWD, path);
    if (e != NULL) {
        const char *p = target(e, mode);
        return p == NULL ? NULL : SL_REAL(fopen_fn, fopen64)(p, mode);
    }
    return SL_REAL(fopen_fn, fopen64)(path, mode);
}

SL_EXPORT FILE *freopen(const char *path, const char *mode, FILE *stream)
{
    const struct sl_entry *e = sl_lookup_at(AT_FDCWD, path);
    if (e != NULL) {
        const char *p = target(e, mode);
        if (p == NULL) {
            close_stream(stream); /* freopen closes the stream even when it fails */
            return NULL;
        }
        return SL_REAL(freopen_fn, freopen)(p, mode, stream);
    }
    return SL_REAL(freopen_fn, freopen)(path, mode, stream);
}

SL_EXPORT FILE *freopen64(const char *path, const char *mode, FILE *stream)
{
    const struct sl_entry *e = sl_lookup_at(AT_FDCWD, path);
    if (e != NULL) {
        const char *p = target(e, mode);
        if (p == NULL) {
            close_stream(stream); /* freopen closes the stream even when it fails */
            return NULL;
        }
        return SL_REAL(freopen_fn, freopen64)(p, mode, stream);
    }
    return SL_REAL(freopen_fn, freopen64)(path, mode, stream);
}
