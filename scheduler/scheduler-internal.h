/* Inside scheduler/: how names, labels and engine bodies are derived from the model. These are
 * the only way resources are found again, so they are computed here and nowhere else.
 *
 * Everything returned is *new* (caller frees: free() for strings, json_decref() for JSON). */
#ifndef CC_SCHEDULER_INTERNAL_H
#define CC_SCHEDULER_INTERNAL_H

#include <jansson.h>

#include "common/buf.h"
#include "compose/compose.h"

/* Labels docker compose v2 puts on what it makes; ccompose puts the same. */
#define SCHED_LABEL_PROJECT          "com.docker.compose.project"
#define SCHED_LABEL_SERVICE          "com.docker.compose.service"
#define SCHED_LABEL_ONEOFF           "com.docker.compose.oneoff"
#define SCHED_LABEL_NUMBER           "com.docker.compose.container-number"
#define SCHED_LABEL_CONFIG_HASH      "com.docker.compose.config-hash"
#define SCHED_LABEL_WORKING_DIR      "com.docker.compose.project.working_dir"
#define SCHED_LABEL_CONFIG_FILES     "com.docker.compose.project.config_files"
#define SCHED_LABEL_ENVIRONMENT_FILE "com.docker.compose.project.environment_file"
#define SCHED_LABEL_DEPENDS_ON       "com.docker.compose.depends_on"
#define SCHED_LABEL_IMAGE            "com.docker.compose.image"
#define SCHED_LABEL_VERSION          "com.docker.compose.version"
#define SCHED_LABEL_NETWORK          "com.docker.compose.network"
#define SCHED_LABEL_VOLUME           "com.docker.compose.volume"
#define SCHED_LABEL_REPLACE          "com.docker.compose.replace"

/* The compose version ccompose reports in com.docker.compose.version: the docker compose v2
 * release whose behaviour it follows. */
#define SCHED_COMPOSE_VERSION "2.24.0"

/* "<project>-<service>-<n>", or container_name when set (then only n == 1 exists). */
char *sched_container_name(const struct compose_project *p, const struct compose_service *s,
                           int number);
/* "<project>_<key>" unless name: or external says otherwise: the network's/volume's name field. */
const char *sched_network_name(const struct compose_network *n);
const char *sched_volume_name(const struct compose_volume *v);
/* "<project>-<service>" unless image: names it. */
char *sched_image_name(const struct compose_project *p, const struct compose_service *s);

/* POST /containers/create body for container `number` of s: image (image_id when known, else
 * the image name), command, env, labels (user labels merged with the compose labels above,
 * config-hash included), HostConfig (binds/mounts, ports, restart policy, resources, ...) and
 * NetworkingConfig with the first network and its aliases (container name, service name, the
 * file's aliases). Fails (CC_ERR_INVALID_CONFIG) on what the engine could not be given. */
/* The fields in which a container (its inspect, borrowed) differs from service s now, as
 * "environment.LEVEL: \"one\" -> \"two\", command: [...] -> [...]" (the first three, then "and N
 * more"; values cut; variables that look like secrets say only "changed"), with what the image
 * (image_config: its inspect's Config, borrowed, may be NULL) sets not counted as the service's.
 * new; NULL when no field is seen to differ (the caller then says that the hash differs). */
char *sched_config_diff(const struct compose_project *p, const struct compose_service *s,
                        int number, json_t *inspect, json_t *image_config);
json_t *sched_container_body(const struct compose_project *p, const struct compose_service *s,
                             int number, const char *image_id, struct cc_error *reterr);
/* POST /networks/{id}/connect body for the service's network at index i (i >= 1: the ones
 * connected before start, as API 1.41 takes only one network at create): {"Container": id,
 * "EndpointConfig": {Aliases, IPAMConfig, Links, DriverOpts}}. NULL when i is out of range or the
 * service's body would fail (sched_container_body() says why). */
json_t *sched_network_connect_body(const struct compose_project *p, const struct compose_service *s,
                                   size_t i, const char *container_id, int number);
/* Secrets and configs (inject.c). Whether the service's use r of d is copied into the container
 * (environment or content sources; a file with uid, gid or mode) rather than bind-mounted. */
bool sched_file_ref_copied(const struct compose_file_ref *r, const struct compose_file_def *d);
/* Where r lands: its target, relative ones under base ("/run/secrets/" or "/"); new. */
char *sched_file_ref_target(const struct compose_file_ref *r, const char *base);

/* POST /networks/create and /volumes/create bodies, with the compose labels. */
json_t *sched_network_body(const struct compose_project *p, const struct compose_network *n);
json_t *sched_volume_body(const struct compose_project *p, const struct compose_volume *v);

#endif
