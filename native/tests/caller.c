/* libcaller.so (RUNPATH $ORIGIN/sub): calls dlopen itself, so glibc searches ITS RUNPATH for slash-less
 * names, provided the shim's dlopen wrapper tail-calls the real one. */
#include <dlfcn.h>
__attribute__((visibility("default"))) void *sl_caller_dlopen(const char *name)
{
    void *h = dlopen(name, RTLD_NOW);
    __asm__ volatile("" ::: "memory"); /* keep this call a real call: the return address must be ours */
    return h;
}
