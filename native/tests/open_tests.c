/* open, the fortified opens, and fopen/freopen of registered paths. */
#include "shim_test.h"

void t_open_family(void)
{
    setup();
    const char *names[] = {"open", "open64"};
    for (int i = 0; i < 2; i++) {
        int fd = ((open_fn)sym(names[i]))(g_path, O_RDONLY | O_CLOEXEC);
        CHECK(fd >= 0);
        check_fd_content(fd);
        struct stat st;
        CHECK(fstat(fd, &st) == 0);
        CHECK(S_ISREG(st.st_mode) && st.st_size == (off_t)sizeof g_content);
        close(fd);
    }
    const char *at[] = {"openat", "openat64"};
    int dirfd = open(g_root, O_RDONLY | O_DIRECTORY);
    CHECK(dirfd >= 0);
    for (int i = 0; i < 2; i++) {
        int fd = ((openat_fn)sym(at[i]))(AT_FDCWD, g_path, O_RDONLY);
        CHECK(fd >= 0);
        check_fd_content(fd);
        close(fd);
        fd = ((openat_fn)sym(at[i]))(dirfd, "task/lib.so", O_RDONLY);
        CHECK(fd >= 0);
        check_fd_content(fd);
        close(fd);
        fd = ((openat_fn)sym(at[i]))(dirfd, g_path, O_RDONLY); /* absolute: dirfd ignored */
        CHECK(fd >= 0);
        close(fd);
    }
}

void t_fortify_open_family(void)
{
    setup();
    const char *names[] = {"__open_2", "__open64_2"};
    for (int i = 0; i < 2; i++) {
        int fd = ((open2_fn)sym(names[i]))(g_path, O_RDONLY);
        CHECK(fd >= 0);
        check_fd_content(fd);
        close(fd);
        CHECK_ERR(((open2_fn)sym(names[i]))(g_path, O_WRONLY), -1, EROFS);
    }
    const char *at[] = {"__openat_2", "__openat64_2"};
    int dirfd = open(g_root, O_RDONLY | O_DIRECTORY);
    for (int i = 0; i < 2; i++) {
        int fd = ((openat2_fn)sym(at[i]))(dirfd, "task/lib.so", O_RDONLY);
        CHECK(fd >= 0);
        check_fd_content(fd);
        close(fd);
        CHECK_ERR(((openat2_fn)sym(at[i]))(AT_FDCWD, g_path, O_RDWR), -1, EROFS);
    }
}

void t_open_rules(void)
{
    setup();
    CHECK_ERR(open(g_path, O_WRONLY), -1, EROFS);
    CHECK_ERR(open(g_path, O_RDWR), -1, EROFS);
    CHECK_ERR(open(g_path, O_RDONLY | O_TRUNC), -1, EROFS);
    CHECK_ERR(open(g_path, O_WRONLY | O_CREAT | O_TRUNC, 0644), -1, EROFS);
    CHECK_ERR(open(g_path, O_WRONLY | O_APPEND), -1, EROFS);
    CHECK_ERR(open(g_path, O_RDONLY | O_CREAT | O_EXCL, 0644), -1, EEXIST);
    CHECK_ERR(open(g_path, O_RDONLY | O_DIRECTORY), -1, ENOTDIR);
    int c = open(g_path, O_RDONLY | O_CREAT, 0644); /* exists: O_CREAT alone just opens */
    CHECK(c >= 0);
    close(c);
    int nf = open(g_path, O_RDONLY | O_NOFOLLOW); /* dropped: a regular file, not the /proc symlink */
    CHECK(nf >= 0);
    check_fd_content(nf);
    close(nf);
    /* each open has its own offset */
    int a = open(g_path, O_RDONLY), b = open(g_path, O_RDONLY);
    CHECK(a >= 0 && b >= 0);
    char buf[16];
    CHECK(read(a, buf, 10) == 10);
    CHECK(lseek(b, 0, SEEK_CUR) == 0);
    check_fd_content(b);
    CHECK(lseek(a, 0, SEEK_CUR) == 10);
    CHECK((fcntl(a, F_GETFD) & FD_CLOEXEC) == 0);
    int ce = open(g_path, O_RDONLY | O_CLOEXEC);
    CHECK((fcntl(ce, F_GETFD) & FD_CLOEXEC) != 0);
    /* the memfd cannot be written through a fresh read-only open either */
    CHECK_ERR(write(a, "x", 1), -1, EBADF);
}

void check_stream(FILE *f)
{
    CHECK(f != NULL);
    char buf[sizeof g_content + 10];
    CHECK(fread(buf, 1, sizeof buf, f) == sizeof g_content);
    CHECK(memcmp(buf, g_content, sizeof g_content) == 0);
    fclose(f);
}

void t_fopen_family(void)
{
    setup();
    const char *names[] = {"fopen", "fopen64"};
    for (int i = 0; i < 2; i++) {
        fopen_fn f = (fopen_fn)sym(names[i]);
        check_stream(f(g_path, "r"));
        check_stream(f(g_path, "rb"));
        check_stream(f(g_path, "re"));
        const char *bad[] = {"w", "a", "r+", "w+", "a+", "rb+"};
        for (size_t j = 0; j < sizeof bad / sizeof *bad; j++) {
            errno = 0;
            CHECK(f(g_path, bad[j]) == NULL);
            CHECK(errno == EROFS);
        }
    }
    const char *re[] = {"freopen", "freopen64"};
    for (int i = 0; i < 2; i++) {
        freopen_fn f = (freopen_fn)sym(re[i]);
        FILE *s = fopen("/dev/null", "r");
        CHECK(s != NULL);
        check_stream(f(g_path, "r", s));
        s = fopen("/dev/null", "r");
        errno = 0;
        CHECK(f(g_path, "w", s) == NULL);
        CHECK(errno == EROFS);
    }
}
