/* The stop signals of the long-running programs (agora-worker, agora-live,
 * agora-alerts): one handler that only sets a flag, which their loops poll,
 * so a stop always goes through each program's own exit path. */
#ifndef AGORA_SIGNALS_H
#define AGORA_SIGNALS_H

#include <stddef.h>

/* Makes SIGTERM, SIGINT and each of the n signals in extra (may be NULL
 * when n is 0) set the stop flag, and ignores SIGPIPE (a peer gone is an
 * error return of the write, not a death). The handler has no SA_RESTART:
 * a stop breaks a blocking call (accept(), poll(), nanosleep()) with EINTR,
 * so an idle program notices it at once. Returns 0, or -1 with errno set. */
int signals_install_stop(const int *extra, size_t n);

/* Whether a stop signal has arrived since signals_install_stop(). */
int signals_stop_requested(void);

#endif
