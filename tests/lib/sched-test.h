/* Helpers for scheduler integration tests: run sched_up/sched_down to completion on a test loop,
 * record every reported event as a line, look containers up, and remove everything a project
 * made (by its label) whatever happened. */
#ifndef CC_TESTS_SCHED_TEST_H
#define CC_TESTS_SCHED_TEST_H

#include "scheduler/scheduler.h"
#include "tests/lib/engine-test.h"
#include "tests/lib/model-builder.h"

/* A command that stops at once on SIGTERM (sleep as PID 1 would wait for the kill). */
#define ST_SLEEPER "trap 'exit 0' TERM; sleep 3600 & wait"

struct st_run {
    bool done;
    struct cc_error err;
    struct buf events; /* "container NAME State text\n" per event, in order */
    struct buf plan;   /* the plan as rendered, when up planned */
};

void st_run_init(struct st_run *r);
void st_run_release(struct st_run *r);

/* Runs up/down to completion; r records what happened (r->err empty on success). */
void st_up(struct tl_env *env, const struct compose_project *p, const struct sched_up_options *o,
           struct st_run *r);
void st_down(struct tl_env *env, const char *project, const struct compose_project *model,
             const struct sched_down_options *o, struct st_run *r);
/* sched_stack_deploy / sched_stack_rm to completion (tests/swarm: on the private swarm). */
void st_stack_deploy(struct tl_env *env, const struct compose_project *p,
                     const struct sched_stack_options *o, struct st_run *r);
void st_stack_rm(struct tl_env *env, const char *stack, const struct sched_stack_options *o,
                 struct st_run *r);
/* The plan of p against the engine now, rendered (new). */
char *st_plan(struct tl_env *env, const struct compose_project *p,
              const struct sched_plan_options *o);

/* Inspect of a container by name (new), or NULL when it does not exist. */
json_t *st_inspect(struct tl_env *env, const char *name);
/* How many containers/networks/volumes carry the project label. */
size_t st_count(struct tl_env *env, const char *project, const char *kind);
/* An engine RFC 3339 timestamp in nanoseconds since the epoch. */
long long st_time_ns(const char *rfc3339);
/* The offset of needle in the events, failing the test when absent. */
size_t st_event_at(const struct st_run *r, const char *needle);

/* A test's loop, client and project; st_setup/st_teardown are cmocka fixtures. Teardown removes
 * everything labelled with the project, whatever happened. */
struct st_fixture {
    struct tl_env env;
    struct compose_project *p;
};
int st_setup(void **state);
int st_teardown(void **state);

/* A service running ST_SLEEPER. */
struct compose_service *st_sleeper(struct compose_project *p, const char *name);
/* "<project>-<service>-<n>" (new). */
char *st_cname(const struct compose_project *p, const char *service, int n);
/* The Id / State.<field> string of a container (new); fails the test when it does not exist. */
char *st_id(struct tl_env *env, const char *name);
char *st_state(struct tl_env *env, const char *name, const char *field);
/* Fails the test with the events when r failed. */
void st_assert_ok(const struct st_run *r);
/* st_up with default options, failing the test unless it succeeds. */
void st_up_ok(struct tl_env *env, const struct compose_project *p);
/* Waits until the logs of service's first container contain text (tl_logs_until). */
void st_logs_until(struct tl_env *env, const struct compose_project *p, const char *service,
                   const char *text);

/* A fresh project "ccit-<pid>-<n>-<what>" in /tmp; removes by label at teardown. */
struct compose_project *st_project(const char *what);
/* Removes every container, network, volume and image labelled with the project (ignores errors). */
void st_cleanup(const char *project);

#endif
