/* Private to scheduler/: running a service's post_start / pre_stop hooks in a container through
 * an op's queue (hooks.c), for up.c and down.c. */
#ifndef CC_SCHEDULER_HOOKS_H
#define CC_SCHEDULER_HOOKS_H

#include "scheduler/op-internal.h"

/* Called once, from the loop, when the hooks have run (err NULL), one failed (CC_ERR_FAILED,
 * its exit code and output in the message, at the hook's position), a call failed, or the op
 * drained (CC_ERR_CANCELLED). err is borrowed for the call. It must end with op_check(op). */
typedef void (*sched_hooks_cb)(struct sched_op *op, const struct cc_error *err, void *data);

/* Runs hooks[0..n) (n > 0; borrowed from the model, which outlives the op) in container_id one
 * after the other. container_name is for messages; both are copied. */
void sched_hooks_run(struct sched_op *op, const char *container_id, const char *container_name,
                     const char *which, const struct compose_hook *hooks, size_t n,
                     sched_hooks_cb cb, void *data);

#endif
