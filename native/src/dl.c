/*
 * dlopen, dlmopen. glibc's dlopen takes its caller from its return address and searches that object's
 * RUNPATH for a slash-less name, so each wrapper ends in a TAIL CALL: the real dlopen then returns straight
 * to our caller and sees it. That is why the wrapper has no addressable local of its own (GCC does not emit
 * a sibling call while a local's address may be used by the callee): the lookup, with its PATH_MAX buffers,
 * lives in a separate non-inlined function and returns a pointer to storage that outlives the call.
 *
 * A registered library loads when it is first opened, not before: the dynamic loader resolves its DT_NEEDED
 * entries with internal opens that no preload sees, but it binds each to an object already loaded under that
 * SONAME. So before the tail call, the libraries it needs (declared by snaploader_register_library, resolved
 * at build time as the loader would in the original layout) are loaded, depth first; those absolute opens do
 * not depend on their caller.
 */
#include "shim.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <string.h>

typedef void *(*dlopen_fn)(const char *, int);
typedef void *(*dlmopen_fn)(Lmid_t, const char *, int);

#define SL_MAX_DEPTH 32

/* Loads what lib needs, then lib itself for a needed one. path holds the libraries being loaded above this call
 * (depth of them), so a cycle stops where it closes; a library another thread is loading is simply loaded again
 * (dlopen counts references), never skipped. Failures are left to the dlopen of the library that needs it,
 * which then reports the missing name as it would without SnapLoader. */
static void load_needed(const struct sl_library *lib, const struct sl_library **path, unsigned int depth)
{
    if (depth >= SL_MAX_DEPTH) {
        return;
    }
    path[depth] = lib;
    for (unsigned int i = 0; i < lib->needed_count; i++) {
        const struct sl_entry *n = lib->needed[i];
        const struct sl_library *nl = sl_is_live(n) ? sl_library_of(n) : NULL;
        if (nl == NULL) {
            continue;
        }
        int on_path = 0;
        for (unsigned int d = 0; d <= depth; d++) {
            on_path |= path[d] == nl;
        }
        if (on_path) {
            continue;
        }
        dlopen_fn real = SL_REAL(dlopen_fn, dlopen);
        if (real(nl->load_path, RTLD_LAZY | RTLD_NOLOAD) != NULL) {
            continue; /* loaded already, with what it needs */
        }
        load_needed(nl, path, depth + 1);
        (void)real(nl->load_path, RTLD_LAZY | RTLD_LOCAL);
    }
}

/* The name the real dlopen must get: for a registered path or alias its load path (a declared library, whose
 * needed libraries are loaded first unless load is 0) or /proc/self/fd/N, else file itself. */
__attribute__((noinline)) static const char *dl_target(const char *file, int load)
{
    const char *volatile v = file;
    const char *p = v;
    if (p == NULL) {
        return NULL;
    }
    const struct sl_entry *e = strchr(p, '/') != NULL ? sl_lookup_at(AT_FDCWD, p) : sl_lookup_alias(p);
    if (e == NULL) {
        return p;
    }
    const struct sl_library *lib = sl_library_of(e);
    if (lib == NULL) {
        return e->target->proc_path;
    }
    if (load) {
        const struct sl_library *path[SL_MAX_DEPTH];
        load_needed(lib, path, 0);
    }
    return lib->load_path;
}

SL_EXPORT void *dlopen(const char *file, int mode)
{
    dlopen_fn real = SL_REAL(dlopen_fn, dlopen);
#ifdef SNAPLOADER_BREAK_TAILCALL_FOR_TESTS
    void *volatile h = real(dl_target(file, (mode & RTLD_NOLOAD) == 0), mode);
    return h;
#else
    return real(dl_target(file, (mode & RTLD_NOLOAD) == 0), mode);
#endif
}

/* Another namespace would not reuse what this one loaded: no needed library is loaded for it. */
SL_EXPORT void *dlmopen(Lmid_t lmid, const char *file, int mode)
{
    dlmopen_fn real = SL_REAL(dlmopen_fn, dlmopen);
    return real(lmid, dl_target(file, 0), mode);
}
