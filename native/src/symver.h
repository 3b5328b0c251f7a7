/* Pins the few glibc symbols the shim calls to versions old enough for Amazon Linux 2 (glibc 2.26):
 * a plain build on glibc >= 2.34 binds dlsym (and dlclose) to their @GLIBC_2.34 versions. Everything else goes through raw
 * syscalls or function pointers resolved with dlsym, so no other call can pick up a newer version. */
#ifndef SNAPLOADER_SYMVER_H
#define SNAPLOADER_SYMVER_H
#if defined(__x86_64__)
__asm__(".symver dlsym,dlsym@GLIBC_2.2.5");
__asm__(".symver dlclose,dlclose@GLIBC_2.2.5");
__asm__(".symver pthread_mutex_lock,pthread_mutex_lock@GLIBC_2.2.5");
__asm__(".symver pthread_mutex_unlock,pthread_mutex_unlock@GLIBC_2.2.5");
#elif defined(__aarch64__)
__asm__(".symver dlsym,dlsym@GLIBC_2.17");
__asm__(".symver dlclose,dlclose@GLIBC_2.17");
__asm__(".symver pthread_mutex_lock,pthread_mutex_lock@GLIBC_2.17");
__asm__(".symver pthread_mutex_unlock,pthread_mutex_unlock@GLIBC_2.17");
#else
#error "libsnaploader_preload supports x86_64 and aarch64 only"
#endif
#endif
