/* Registered folders: a folder whose files all moved answers stat, access, open and opendir. */
#include "shim_test.h"

typedef int (*regdir_fn)(const char *, int);
typedef DIR *(*opendir_fn)(const char *);

void t_directory(void)
{
    setup();
    regdir_fn regdir = (regdir_fn)sym("snaploader_register_directory");
    char standin[PATH_MAX], file[PATH_MAX], gone[PATH_MAX];
    pathf(standin, "%s/links-folder", g_root);
    CHECK(mkdir(standin, 0700) == 0);
    pathf(file, "%s/moved.bin", standin);
    int w = open(file, O_WRONLY | O_CREAT, 0600);
    CHECK(w >= 0 && close(w) == 0);
    pathf(gone, "%s/task/runtimes/linux-x64", g_root);
    struct stat st;
    CHECK_ERR(stat(gone, &st), -1, ENOENT); /* precondition: not on disk */

    CHECK(regdir(gone, -1) == -EBADF);
    int memfd = sealed_memfd("sl-not-a-dir", "x", 1);
    CHECK(regdir(gone, memfd) == -ENOTDIR);
    int dirfd = open(standin, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    CHECK(dirfd >= 0);
    CHECK(regdir(gone, dirfd) == 0);
    CHECK(regdir(gone, dirfd) == 0); /* the same folder again */
    CHECK(close(dirfd) == 0);        /* the shim keeps its own */

    CHECK(((stat_fn)sym("stat"))(gone, &st) == 0 && S_ISDIR(st.st_mode));
    CHECK(((stat_fn)sym("lstat"))(gone, &st) == 0 && S_ISDIR(st.st_mode));
    CHECK(((access_fn)sym("access"))(gone, R_OK | X_OK) == 0);
    int fd = ((open_fn)sym("open"))(gone, O_RDONLY | O_DIRECTORY);
    CHECK(fd >= 0);
    close(fd);
    DIR *d = ((opendir_fn)sym("opendir"))(gone);
    CHECK(d != NULL);
    int found = 0;
    for (struct dirent *entry; (entry = readdir(d)) != NULL;) {
        found |= strcmp(entry->d_name, "moved.bin") == 0;
    }
    closedir(d);
    CHECK(found);
    char spelled[PATH_MAX];
    pathf(spelled, "%s/task/runtimes/./linux-x64/", g_root);
    d = ((opendir_fn)sym("opendir"))(spelled); /* a trailing slash names a folder, which this is */
    CHECK(d != NULL);
    closedir(d);
    CHECK(((stat_fn)sym("stat"))(spelled, &st) == 0 && S_ISDIR(st.st_mode));
    /* a folder is no library, need or alias target */
    typedef int (*reglib_fn)(const char *, const char *, const char *const *, int);
    reglib_fn reglib = (reglib_fn)sym("snaploader_register_library");
    CHECK(reglib(gone, NULL, NULL, 0) == -EISDIR);
    const char *needs[] = {gone};
    CHECK(reglib(g_path, NULL, needs, 1) == -EISDIR);
    CHECK(sl_alias("libgone.so", gone) == -EISDIR);
    /* unmatched folders pass through */
    CHECK(((opendir_fn)sym("opendir"))(g_root) != NULL);
    char missing[PATH_MAX];
    pathf(missing, "%s/task/other", g_root);
    errno = 0;
    CHECK(((opendir_fn)sym("opendir"))(missing) == NULL && errno == ENOENT);
}
