/* Builds a struct compose_project by hand, for tests that need a model without the loader.
 *
 * Everything is allocated in the project's arena and defaulted as compose/compose.h documents
 * (COMPOSE_UNSET numbers, NULL strings, empty lists, create_host_path true, ...), so a test sets
 * only what it is about. Strings passed in are copied.
 *
 *     struct compose_project *p = mb_project_new("demo", "/srv/demo");
 *     struct compose_service *web = mb_service_add(p, "web", "nginx");
 *     mb_kv_set(p, &web->environment, "A", "1");
 *     mb_command(p, web, "sh", "-c", "sleep 1", NULL);
 *     mb_port_add(p, web, 80, "8080", "127.0.0.1", NULL);
 *     mb_project_done(p);          // as the loader's normalisation: see below
 *     ...
 *     compose_project_free(p);
 *
 * Pointers returned into a list stay valid until the next addition to the same list. Services,
 * networks and volumes keep their place (room for MB_MAX_* each) until mb_project_done() sorts
 * them; find them again afterwards with compose_project_service() and friends. */
#ifndef CC_TESTS_MODEL_BUILDER_H
#define CC_TESTS_MODEL_BUILDER_H

#include "compose/compose.h"

#define MB_MAX_SERVICES 64
#define MB_MAX_NETWORKS 32
#define MB_MAX_VOLUMES  32

/* A new project (compose_project_free() it) with name and working_dir. config_files holds
 * "<working_dir>/compose.yaml". */
struct compose_project *mb_project_new(const char *name, const char *working_dir);

/* What the loader does last, for a hand-built model: a service with neither networks nor
 * network_mode joins the "default" network, which is added ("<project>_default") when missing;
 * networks some service joins are marked used; services, networks, volumes, secrets and configs
 * are sorted by name/key. Call once, after the last mb_*_add of a top-level element. */
void mb_project_done(struct compose_project *p);

/* A service named name with image (NULL allowed: then give it a build). */
struct compose_service *mb_service_add(struct compose_project *p, const char *name,
                                       const char *image);
/* A top-level network/volume with name "<project>_<key>". */
struct compose_network *mb_network_add(struct compose_project *p, const char *key);
struct compose_volume *mb_volume_add(struct compose_project *p, const char *key);
/* A top-level file secret/config (file absolute). */
struct compose_file_def *mb_secret_add(struct compose_project *p, const char *key,
                                       const char *file);
struct compose_file_def *mb_config_add(struct compose_project *p, const char *key,
                                       const char *file);

/* Lists. The variadic forms take strings up to a NULL. */
void mb_strv_add(struct compose_project *p, struct compose_strv *sv, const char *s);
void mb_strv_set(struct compose_project *p, struct compose_strv *sv, ...);
/* Sets key to value (NULL: listed without a value), replacing an earlier value in place. */
void mb_kv_set(struct compose_project *p, struct compose_kvv *kvv, const char *key,
               const char *value);

/* command:/entrypoint: as given (no arguments: the explicit empty list). */
void mb_command(struct compose_project *p, struct compose_service *s, ...);
void mb_entrypoint(struct compose_project *p, struct compose_service *s, ...);

/* One port: target (target_end = target), published ("8080", "8000-8010" or NULL), host_ip and
 * protocol (NULL: "tcp") as given; mode "ingress". */
struct compose_port *mb_port_add(struct compose_project *p, struct compose_service *s,
                                 uint32_t target, const char *published, const char *host_ip,
                                 const char *protocol);
/* One entry of volumes: (bind, named or anonymous volume with source NULL, tmpfs). */
struct compose_mount *mb_mount_add(struct compose_project *p, struct compose_service *s,
                                   enum compose_mount_type type, const char *source,
                                   const char *target);
/* depends_on: service with condition; required true, restart false. */
struct compose_dependency *mb_depends_on(struct compose_project *p, struct compose_service *s,
                                         const char *service, enum compose_condition condition);
/* Joins the top-level network key (which the test adds with mb_network_add unless "default"). */
struct compose_service_network *mb_service_network(struct compose_project *p,
                                                   struct compose_service *s, const char *key);
/* healthcheck: test as given (e.g. "CMD-SHELL", "true", NULL); timings unset. */
struct compose_healthcheck *mb_healthcheck(struct compose_project *p, struct compose_service *s,
                                           ...);
struct compose_ulimit *mb_ulimit_add(struct compose_project *p, struct compose_service *s,
                                     const char *name, int64_t soft, int64_t hard);
struct compose_device *mb_device_add(struct compose_project *p, struct compose_service *s,
                                     const char *source, const char *target,
                                     const char *permissions);
/* A service's use of a secret/config: target NULL is /run/secrets/<source> for secrets and
 * /<source> for configs (the loader's normalisation); mode unset. */
struct compose_file_ref *mb_service_secret(struct compose_project *p, struct compose_service *s,
                                           const char *source, const char *target);
struct compose_file_ref *mb_service_config(struct compose_project *p, struct compose_service *s,
                                           const char *source, const char *target);

#endif
