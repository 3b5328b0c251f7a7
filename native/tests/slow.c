#include <stdlib.h>
#include <unistd.h>

/* A constructor that takes longer than snaploader_unregister waits for a use of the descriptor to end. It says it
 * has started by writing a byte to SL_SLOW_STARTED_FD, so that the test unregisters while it runs, not before. */
__attribute__((constructor)) static void sl_slow_init(void)
{
    const char *fd = getenv("SL_SLOW_STARTED_FD");
    if (fd != NULL) {
        (void)!write(atoi(fd), "s", 1);
    }
    usleep(600000);
}

int sl_slow_answer(void)
{
    return 7;
}
