/* stat (both ABIs), statx, access, realpath and readlink of registered paths. */
#include "shim_test.h"

void t_stat_new_abi(void)
{
    setup();
    struct stat ref;
    CHECK(stat(g_path, &ref) == 0);
    check_stat(&ref);
    const char *names[] = {"stat", "stat64", "lstat", "lstat64"};
    for (int i = 0; i < 4; i++) {
        struct stat st;
        CHECK(((stat_fn)sym(names[i]))(g_path, &st) == 0);
        check_stat(&st);
        CHECK(st.st_ino == ref.st_ino && st.st_dev == ref.st_dev);
    }
    const char *at[] = {"fstatat", "fstatat64"};
    int dirfd = open(g_root, O_RDONLY | O_DIRECTORY);
    for (int i = 0; i < 2; i++) {
        struct stat st;
        CHECK(((fstatat_fn)sym(at[i]))(AT_FDCWD, g_path, &st, 0) == 0);
        check_stat(&st);
        CHECK(((fstatat_fn)sym(at[i]))(AT_FDCWD, g_path, &st, AT_SYMLINK_NOFOLLOW) == 0);
        check_stat(&st);
        CHECK(((fstatat_fn)sym(at[i]))(dirfd, "task/lib.so", &st, AT_SYMLINK_NOFOLLOW) == 0);
        check_stat(&st);
        /* AT_EMPTY_PATH with "" is a stat of the fd itself */
        CHECK(((fstatat_fn)sym(at[i]))(dirfd, "", &st, AT_EMPTY_PATH) == 0);
        CHECK(S_ISDIR(st.st_mode));
    }
}

void t_stat_old_abi(void)
{
    setup();
    const char *names[] = {"__xstat", "__xstat64", "__lxstat", "__lxstat64"};
    for (int i = 0; i < 4; i++) {
        struct stat st;
        memset(&st, 0, sizeof st);
        CHECK(((xstat_fn)sym(names[i]))(SL_STAT_VER, g_path, &st) == 0);
        check_stat(&st);
        /* unmatched calls reach glibc's old-ABI function */
        CHECK(((xstat_fn)sym(names[i]))(SL_STAT_VER, g_root, &st) == 0);
        CHECK(S_ISDIR(st.st_mode));
        CHECK_ERR(((xstat_fn)sym(names[i]))(SL_STAT_VER, "/nonexistent/snaploader", &st), -1, ENOENT);
    }
    const char *at[] = {"__fxstatat", "__fxstatat64"};
    int dirfd = open(g_root, O_RDONLY | O_DIRECTORY);
    for (int i = 0; i < 2; i++) {
        struct stat st;
        CHECK(((fxstatat_fn)sym(at[i]))(SL_STAT_VER, dirfd, "task/lib.so", &st, 0) == 0);
        check_stat(&st);
        CHECK(((fxstatat_fn)sym(at[i]))(SL_STAT_VER, AT_FDCWD, g_path, &st, AT_SYMLINK_NOFOLLOW) == 0);
        check_stat(&st);
        CHECK(((fxstatat_fn)sym(at[i]))(SL_STAT_VER, dirfd, "task", &st, 0) == 0);
        CHECK(S_ISDIR(st.st_mode));
    }
}

void t_statx(void)
{
    setup();
    statx_fn f = (statx_fn)sym("statx");
    struct statx sx;
    memset(&sx, 0, sizeof sx);
    CHECK(f(AT_FDCWD, g_path, 0, STATX_BASIC_STATS, &sx) == 0);
    CHECK(S_ISREG(sx.stx_mode) && (sx.stx_mode & 0222) == 0);
    CHECK(sx.stx_size == sizeof g_content);
    CHECK(f(AT_FDCWD, g_path, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &sx) == 0);
    CHECK(S_ISREG(sx.stx_mode));
    int dirfd = open(g_root, O_RDONLY | O_DIRECTORY);
    CHECK(f(dirfd, "task/lib.so", AT_STATX_SYNC_AS_STAT, STATX_SIZE, &sx) == 0);
    CHECK(sx.stx_size == sizeof g_content);
    CHECK(f(dirfd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &sx) == 0);
    CHECK(S_ISDIR(sx.stx_mode));
    CHECK_ERR(f(AT_FDCWD, "/nonexistent/snaploader", 0, STATX_BASIC_STATS, &sx), -1, ENOENT);
}

void t_access_family(void)
{
    setup();
    access_fn a = (access_fn)sym("access");
    CHECK(a(g_path, F_OK) == 0);
    CHECK(a(g_path, R_OK) == 0);
    CHECK_ERR(a(g_path, W_OK), -1, EROFS);
    CHECK_ERR(a(g_path, R_OK | W_OK), -1, EROFS);
    faccessat_fn fa = (faccessat_fn)sym("faccessat");
    int dirfd = open(g_root, O_RDONLY | O_DIRECTORY);
    CHECK(fa(AT_FDCWD, g_path, R_OK, 0) == 0);
    CHECK(fa(dirfd, "task/lib.so", R_OK, AT_EACCESS) == 0);
    CHECK_ERR(fa(dirfd, "task/lib.so", W_OK, 0), -1, EROFS);
    CHECK_ERR(a("/nonexistent/snaploader", F_OK), -1, ENOENT);
}

void t_realpath_family(void)
{
    setup();
    char spelled[PATH_MAX], buf[PATH_MAX];
    pathf(spelled, "%s//task/./nodir/../lib.so", g_root);
    realpath_fn rp = (realpath_fn)sym("realpath");
    CHECK(rp(spelled, buf) == buf);
    CHECK(strcmp(buf, g_path) == 0);
    char *m = rp(g_path, NULL);
    CHECK(m != NULL && strcmp(m, g_path) == 0);
    free(m);
    realpath_chk_fn chk = (realpath_chk_fn)sym("__realpath_chk");
    memset(buf, 0, sizeof buf);
    CHECK(chk(spelled, buf, sizeof buf) == buf);
    CHECK(strcmp(buf, g_path) == 0);
    canon_fn c = (canon_fn)sym("canonicalize_file_name");
    m = c(spelled);
    CHECK(m != NULL && strcmp(m, g_path) == 0);
    free(m);
    /* unmatched: the real realpath, which fails on the absent sibling */
    char absent[PATH_MAX];
    pathf(absent, "%s/task/other.so", g_root);
    CHECK_ERR(rp(absent, buf), NULL, ENOENT);
    CHECK(rp("/tmp/../tmp", buf) == buf && strcmp(buf, "/tmp") == 0);
}

void t_readlink(void)
{
    setup();
    readlink_fn r = (readlink_fn)sym("readlink");
    char buf[PATH_MAX];
    CHECK_ERR(r(g_path, buf, sizeof buf), -1, EINVAL);
    char link[PATH_MAX];
    pathf(link, "%s/link", g_root);
    CHECK(symlink("target-of-link", link) == 0);
    ssize_t n = r(link, buf, sizeof buf);
    CHECK(n == 14 && memcmp(buf, "target-of-link", 14) == 0);
}
