/*
 * dlopen, dlmopen. glibc's dlopen takes its caller from its return address and searches that object's
 * RUNPATH for a slash-less name, so for a name that is not registered each wrapper ends in a TAIL CALL: the real
 * dlopen then returns straight to our caller and sees it. That is why the wrapper has no addressable local of its
 * own (GCC does not emit a sibling call while a local's address may be used by the callee): the lookup, with its
 * PATH_MAX buffers, lives in a separate non-inlined function and returns a pointer to storage that outlives the
 * call. A registered name becomes an absolute path, for which no RUNPATH is searched: that call is made and
 * returned from, so that the descriptor stays in use until it is done.
 *
 * A registered library loads when it is first opened, not before: the dynamic loader resolves its DT_NEEDED
 * entries with internal opens that no preload sees, but it binds each to an object already loaded under that
 * SONAME. So a declared library (snaploader_register_library) is opened by open_declared: the libraries it needs
 * (resolved at build time as the loader would in the original layout) first, depth first, then the library from
 * its absolute load path, which depends on no caller and needs no tail call.
 */
#include "shim.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>

typedef void *(*dlopen_fn)(const char *, int);
typedef void *(*dlmopen_fn)(Lmid_t, const char *, int);
typedef char *(*dlerror_fn)(void);

/* The dynamic loader's reason for the last failed open of a declared library, kept for dlerror: giving back the
 * needed libraries (dlclose) clears glibc's own. Static TLS (the shim is loaded at start): no allocation. */
static __thread __attribute__((tls_model("initial-exec"))) char g_error[512];
static __thread __attribute__((tls_model("initial-exec"))) int g_error_pending;

#define SL_MAX_DEPTH 32
#define SL_MAX_TAKEN 256

/* One dlopen of a declared library: the libraries visited on the way, and the references taken on the needed ones,
 * given back once the library itself holds them (or failed), so that a library that fails to load leaves nothing
 * loaded behind it, as from disk, where a fallback would otherwise bind to the failed one's needs by SONAME. */
struct sl_load {
    const struct sl_library *visited[SL_MAX_TAKEN];
    unsigned int visited_count;
    void *taken[SL_MAX_TAKEN];
    unsigned int taken_count;
};

static int visit(struct sl_load *load, const struct sl_library *lib)
{
    for (unsigned int i = 0; i < load->visited_count; i++) {
        if (load->visited[i] == lib) {
            return 0;
        }
    }
    if (load->visited_count < SL_MAX_TAKEN) {
        load->visited[load->visited_count++] = lib;
    }
    return 1;
}

/* Loads what lib needs, depth first, each once per call (a cycle stops where it closes). A library another thread
 * is loading is simply loaded again (dlopen counts references), never skipped. Failures are left to the dlopen of
 * the library that needs it, which then reports the missing name as it would without SnapLoader. */
static void load_needed(const struct sl_library *lib, struct sl_load *load, unsigned int depth)
{
    if (depth >= SL_MAX_DEPTH) {
        return;
    }
    dlopen_fn real = SL_REAL(dlopen_fn, dlopen);
    for (unsigned int i = 0; i < lib->needed_count; i++) {
        const struct sl_entry *n = lib->needed[i];
        const struct sl_library *nl = sl_is_live(n) ? sl_library_of(n) : NULL;
        if (nl == NULL || !visit(load, nl)) {
            continue;
        }
        void *loaded = real(nl->load_path, RTLD_LAZY | RTLD_NOLOAD);
        if (loaded != NULL) {
            dlclose(loaded); /* loaded already, with what it needs: the probe's own reference goes back */
            continue;
        }
        load_needed(nl, load, depth + 1);
        void *h = real(nl->load_path, RTLD_LAZY | RTLD_LOCAL);
        if (h != NULL && load->taken_count < SL_MAX_TAKEN) {
            load->taken[load->taken_count++] = h;
        }
    }
}

/* dlopen of a declared library: its needs, then the library from its load path. The path is absolute, so no
 * caller's RUNPATH is involved and this need not be a tail call. When it fails, dlerror() still gives the dynamic
 * loader's own reason, as without SnapLoader. Called with a use held, which covers every entry it loads. */
