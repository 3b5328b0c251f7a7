/* fopen, fopen64, freopen, freopen64: a registered path is opened as /proc/self/fd/<shim fd>, read-only. */
#include "shim.h"

#include <errno.h>
#include <fcntl.h>

typedef FILE *(*fopen_fn)(const char *, const char *);
typedef FILE *(*freopen_fn)(const char *, const char *, FILE *);

/* 0 with a use of e held, or the errno to fail with: the mode asks for writing, or e was taken back. */
static int begin(const struct sl_entry *e, const char *mode)
{
    int err = sl_fopen_mode_check(mode);
    if (err == 0 && !sl_use_begin(e)) {
        err = ENOENT;
    }
    return err;
}

static void end(void)
{
    int saved = errno;
    sl_use_end();
    errno = saved;
}

static FILE *fopen_entry(const struct sl_entry *e, const char *mode, fopen_fn real)
{
    int err = begin(e, mode);
    if (err != 0) {
        sl_set_errno(err);
        return NULL;
    }
    FILE *f = real(e->target->proc_path, mode);
    end();
    return f;
}

static FILE *freopen_entry(const struct sl_entry *e, const char *mode, FILE *stream, freopen_fn real)
{
    int err = begin(e, mode);
    if (err != 0) {
        if (stream != NULL) {
            fclose(stream); /* freopen closes the stream even when it fails */
        }
        sl_set_errno(err);
        return NULL;
    }
    FILE *f = real(e->target->proc_path, mode, stream);
    end();
    return f;
}

SL_EXPORT FILE *fopen(const char *path, const char *mode)
{
    const struct sl_entry *e = sl_lookup_at(AT_FDCWD, path);
    fopen_fn real = SL_REAL(fopen_fn, fopen);
    return e != NULL ? fopen_entry(e, mode, real) : real(path, mode);
}

SL_EXPORT FILE *fopen64(const char *path, const char *mode)
{
    const struct sl_entry *e = sl_lookup_at(AT_FDCWD, path);
    fopen_fn real = SL_REAL(fopen_fn, fopen64);
    return e != NULL ? fopen_entry(e, mode, real) : real(path, mode);
}

SL_EXPORT FILE *freopen(const char *path, const char *mode, FILE *stream)
{
    const struct sl_entry *e = sl_lookup_at(AT_FDCWD, path);
    freopen_fn real = SL_REAL(freopen_fn, freopen);
    return e != NULL ? freopen_entry(e, mode, stream, real) : real(path, mode, stream);
}

SL_EXPORT FILE *freopen64(const char *path, const char *mode, FILE *stream)
{
    const struct sl_entry *e = sl_lookup_at(AT_FDCWD, path);
    freopen_fn real = SL_REAL(freopen_fn, freopen64);
    return e != NULL ? freopen_entry(e, mode, stream, real) : real(path, mode, stream);
}
