/* The stop signals of the long-running programs: see signals.h. */
#include "ops/signals.h"

#include <signal.h>
#include <string.h>

static volatile sig_atomic_t stop_requested;

static void on_stop(int sig)
{
    (void)sig;
    stop_requested = 1;
}

int signals_install_stop(const int *extra, size_t n)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGTERM, &sa, NULL) < 0 || sigaction(SIGINT, &sa, NULL) < 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (sigaction(extra[i], &sa, NULL) < 0)
            return -1;
    sa.sa_handler = SIG_IGN;
    return sigaction(SIGPIPE, &sa, NULL);
}

int signals_stop_requested(void)
{
    return stop_requested != 0;
}
