/* A fault-injecting proxy for tests: it listens on a unix socket of its own and passes every
 * connection through to the engine's socket, except that requests matching a rule are delayed,
 * held for ever, or have their connection cut. It runs on a libuv loop in a thread of its own, so
 * the test can run ccompose (which talks to it through DOCKER_HOST) in the foreground meanwhile.
 *
 * Requests are told apart by reading the HTTP/1.1 requests each connection carries (request line,
 * headers, Content-Length body); a connection whose requests have chunked bodies is passed
 * through unread after its first chunked request. */
#ifndef CC_TESTS_FAULT_PROXY_H
#define CC_TESTS_FAULT_PROXY_H

enum fp_action {
    FP_DELAY, /* the request reaches the engine ms milliseconds late */
    FP_HANG,  /* the request never reaches the engine; the connection stays open */
    FP_SLOW,  /* the request reaches the engine at once, its answer the client ms late */
    FP_CUT,   /* the request reaches the engine; both sides are closed once arg bytes of the
               * answer have passed (0: when the answer begins, the client gets none of it) */
};

struct fp_proxy;

/* Starts a proxy in front of the unix socket upstream (a path). Fails the test when it cannot. */
struct fp_proxy *fp_start(const char *upstream);
/* "unix:///path" of the proxy's socket, for DOCKER_HOST; borrowed. */
const char *fp_host(const struct fp_proxy *p);
/* Adds a rule for requests whose request line ("GET /v1.41/events?... HTTP/1.1") contains match;
 * times > 0: only that many matching requests, then the rule rests; -1: every one. The first rule
 * that matches applies. Returns the rule's number, for fp_matched(). */
int fp_rule(struct fp_proxy *p, const char *match, enum fp_action action, long arg, int times);
/* arg: FP_DELAY's and FP_SLOW's milliseconds, FP_CUT's bytes; FP_HANG ignores it. */
/* How many requests rule number rule has caught so far. */
int fp_matched(struct fp_proxy *p, int rule);
/* Removes every rule (requests held by FP_HANG stay held). */
void fp_clear(struct fp_proxy *p);
/* Closes every connection whose current request line contains match (e.g. an event stream in
 * progress), and returns how many it closed. Waits until it is done. */
int fp_cut_now(struct fp_proxy *p, const char *match);
/* Stops the proxy, closes its connections, removes its socket, frees it. NULL is fine. */
void fp_stop(struct fp_proxy *p);

#endif
