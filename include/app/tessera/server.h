/* The server process: API loop, HTTP listener, start-up probe, signal handling.
 * main() parses the command line and calls tsr_server_run(). */
#ifndef TESSERA_SERVER_H
#define TESSERA_SERVER_H

#include <tessera/config.h>

/* Purpose: run the server until SIGINT or SIGTERM. Blocks on the calling thread,
 * which becomes the API loop. Returns 0 after a clean shutdown, or a negative
 * code when start-up failed (the reason is logged). Ownership: cfg borrowed for
 * the call. */
int tsr_server_run(const struct tsr_config *cfg);

#endif
