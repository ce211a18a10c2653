/* Private to scheduler/: the one builder behind both the container create body and the config
 * hash (body.c, hash.c), so the hash covers exactly what reaches the engine; and the pieces of it
 * that swarm service specs (stack-spec.c) share, so both map a model value the same way. */
#ifndef CC_SCHEDULER_BODY_H
#define CC_SCHEDULER_BODY_H

#include <stdbool.h>

#include <jansson.h>

#include "common/util.h"
#include "compose/compose.h"

/* The create body of container `number` of s (new), or NULL with *reterr set
 * (CC_ERR_INVALID_CONFIG). for_hash: leave out the compose labels and name container 0, as the
 * config hash needs (image_id is then ignored). */
json_t *sched_body_build(const struct compose_project *p, const struct compose_service *s,
                         int number, const char *image_id, bool for_hash, struct cc_error *reterr);

/* Lowercase hex SHA-256 of data (new). */
char *sched_hash_hex(const char *data, size_t len);

/* ---- Shared with stack-spec.c ---------------------------------------------------------------- */

/* Each sets o[key] only when the model sets the value (NULL string, empty list, COMPOSE_UNSET). */
void sched_json_put_str(json_t *o, const char *key, const char *v);
void sched_json_put_strv(json_t *o, const char *key, const struct compose_strv *sv);
void sched_json_put_kvv(json_t *o, const char *key, const struct compose_kvv *kvv);
void sched_json_put_i64(json_t *o, const char *key, int64_t v);
/* ["a", ...] (new). */
json_t *sched_json_strv(const struct compose_strv *sv);
/* {"K": "V"} without the keys listed with no value (new). */
json_t *sched_json_kvv(const struct compose_kvv *kvv);
/* ["K=V", ...] sorted by key, without the keys listed with no value (new). */
json_t *sched_json_env(const struct compose_kvv *env);
/* {"Test", "Interval", "Timeout", "StartPeriod", "Retries"} in nanoseconds, or {"Test": ["NONE"]}
 * when disabled: the container's and the swarm's shape alike (new). */
json_t *sched_json_healthcheck(const struct compose_healthcheck *h);
/* Fails (returns -1) with CC_ERR_INVALID_CONFIG about services.<s>.<key>, at pos when known (pos
 * may be NULL). Does nothing but return -1 when reterr is NULL. */
int sched_service_error(struct cc_error *reterr, const struct compose_service *s,
                        const struct compose_pos *pos, const char *key, const char *fmt, ...)
    CC_PRINTF(5, 6);
/* One entry of a service's volumes as a Mount ({"Type", "Source", "Target", "ReadOnly",
 * "BindOptions", "VolumeOptions", "TmpfsOptions", "Consistency"}): the container's and the swarm's
 * shape alike (new). NULL for a cluster volume or an image mount. */
json_t *sched_json_mount(const struct compose_project *p, const struct compose_mount *m);
/* Parses "N" or "N-M" (1..65535, N <= M; M == N for one port). */
bool sched_port_range(const char *str, unsigned long *lo, unsigned long *hi);

#endif