static void *open_declared(const struct sl_library *lib, int mode)
{
    dlopen_fn real = SL_REAL(dlopen_fn, dlopen);
    struct sl_load load;
    load.visited_count = 0;
    load.taken_count = 0;
    visit(&load, lib);
    load_needed(lib, &load, 0);
    void *h = real(lib->load_path, mode);
    if (h == NULL) {
        const char *why = SL_REAL(dlerror_fn, dlerror)();
        size_t n = 0;
        for (; why != NULL && why[n] != '\0' && n < sizeof g_error - 1; n++) {
            g_error[n] = why[n];
        }
        g_error[n] = '\0';
    }
    for (unsigned int i = load.taken_count; i > 0; i--) {
        dlclose(load.taken[i - 1]); /* not interposed: libdl's own */
    }
    g_error_pending = h == NULL;
    return h;
}

/* The registered file or alias a dlopen of file names, with a use of it held; or NULL. As in SL_WRAP (wrap.h), an
 * entry taken back before its use is looked up again. */
__attribute__((noinline)) static const struct sl_entry *dl_entry(const char *file)
{
    const char *volatile v = file;
    const char *p = v;
    if (p == NULL) {
        return NULL;
    }
    const struct sl_entry *e;
    do {
        e = strchr(p, '/') != NULL ? sl_lookup_at(AT_FDCWD, p) : sl_lookup_alias(p);
    } while (e != NULL && !sl_use_begin(e));
    return e;
}

/* dlopen, or dlmopen into lmid (other_namespace), of a registered file: a declared library with its needs first (not
 * for RTLD_NOLOAD, nor into another namespace, which would not reuse what this one loaded), else its load path or
 * /proc/self/fd/N. The path handed on is absolute: no caller's RUNPATH is involved, so this need not be a tail call.
 * Called with a use of e held, which covers every descriptor until the real function returns; ends it. */
__attribute__((noinline)) static void *open_registered(const struct sl_entry *e, int mode, int other_namespace, Lmid_t lmid)
{
    const struct sl_library *lib = sl_library_of(e);
    void *h;
    if (other_namespace) {
        h = SL_REAL(dlmopen_fn, dlmopen)(lmid, lib != NULL ? lib->load_path : e->target->proc_path, mode);
    } else if (lib != NULL && (mode & RTLD_NOLOAD) == 0) {
        h = open_declared(lib, mode);
    } else {
        h = SL_REAL(dlopen_fn, dlopen)(lib != NULL ? lib->load_path : e->target->proc_path, mode);
    }
    sl_use_end();
    return h;
}

/* dlopen and dlmopen are written out, not SL_WRAP (wrap.h): a miss must end in the sibling call shown here (which
 * SNAPLOADER_BREAK_TAILCALL_FOR_TESTS breaks on purpose), a slash-less name looks up the aliases, and both first clear
 * the kept dlerror reason. dlerror takes no path at all. */
SL_EXPORT void *dlopen(const char *file, int mode)
{
    g_error_pending = 0;
    const struct sl_entry *e = dl_entry(file);
    if (e != NULL) {
        return open_registered(e, mode, 0, LM_ID_BASE);
    }
    dlopen_fn real = SL_REAL(dlopen_fn, dlopen);
#ifdef SNAPLOADER_BREAK_TAILCALL_FOR_TESTS
    void *volatile h = real(file, mode);
    return h;
#else
    return real(file, mode);
#endif
}

/* Another namespace would not reuse what this one loaded: no needed library is loaded for it. */
SL_EXPORT void *dlmopen(Lmid_t lmid, const char *file, int mode)
{
    g_error_pending = 0;
    const struct sl_entry *e = dl_entry(file);
    if (e != NULL) {
        return open_registered(e, mode, 1, lmid);
    }
    dlmopen_fn real = SL_REAL(dlmopen_fn, dlmopen);
    return real(lmid, file, mode);
}

/* The reason of a failed open of a declared library, once, as glibc's dlerror gives its own; else glibc's. */
SL_EXPORT char *dlerror(void)
{
    if (g_error_pending) {
        g_error_pending = 0;
        return g_error;
    }
    return SL_REAL(dlerror_fn, dlerror)();
}
