/* Inside scheduler/: a compose model as swarm specs, the way `docker stack deploy` converts it
 * (docker/cli's cli/compose/convert), for Engine API 1.41.
 *
 * The stack is the project: the model is loaded with the stack's name as its project name, so its
 * networks, secrets and configs are already named "<stack>_<key>" (or by their `name:`), as docker
 * names them. Services are "<stack>_<service>". Everything made carries the namespace label.
 *
 * Everything returned is *new* (json_decref() it). */
#ifndef CC_SCHEDULER_STACK_INTERNAL_H
#define CC_SCHEDULER_STACK_INTERNAL_H

#include <jansson.h>

#include "compose/compose.h"

/* The labels docker stack deploy sets: the stack on everything, the image as written in the file
 * on services (what --resolve-image changed compares against). */
#define SCHED_STACK_LABEL_NAMESPACE "com.docker.stack.namespace"
#define SCHED_STACK_LABEL_IMAGE     "com.docker.stack.image"

/* "<stack>_<service>" (new, free()). */
char *sched_stack_service_name(const struct compose_project *p, const struct compose_service *s);

/* The ServiceSpec of s. ids maps the engine names of secrets and configs to their IDs:
 * {"secrets": {"NAME": "ID"}, "configs": {...}} (borrowed, may be NULL when s uses none).
 * Keys swarm cannot honour are reported, one sentence each ("... is not supported in swarm
 * mode, ignoring"), appended to warnings (borrowed, may be NULL). NULL with *reterr set
 * (CC_ERR_INVALID_CONFIG) on what swarm cannot be given: global mode with replicas, a network,
 * secret or config that is not defined or has no ID, a cluster volume, a bad port. */
json_t *sched_stack_service_spec(const struct compose_project *p, const struct compose_service *s,
                                 json_t *ids, json_t *warnings, struct cc_error *reterr);

/* POST /networks/create body of n: overlay unless the file names a driver, attachable as the file
 * says, labelled with the namespace (and the file's labels). */
json_t *sched_stack_network_spec(const struct compose_project *p, const struct compose_network *n);

/* SecretSpec/ConfigSpec of d: {"Name", "Labels", "Data": base64}, the data read from d's file,
 * environment variable or content. NULL with *reterr set (CC_ERR_IO: the file cannot be read;
 * CC_ERR_INVALID_CONFIG: the variable is not set) otherwise. */
json_t *sched_stack_file_spec(const struct compose_project *p, const struct compose_file_def *d,
                              struct cc_error *reterr);

#endif
