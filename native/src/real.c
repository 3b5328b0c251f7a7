/* The next definitions of the interposed functions, found once with dlsym(RTLD_NEXT). A constructor resolves
 * them all; a wrapper called before it (from another library's constructor) resolves its own lazily. Racing
 * resolutions store the same value, so plain atomic stores suffice. */
#include "shim.h"

#include <dlfcn.h>

void *sl_real(void **slot, const char *name)
{
    void *f = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
    if (f == NULL) {
        f = dlsym(RTLD_NEXT, name);
        __atomic_store_n(slot, f, __ATOMIC_RELEASE);
    }
    return f;
}

#define SL_REAL_SLOT(name) void *sl_real_##name;
#include "real_list.h"
#undef SL_REAL_SLOT

__attribute__((constructor)) void sl_resolve_all(void)
{
#define SL_REAL_SLOT(name) (void)sl_real(&sl_real_##name, #name);
#include "real_list.h"
#undef SL_REAL_SLOT
}
