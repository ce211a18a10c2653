/* Private to scheduler/body.c and scheduler/hash.c: the one builder behind both the container
 * create body and the config hash, so the hash covers exactly what reaches the engine. */
#ifndef CC_SCHEDULER_BODY_H
#define CC_SCHEDULER_BODY_H

#include <stdbool.h>

#include <jansson.h>

#include "compose/compose.h"

/* The create body of container `number` of s (new), or NULL with *reterr set
 * (CC_ERR_INVALID_CONFIG). for_hash: leave out the compose labels and name container 0, as the
 * config hash needs (image_id is then ignored). */
json_t *sched_body_build(const struct compose_project *p, const struct compose_service *s,
                         int number, const char *image_id, bool for_hash, struct cc_error *reterr);

/* Lowercase hex SHA-256 of data (new). */
char *sched_hash_hex(const char *data, size_t len);

#endif
