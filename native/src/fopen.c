/* fopen, fopen64, freopen, freopen64: a registered path is opened as /proc/self/fd/<shim fd>, read-only. */
#include "wrap.h"

#include <errno.h>
#include <fcntl.h>

/* Typed as the wrappers are (SL_NEXT): fopen64 and freopen64 have the same types. */
typedef __typeof__(&fopen) fopen_fn;
typedef __typeof__(&freopen) freopen_fn;

static FILE *fopen_entry(const struct sl_entry *e, const char *mode, fopen_fn real)
{
    int err = sl_fopen_mode_check(mode);
    if (err != 0) {
        sl_set_errno(err);
        return NULL;
    }
    return real(e->target->proc_path, mode);
}

static FILE *freopen_entry(const struct sl_entry *e, const char *mode, FILE *stream, freopen_fn real)
{
    int err = sl_fopen_mode_check(mode);
    if (err != 0) {
        if (stream != NULL) {
            fclose(stream); /* freopen closes the stream even when it fails */
        }
        sl_set_errno(err);
        return NULL;
    }
    return real(e->target->proc_path, mode, stream);
}

/* The FILE comes from the wrapper's own next definition, on a match too: fopen64 stays fopen64. */
#define FOPEN(name)                                                                           \
    SL_WRAP(FILE *, name, (const char *path, const char *mode), sl_lookup_at(AT_FDCWD, path), \
            fopen_entry(e, mode, SL_NEXT(name)), SL_NEXT(name)(path, mode))
#define FREOPEN(name)                                                                                       \
    SL_WRAP(FILE *, name, (const char *path, const char *mode, FILE *stream), sl_lookup_at(AT_FDCWD, path), \
            freopen_entry(e, mode, stream, SL_NEXT(name)), SL_NEXT(name)(path, mode, stream))

FOPEN(fopen)
FOPEN(fopen64)
FREOPEN(freopen)
FREOPEN(freopen64)
