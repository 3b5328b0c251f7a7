/*
 * deny_memfd ERRNO PROGRAM [ARGS...]
 *
 * Runs PROGRAM in a sandbox where memfd_create(2) fails with ERRNO (ENOSYS: an old kernel or a sandbox that hides
 * the call; EPERM: a seccomp policy that forbids it), as some container runtimes and hardened hosts do. The filter is
 * inherited across execve and by every thread, so the .NET runtime and SnapLoader see it from their first instruction.
 * Built and run by MemfdUnavailableTests; needs no privileges (PR_SET_NO_NEW_PRIVS allows an unprivileged filter).
 */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__x86_64__)
#define THIS_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define THIS_ARCH AUDIT_ARCH_AARCH64
#else
#error "Lambda runs x86_64 and arm64 only"
#endif

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s ENOSYS|EPERM PROGRAM [ARGS...]\n", argv[0]);
        return 2;
    }
    int error;
    if (strcmp(argv[1], "ENOSYS") == 0) {
        error = ENOSYS;
    } else if (strcmp(argv[1], "EPERM") == 0) {
        error = EPERM;
    } else {
        fprintf(stderr, "deny_memfd: unknown errno '%s'\n", argv[1]);
        return 2;
    }

    struct sock_filter filter[] = {
        /* A syscall number means something else under another ABI: only this architecture's is matched. */
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, THIS_ARCH, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_memfd_create, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (error & SECCOMP_RET_DATA)),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog program = { .len = sizeof filter / sizeof filter[0], .filter = filter };

    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
        perror("deny_memfd: prctl(PR_SET_NO_NEW_PRIVS)");
        return 125;
    }
    if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program) != 0) {
        perror("deny_memfd: prctl(PR_SET_SECCOMP)");
        return 125;
    }
    execvp(argv[2], argv + 2);
    perror("deny_memfd: execvp");
    return 127;
}
