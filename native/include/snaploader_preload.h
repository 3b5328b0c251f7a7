/*
 * snaploader_preload.h - public ABI of libsnaploader_preload.so, the LD_PRELOAD shim of SnapLoader.
 *
 * The shim makes files that SnapLoader moved into sealed memory files (memfd) answer at their original
 * paths: open/fopen/stat/access/realpath/readlink/dlopen of a registered path act on the memory file, and
 * folders whose files all moved answer stat/access/open/opendir from a folder that stands in for them. A
 * library registered with snaploader_register_library loads when something dlopens it, the libraries it
 * needs first.
 *
 * A process can tell whether the shim is preloaded by looking up snaploader_abi_version in the global
 * scope: dlsym(RTLD_DEFAULT, "snaploader_abi_version") != NULL.
 *
 * All functions return 0 (or a non-negative value) on success and a negative errno value on failure;
 * they do not set errno. Registration is meant for process init (before freeze); lookups are lock-free.
 */
#ifndef SNAPLOADER_PRELOAD_H
#define SNAPLOADER_PRELOAD_H

#ifdef __cplusplus
extern "C" {
#endif

/* The ABI version this header describes. Bumped on any incompatible change. */
#define SNAPLOADER_ABI_VERSION 3

/* Returns SNAPLOADER_ABI_VERSION of the loaded shim. */
int snaploader_abi_version(void);

/*
 * Registers original_path (absolute; normalised lexically by the shim: ".", "..", "//") for memfd.
 * memfd must carry F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW (else -EPERM); the shim keeps its own
 * F_DUPFD_CLOEXEC duplicate, so the caller may close its fd afterwards.
 * Errors: -EINVAL (NULL, empty or relative path, trailing slash), -ENAMETOOLONG, -EBADF, -EPERM (not a
 * sealed memfd), -EEXIST (path already registered with another file; registering the same file again
 * returns 0), -ENOSPC (table full), -EBUSY (after snaploader_freeze).
 */
int snaploader_register(const char *original_path, int memfd);

/*
 * Registers a bare file name (no slash) so that dlopen(name) with a slash-less name loads the file
 * registered at original_path (which must be registered first, else -ENOENT).
 * Errors as snaploader_register; -EEXIST when name already points to another path.
 */
int snaploader_register_alias(const char *name, const char *original_path);

/*
 * Declares the file registered at original_path a library. dlopen of that path (or of an alias of it) first
 * loads, depth first, the libraries of needed_paths (original paths of files registered before; those not
 * declared libraries themselves are left to the dynamic loader), then hands the real dlopen load_path: an absolute path to the same memory file
 * in a folder laid out like the original (a link), so that the library's $ORIGIN is that folder. load_path may
 * be NULL: /proc/self/fd/<fd> then, as for any registered file. The dynamic loader binds a DT_NEEDED name to an
 * object already loaded under that SONAME, so loading the needed libraries first is what makes them the ones
 * used, whatever the loader's own search would have found. dlmopen loads no needed library.
 * Errors: -EINVAL (a path as snaploader_register refuses it, a relative load_path, needed_count < 0 or
 * greater than 64), -ENAMETOOLONG, -ENOENT (original_path or a needed path not registered), -EISDIR (one of
 * them is a registered folder), -EEXIST (declared before with another load path), -ENOSPC, -EBUSY (after
 * snaploader_freeze).
 */
int snaploader_register_library(const char *original_path, const char *load_path, const char *const *needed_paths,
                                int needed_count);

/*
 * Registers original_path (absolute, normalised as snaploader_register does) for a directory: dirfd is an open
 * descriptor of a directory (the shim keeps its own duplicate), which stat, lstat, access, open and opendir of
 * the path then act on: for a folder whose files all moved, which stays there for code that checks it.
 * Errors as snaploader_register; -ENOTDIR when dirfd is not a directory.
 */
int snaploader_register_directory(const char *original_path, int dirfd);

/*
 * The shim's own descriptor of the file registered at original_path: the caller may close its memfd and use this
 * one instead (it must not close it), so that a moved file holds one descriptor, not two. snaploader_unregister
 * closes it. Errors: -EINVAL, -ENAMETOOLONG, -ENOENT (not registered), -EISDIR (a folder).
 */
int snaploader_descriptor(const char *original_path);

/*
 * Takes back the registration of original_path, so that it answers from the disk again, as before: for a load that
 * fails after some of its files were registered. The shim's duplicate of the memory file is closed once no call
 * that found the path is still using it (if such a call runs on for about 200 ms, /dev/null is put behind the
 * descriptor number instead, so that it reads an empty file, never another one), and aliases of the path stop
 * answering. The path may be registered again afterwards.
 * Errors: -EINVAL, -ENAMETOOLONG (as snaploader_register), -ENOENT (not registered), -EBUSY (after snaploader_freeze).
 */
int snaploader_unregister(const char *original_path);

/* Forbids any further registration or unregistration (-EBUSY). Returns 0. */
int snaploader_freeze(void);

#ifdef __cplusplus
}
#endif

#endif /* SNAPLOADER_PRELOAD_H */
