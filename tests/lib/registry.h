/* A throwaway image registry for integration tests: Debian's docker-registry (package
 * docker-registry) serving from a temporary directory on a free 127.0.0.1 port. The engine treats
 * 127.0.0.0/8 registries as insecure, so plain HTTP works without engine configuration. */
#ifndef CC_TESTS_REGISTRY_H
#define CC_TESTS_REGISTRY_H

#include <stdbool.h>
#include <uv.h>

struct tl_registry {
    uv_loop_t loop; /* its own: the registry outlives the tests' loops */
    uv_process_t proc;
    bool exited;
    int port;
    char addr[32]; /* "127.0.0.1:PORT" */
    char dir[64];  /* config and storage, removed at stop */
};

/* Starts the registry and waits (bounded, on timers) until GET /v2/ answers 200. Fails the test
 * when it cannot. */
void tl_registry_start(struct tl_registry *reg);
/* The same with basic auth: htpasswd is one "user:bcrypt-hash" line; ready once /v2/ answers
 * 401. */
void tl_registry_start_auth(struct tl_registry *reg, const char *htpasswd);
/* Stops it, waits for it to exit, removes its directory. */
void tl_registry_stop(struct tl_registry *reg);
/* A free TCP port on 127.0.0.1 (nothing listens there once this returns). */
int tl_free_port(uv_loop_t *loop);

#endif
