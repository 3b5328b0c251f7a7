#include <unistd.h>

/* A constructor that takes longer than snaploader_unregister waits for a use of the descriptor to end. */
__attribute__((constructor)) static void sl_slow_init(void)
{
    usleep(600000);
}

int sl_slow_answer(void)
{
    return 7;
}
