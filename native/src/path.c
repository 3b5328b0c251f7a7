/* Lexical path normalisation and resolution of relative paths, on caller-provided buffers only. */
#include "shim.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

long sl_normalize(const char *in, char *out, size_t out_size, int *trailing_slash)
{
    size_t n = 0;
    const char *p = in;
    if (in == NULL || in[0] != '/' || out_size < 2) {
        return -1;
    }
    *trailing_slash = 0;
    out[n++] = '/';
    while (*p != '\0') {
        while (*p == '/') {
            p++;
        }
        if (*p == '\0') {
            break;
        }
        const char *start = p;
        while (*p != '\0' && *p != '/') {
            p++;
        }
        size_t len = (size_t)(p - start);
        if (len == 1 && start[0] == '.') {
            continue;
        }
        if (len == 2 && start[0] == '.' && start[1] == '.') {
            /* pop the last component; ".." at the root stays at the root */
            if (n > 1) {
                n--; /* drop the trailing '/' */
                while (n > 0 && out[n - 1] != '/') {
                    n--;
                }
            }
            continue;
        }
        if (n + len + 1 >= out_size) {
            return -1;
        }
        memcpy(out + n, start, len);
        n += len;
        out[n++] = '/';
    }
    /* A '/' ended the input (or the last component was "." or ".."): the name must be a directory. */
    if (n > 1) {
        n--; /* the separator after the last component */
    }
    {
        size_t inlen = strlen(in);
        const char *last = in + inlen;
        /* trailing "/", "/." or "/.." all mean "a directory" */
        if (inlen > 1 && (last[-1] == '/'
                || (last[-1] == '.' && last[-2] == '/')
                || (inlen > 2 && last[-1] == '.' && last[-2] == '.' && last[-3] == '/'))) {
            *trailing_slash = 1;
        }
    }
    out[n] = '\0';
    return (long)n;
}

/* The directory an fd or the cwd names, without allocating. Returns its length or -1. */
static long dir_of(int dirfd, char *buf, size_t size)
{
    if (dirfd == AT_FDCWD) {
        long r = syscall(SYS_getcwd, buf, size);
        /* the kernel returns the length including the NUL; "(unreachable)" paths are not absolute */
        if (r <= 0 || buf[0] != '/') {
            return -1;
        }
        return (long)strlen(buf);
    }
    if (dirfd < 0) {
        return -1;
    }
    char link[32] = "/proc/self/fd/";
    char digits[12];
    int nd = 0;
    unsigned int v = (unsigned int)dirfd;
    do {
        digits[nd++] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    size_t l = 14;
    while (nd > 0) {
        link[l++] = digits[--nd];
    }
    link[l] = '\0';
    long r = syscall(SYS_readlinkat, AT_FDCWD, link, buf, size - 1);
    if (r <= 0 || buf[0] != '/') {
        return -1;
    }
    buf[r] = '\0';
    return r;
}

long sl_absolute_at(int dirfd, const char *path, char *out, size_t out_size, int *trailing_slash)
{
    if (path[0] == '/') {
        return sl_normalize(path, out, out_size, trailing_slash);
    }
    char joined[PATH_MAX];
    long d = dir_of(dirfd, joined, sizeof joined);
    if (d < 0) {
        return -1;
    }
    size_t plen = strlen(path);
    if ((size_t)d + 1 + plen + 1 > sizeof joined) {
        return -1;
    }
    joined[d] = '/';
    memcpy(joined + d + 1, path, plen + 1);
    return sl_normalize(joined, out, out_size, trailing_slash);
}
