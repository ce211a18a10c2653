/* Helpers for tests against the private single-node swarm of tests/swarm/private-swarm.sh
 * (DOCKER_HOST points at it): call shortcuts that fail the test when the call fails, waits on the
 * swarm's state (it has no event for "N tasks running", so these re-read it on a loop timer),
 * and removal of everything a test labelled. */
#ifndef CC_TESTS_SWARM_TEST_H
#define CC_TESTS_SWARM_TEST_H

#include <stddef.h>

#include "tests/lib/engine-test.h"

/* The label every swarm test puts on what it makes: ccompose.test=<value>. */
#define SW_LABEL "ccompose.test"

/* Runs the loop for ms milliseconds (between two reads of the swarm's state). */
void sw_pause(struct tl_env *env, int ms);

/* The shape of the engine's filtered list calls (engine_task_list, engine_secret_list, ...). */
typedef struct engine_request *(*sw_list_fn)(struct engine_client *, json_t *, engine_cb, void *,
                                             struct cc_error *);

/* What list returns with filters (borrowed, may be NULL); new. Fails the test on error. */
json_t *sw_list(struct tl_env *env, sw_list_fn list, json_t *filters);
/* The tasks of service (name or ID) whose desired state is running; new array. */
json_t *sw_tasks(struct tl_env *env, const char *service);
/* How many of them run (Status.State "running"). */
size_t sw_running(struct tl_env *env, const char *service);
/* Waits up to timeout_s until exactly n tasks of service run and no other is wanted running;
 * fails the test with the tasks' states and errors otherwise. */
void sw_wait_running(struct tl_env *env, const char *service, size_t n, int timeout_s);
/* Waits up to timeout_s until the service with this ID has no task left (after its removal). */
void sw_wait_no_tasks(struct tl_env *env, const char *service_id, int timeout_s);
/* The service's inspect (new), or NULL when it does not exist. */
json_t *sw_service(struct tl_env *env, const char *name);

/* {"label": ["ccompose.test=<value>"]}; new. */
json_t *sw_label_filter(const char *value);
/* Removes the services, secrets, configs and networks labelled SW_LABEL=value (ignores errors). */
void sw_cleanup(const char *value);

#endif
