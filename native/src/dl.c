/*
 * dlopen, dlmopen. glibc's dlopen takes its caller from its return address and searches that object's
 * RUNPATH for a slash-less name, so each wrapper ends in a TAIL CALL: the real dlopen then returns straight
 * to our caller and sees it. That is why the wrapper has no addressable local of its own (GCC does not emit
 * a sibling call while a local's address may be used by the callee): the lookup, with its PATH_MAX buffers,
 * lives in a separate non-inlined function and returns a pointer to storage that outlives the call.
 */
#include "shim.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <string.h>

typedef void *(*dlopen_fn)(const char *, int);
typedef void *(*dlmopen_fn)(Lmid_t, const char *, int);

/* The name the real dlopen must get: /proc/self/fd/N for a registered path or alias, else file itself. */
__attribute__((noinline)) static const char *dl_target(const char *file)
{
    const char *volatile v = file;
    const char *p = v;
    if (p == NULL) {
        return NULL;
    }
    const struct sl_entry *e = strchr(p, '/') != NULL ? sl_lookup_at(AT_FDCWD, p) : sl_lookup_alias(p);
    return e != NULL ? e->target->proc_path : p;
}

SL_EXPORT void *dlopen(const char *file, int mode)
{
    dlopen_fn real = SL_REAL(dlopen_fn, dlopen);
#ifdef SNAPLOADER_BREAK_TAILCALL_FOR_TESTS
    void *volatile h = real(dl_target(file), mode);
    return h;
#else
    return real(dl_target(file), mode);
#endif
}

SL_EXPORT void *dlmopen(Lmid_t lmid, const char *file, int mode)
{
    dlmopen_fn real = SL_REAL(dlmopen_fn, dlmopen);
    return real(lmid, dl_target(file), mode);
}
