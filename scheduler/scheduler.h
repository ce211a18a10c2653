/* scheduler: converges the engine onto a compose model, and takes a project down.
 *
 * Three steps, each usable on its own (the cli's --dry-run stops after the second):
 *
 *   sched_observe()    one container, network and volume list (by the project label), plus an
 *                      inspect of each service image and of each model network/volume that the
 *                      label did not find => struct sched_observed (a value)
 *   sched_plan_build() model + options + observed => struct sched_plan (a value): ordered actions,
 *                      each with its reason; sched_plan_render() prints it as lines
 *   sched_up()         subscribes to the event stream first (and again, from the last event's
 *                      time, whenever the engine ends it), observes, plans and runs the plan on
 *                      the loop: networks and volumes, then each service's containers as soon as
 *                      its dependencies meet their conditions
 *   sched_watch()      for attached up: restarts the containers of services that opt in
 *                      (x-ccompose restart_on_unhealthy) when they turn unhealthy
 *   sched_down()       stops containers in reverse dependency order, removes them, then the
 *                      project's networks (and volumes when asked); needs no model
 *
 * The scheduler never prints: every state change goes to a struct sched_event callback, and
 * failures come back as struct cc_error. Every engine call (but the event stream) goes through one
 * bounded queue per operation (options.parallel calls in flight, 16 by default).
 *
 * loop is the engine client's loop. Ownership: the model is *borrowed* and must outlive the
 * operation; the engine client too. Events handed to callbacks are *borrowed* for the callback's
 * duration. */
#ifndef CC_SCHEDULER_H
#define CC_SCHEDULER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/error.h"
#include "compose/compose.h"
#include "engine-client/engine.h"

/* ---- Reporting ----------------------------------------------------------------------------- */

enum sched_resource {
    SCHED_RES_NETWORK = 0,
    SCHED_RES_VOLUME,
    SCHED_RES_CONTAINER,
    SCHED_RES_IMAGE,
    SCHED_RES_SERVICE, /* swarm services, secrets, configs and tasks: `stack` */
    SCHED_RES_SECRET,
    SCHED_RES_CONFIG,
    SCHED_RES_TASK,
};

enum sched_state {
    SCHED_CREATING = 0,
    SCHED_CREATED,
    SCHED_RECREATE,
    SCHED_RECREATED,
    SCHED_STARTING,
    SCHED_STARTED,
    SCHED_RUNNING, /* left alone: up to date and running */
    SCHED_WAITING, /* waiting for a dependency's condition, or for --wait */
    SCHED_HEALTHY,
    SCHED_EXITED,
    SCHED_STOPPING,
    SCHED_STOPPED,
    SCHED_REMOVING,
    SCHED_REMOVED,
    SCHED_WARNING, /* nothing changed, but the user should know (text says what) */
    SCHED_ERROR,
    SCHED_RESTARTING, /* restart; sched_watch: text says why, and when */
    SCHED_RESTARTED,
    SCHED_PULLING, /* images */
    SCHED_PULLED,
    SCHED_BUILDING,
    SCHED_BUILT,
    SCHED_UPDATING, /* a swarm service's spec is being replaced, and its tasks with it */
    SCHED_UPDATED,
    SCHED_PUSHING, /* images */
    SCHED_PUSHED,
    SCHED_SKIPPED, /* images: nothing to do for it (text says why) */
};

/* "Creating", "Created", ... as docker compose prints them. */
const char *sched_state_name(enum sched_state state);
const char *sched_resource_name(enum sched_resource kind); /* "network", "volume", "container",
                                                              "image" */
const char *
sched_resource_name(enum sched_resource kind); /* "network", "volume", "container", ... */

struct sched_event {
    enum sched_resource kind;
    const char *name;    /* the engine name of the container, network, volume or image */
    const char *service; /* containers and images: the service; else NULL */
    enum sched_state state;
    const char *text; /* why, or what went wrong; may be NULL */
};

/* Called for every state change, from the loop. Must not free the operation it reports on. */
typedef void (*sched_event_cb)(const struct sched_event *ev, void *data);
/* Called once when an operation ends: err NULL on success. */
typedef void (*sched_done_cb)(const struct cc_error *err, void *data);

/* ---- Observe ------------------------------------------------------------------------------- */

struct sched_observed_container {
    char *id;
    char *name;    /* without the leading '/' */
    char *service; /* com.docker.compose.service */
    char *state;   /* the engine's: "created", "running", "exited", "paused", ... */
    char *config_hash;
    char *image_id;   /* the image the container runs ("sha256:...") */
    char *depends_on; /* com.docker.compose.depends_on ("svc:condition:restart,...") or NULL */
    int number;       /* com.docker.compose.container-number, 0 when missing */
    bool oneoff;
    json_t *summary; /* the engine's list entry (Image, Command, Created, Status, Ports, Labels) */
    json_t *inspect; /* with a model, when its config hash differs from the model's: its inspect
                        (what the plan's reason compares); else NULL */
};

struct sched_observed_resource {
    char *name;
    char *id;     /* networks: the ID; volumes: the name */
    bool labeled; /* carries this project's label (else found by name only) */
    bool external;
};

struct sched_observed_image {
    char *service;
    char *id;       /* NULL when the image is not on the engine */
    json_t *config; /* its inspect's Config (Env, Cmd, Labels, ...), NULL when not there */
};

struct sched_observed {
    char *project;
    struct sched_observed_container *containers; /* sorted by service, then number */
    size_t n_containers;
    struct sched_observed_resource *networks;
    size_t n_networks;
    struct sched_observed_resource *volumes;
    size_t n_volumes;
    struct sched_observed_image *images; /* one per model service when a model was given */
    size_t n_images;
};

void sched_observed_free(struct sched_observed *o);

struct sched_observe_options {
    int parallel;         /* engine calls in flight; 0: 16 */
    bool containers_only; /* the container list alone, no network and volume list (the model,
                             if any, is then ignored): for commands that act on containers */
};

/* observed is *new* (sched_observed_free() it) and non-NULL exactly when err is NULL. */
typedef void (*sched_observe_cb)(struct sched_observed *observed, const struct cc_error *err,
                                 void *data);

struct sched_observe;

/* Observes project_name (required) on c; with a model (may be NULL) also inspects its service
 * images and the networks/volumes it names that the label did not find. cb is called once, from
 * the loop; returns NULL with *reterr set (and then never calls cb) on unusable arguments. The
 * handle is valid until cb returns. */
struct sched_observe *sched_observe(uv_loop_t *loop, struct engine_client *c,
                                    const char *project_name, const struct compose_project *model,
                                    const struct sched_observe_options *opts, sched_observe_cb cb,
                                    void *data, struct cc_error *reterr);

/* ---- Plan ---------------------------------------------------------------------------------- */

/* A per-service replica count given on the command line (--scale web=3). */
struct sched_scale {
    const char *service;
    int replicas;
};

/* When an existing container is recreated (up --force-recreate, --no-recreate,
 * --always-recreate-deps). */
enum sched_recreate {
    SCHED_RECREATE_DIVERGED = 0, /* when its config hash or image differs */
    SCHED_RECREATE_FORCE,        /* always */
    SCHED_RECREATE_NEVER,        /* never: a diverged container is kept (the reason says so) */
};

struct sched_plan_options {
    const char *const *services; /* selection: these and what they depend on; NULL/0: all */
    size_t n_services;
    bool no_deps; /* only the named services: what they depend on is neither planned nor waited
                     for (up --no-deps) */
    const struct sched_scale *scale;
    size_t n_scale;
    bool remove_orphans;
    bool ignore_orphans; /* orphans are neither reported nor removed (COMPOSE_IGNORE_ORPHANS) */
    enum sched_recreate recreate;      /* the named services (every service when none is named) */
    enum sched_recreate recreate_deps; /* what the named services depend on */
    bool no_start;      /* containers are created (or recreated) but not started, and a stopped
                           one is left stopped (up --no-start, create) */
    bool renew_volumes; /* a recreated container gets new anonymous volumes instead of the old
                           container's (up -V) */
    bool existing_only; /* only the containers there are: started where they do not run, never
                           created, recreated or removed; orphans left alone (start --wait) */
    /* `run`: this service's networks and volumes are made too, without its containers; with no
     * services named, nothing else is selected. NULL: none. */
    const char *resources_of;
};

enum sched_action_kind {
    SCHED_ACT_NETWORK_CREATE = 0,
    SCHED_ACT_NETWORK_KEEP, /* exists (reason says whether it is reused without our label) */
    SCHED_ACT_VOLUME_CREATE,
    SCHED_ACT_VOLUME_KEEP,
    SCHED_ACT_CREATE,
    SCHED_ACT_RECREATE,
    SCHED_ACT_START,
    SCHED_ACT_RESTART, /* a `restart: true` dependency is recreated */
    SCHED_ACT_KEEP,    /* up to date */
    SCHED_ACT_SCALE_DOWN,
    SCHED_ACT_ORPHAN, /* reported; removed when remove_orphans */
};

struct sched_action {
    enum sched_action_kind kind;
    char *service; /* containers; NULL for networks and volumes */
    char *name;    /* the engine name */
    char *id;      /* the existing container's ID; NULL for creates */
    int number;    /* containers */
    char *reason;  /* why, in words: "config hash differs", "up to date", ... */
    bool warning;  /* reason is a warning to show */
    bool remove;   /* orphans: removed */
    bool stopped;  /* KEEP: the container exists but does not run (no_start) */
    size_t index;  /* the model's network/volume/service index (orphans: unused) */
    /* RECREATE: the old container's anonymous volumes the new one mounts again, as
     * [{"Target": path, "Source": volume name}]; NULL when there are none or renew_volumes. */
    json_t *inherit;
};

struct sched_graph;

struct sched_plan {
    const struct compose_project *project; /* borrowed */
    /* The project's services when planned: sched_plan_free() reads this, never the project, so
     * a plan an operation holds can be freed after the caller has freed the model. */
    size_t n_services;
    struct sched_action *actions;          /* networks, volumes, then containers by service */
    size_t n_actions;
    bool *selected;   /* per model service */
    int *replicas;    /* per model service */
    char **image_ids; /* per model service, NULL when unknown */
    char **warnings;  /* e.g. an optional dependency that is not defined */
    size_t n_warnings;
    struct sched_graph *graph; /* the dependency graph (internal) */
};

/* One edge of the dependency graph: service `from` waits for service `to` (indices in the
 * project's services) on condition; depends_on gives condition, required and restart, and links,
 * volumes_from and network_mode/ipc/pid `service:X` mean "started", required. */
struct sched_edge {
    size_t from;
    size_t to;
    enum compose_condition condition;
    bool required;
    bool restart;
};

/* The dependency graph the scheduler starts project by, as edges ordered by `from`, then as
 * declared. Fails as sched_plan_build() does on a cycle or an undefined required dependency;
 * optional undefined ones are appended to warnings (new strings, *n_warnings grows). *ret_edges
 * is new (free()). */
int sched_graph_edges(const struct compose_project *project, struct sched_edge **ret_edges,
                      size_t *ret_n, char ***warnings, size_t *n_warnings, struct cc_error *reterr);

/* Builds the plan of converging observed onto project. *ret_plan is new (sched_plan_free()).
 * Fails with CC_ERR_INVALID_CONFIG on a dependency cycle (the message names the path,
 * "a -> b -> a"), an unknown service named in the selection, a required dependency that is not
 * defined, and with CC_ERR_NOT_FOUND on external networks/volumes that do not exist (naming
 * them). */
int sched_plan_build(const struct compose_project *project, const struct sched_observed *observed,
                     const struct sched_plan_options *opts, struct sched_plan **ret_plan,
                     struct cc_error *reterr);
void sched_plan_free(struct sched_plan *plan);

/* Appends the plan as lines, one action a line ("container p-web-1: recreate (config hash
 * differs)"), then the warnings ("warning: ..."). */
void sched_plan_render(const struct sched_plan *plan, struct buf *out);

/* ---- One-off containers (`run`) ----------------------------------------------------------- */

/* What `run` changes in a service's container. Lists are borrowed; n_* count them. */
struct sched_oneoff {
    const char *name;           /* the container's name; NULL: "<project>-<service>-run-<12 hex>" */
    const char *const *command; /* replaces the service's command when n_command > 0 */
    size_t n_command;
    const char *entrypoint; /* replaces the entrypoint (split at spaces; "" clears it) */
    const char *const *env; /* "K=V" added to the environment */
    size_t n_env;
    const char *const *labels; /* "K=V" added to the labels */
    size_t n_labels;
    const char *const *volumes; /* "SRC:DST[:MODE]" binds (SRC an absolute path or a volume) */
    size_t n_volumes;
    const char *const *ports; /* "[IP:]HOST:CONTAINER[/PROTO]" published */
    size_t n_ports;
    const char *user;
    const char *workdir;
    bool tty;           /* a terminal for the process */
    bool interactive;   /* stdin open and attached */
    bool service_ports; /* publish the service's ports (else only ports) */
    bool use_aliases;   /* the service's network aliases (else only the container's name) */
};

/* The create body of a one-off container of s (new): the service's, labelled
 * com.docker.compose.oneoff=True, without restart policy, with o's changes. *ret_name (new) is
 * its name. NULL with *reterr set (CC_ERR_INVALID_CONFIG, CC_ERR_USAGE for a bad -p/-v value). */
json_t *sched_oneoff_body(const struct compose_project *p, const struct compose_service *s,
                          const struct sched_oneoff *o, char **ret_name, struct cc_error *reterr);

/* ---- cp: writing a container's tar stream on the host (scheduler/untar.c) ----------------- */

/* The sending side is build_context_new_copy() (scheduler/build-context.h). */
struct sched_untar_options {
    const char *dir; /* extract into this directory (which must exist) */
    /* docker cp's renaming: entries named old_base or old_base/... are written as new_base...
     * (NULL: names kept). */
    const char *old_base;
    const char *new_base;
    int raw_fd; /* >= 0: no extraction, the stream goes to this descriptor as it is (cp ... -) */
};

struct sched_untar;

/* Starts a worker thread that writes what sched_untar_feed() gives it: modes and mtimes kept,
 * owners not (as docker cp), names leaving dir (absolute, "..", through a symlink) refused. done
 * runs once, from the loop, after sched_untar_end() and the worker's end (err: why it failed,
 * CC_ERR_IO with the path, or NULL); the handle is freed after done returns. on_room (may be NULL)
 * runs from the loop when the queue has room again after a refused feed. Fails (CC_ERR_NOT_FOUND)
 * when dir is not there; done is then never called. */
int sched_untar_new(uv_loop_t *loop, const struct sched_untar_options *opts,
                    void (*on_room)(void *data),
                    void (*done)(const struct cc_error *err, void *data), void *data,
                    struct sched_untar **ret, struct cc_error *reterr);
/* Queues a copy of len bytes; false when the queue is full (try again after on_room). Once the
 * worker has stopped (the archive's end, or an error that done reports) bytes are taken and
 * dropped. Meant as an engine_chunk_cb's answer. */
bool sched_untar_feed(struct sched_untar *u, const char *buf, size_t len);
/* No more input: the worker finishes what is queued (abort: drops it and fails). Call it once,
 * unless done has come already (the worker ended on its own); done comes after it. */
void sched_untar_end(struct sched_untar *u, bool abort);

/* ---- Up and down --------------------------------------------------------------------------- */

struct sched_up_options {
    struct sched_plan_options plan;
    int parallel;            /* engine calls in flight; 0: 16 */
    bool wait;               /* return once running/healthy/completed (see sched_up) */
    int64_t wait_timeout_ms; /* with wait: 0 none */
    int stop_timeout_s;      /* for recreate/scale down/orphans; < 0: each container's own */
    /* Testing: > 0 makes the engine end the event stream every that many ms (until=), which up
     * survives by subscribing again from the last event's time, as after an engine restart. */
    int64_t events_window_ms;
};

struct sched_op;

/* Converges the engine onto project (borrowed; must outlive the operation). Subscribes to the
 * project's container events, observes, plans (on_plan, may be NULL, sees the plan before it
 * runs), then runs it, reporting each state change to on_event. done is called once, from the
 * loop: NULL when every selected service converged; else the first failure (a dependency that
 * failed names its container and what happened on the first line, "service 'web' cannot start:
 * dependency 'db' container 'p-db-1' is unhealthy", then, one a line, its state and exit code,
 * its last health check's output and its last log lines, CC_ERR_FAILED; a refused start the
 * same way; plan errors as sched_plan_build; with wait, CC_ERR_TIMEOUT). An exit that the
 * container's restart policy undoes is not a failure: dependents wait for the next run. With
 * wait, done waits until every selected service runs, is healthy where it has a health check,
 * and has completed where some service depends on its completion (a one-shot that exited 0
 * counts as done). Returns NULL with *reterr set on unusable arguments (done is then
 * never called). */
struct sched_op *sched_up(uv_loop_t *loop, struct engine_client *c,
                          const struct compose_project *project,
                          const struct sched_up_options *opts,
                          void (*on_plan)(const struct sched_plan *plan, void *data),
                          sched_event_cb on_event, sched_done_cb done, void *data,
                          struct cc_error *reterr);

struct sched_down_options {
    /* down SERVICE...: only these services and, transitively, those that depend on them; what
     * they depend on stays. NULL/0: the whole project. Borrowed. */
    const char *const *services;
    size_t n_services;
    bool volumes;        /* -v: remove the project's named volumes (never external ones) */
    bool remove_orphans; /* with a model: also remove containers of services not in it */
    int stop_timeout_s;  /* < 0: each container's own */
    int parallel;        /* 0: 16 */
};

/* Takes project_name down: containers stopped in reverse dependency order (from the model when
 * given, else from the depends_on labels), removed, then the project's networks, then (with
 * volumes) its volumes. model may be NULL (`-p NAME down`). With opts->services, only those
 * services' containers and their dependents' go (one-off ones only with remove_orphans); a
 * network or volume that some container still uses is kept with a SCHED_WARNING ("Resource is
 * still in use"), as docker compose does. Same callback contract as sched_up. */
struct sched_op *sched_down(uv_loop_t *loop, struct engine_client *c, const char *project_name,
                            const struct compose_project *model,
                            const struct sched_down_options *opts, sched_event_cb on_event,
                            sched_done_cb done, void *data, struct cc_error *reterr);

/* ---- Images before up ----------------------------------------------------------------------- */

enum sched_ensure_build {
    SCHED_ENSURE_BUILD_POLICY = 0, /* build what pull_policy says (missing images with a build) */
    SCHED_ENSURE_BUILD_ALWAYS,     /* --build: build every service that has a build section */
    SCHED_ENSURE_BUILD_NEVER,      /* --no-build: never build; use what is there */
};

/* What sched_ensure_images does with each selected service's image. */
enum sched_ensure_mode {
    SCHED_ENSURE_UP = 0, /* what up needs: pull_policy, --build, --no-build, --pull decide */
    SCHED_ENSURE_BUILD,  /* `build`: every service with a build section is built, others left out */
    SCHED_ENSURE_PULL,   /* `pull`: pulled, as docker compose pull: skipped (SCHED_SKIPPED) when
                            there is no image: (build only), or pull_policy is never or build, or
                            is missing/if_not_present and the image is there; a failure of a
                            service that has a build section is a warning */
    SCHED_ENSURE_PUSH,   /* `push`: the image: of each service with a build section, pushed;
                            others skipped */
};

struct sched_ensure_options {
    const char *const *services; /* these (and with UP or include_deps what they depend on);
                                    NULL/0: every service */
    size_t n_services;
    enum sched_ensure_mode mode;
    bool include_deps; /* BUILD, PULL, PUSH: also what the named services depend on */
    bool no_deps;      /* UP: only the named services, not what they depend on (run --no-deps) */
    enum sched_ensure_build build;
    const char *pull; /* --pull: always, missing, never (overrides pull_policy); NULL: the file's */
    int parallel;     /* builds and pulls at once; 0: 4 */
    bool ignore_failures; /* failures are SCHED_WARNING events and done gets NULL */
    /* Builds: --build-arg, --no-cache, --pull (borrowed, may be NULL), and every line of their
     * output (may be NULL). */
    const struct sched_build_options *build_opts;
    void (*on_build_line)(const char *service, const char *line, void *data);
};

/* Makes sure every selected service's image is there before up: inspects each (one call per
 * image), then builds (sched_build_service) or pulls (sched_pull_image) what pull_policy, --build,
 * --no-build and --pull ask for, at most opts->parallel at once. Reports SCHED_RES_IMAGE events
 * (Pulling/Pulled, Building/Built with the current step as text, Error) to on_event. done is
 * called once, from the loop: NULL when every image is there, else the first failure (the
 * others still run to their end). Returns NULL with *reterr set on unusable arguments. project
 * is borrowed and must outlive the operation. */
struct sched_ensure;
struct sched_ensure *sched_ensure_images(uv_loop_t *loop, struct engine_client *c,
                                         const struct compose_project *project,
                                         const struct sched_ensure_options *opts,
                                         sched_event_cb on_event, sched_done_cb done, void *data,
                                         struct cc_error *reterr);
/* Cancels builds and pulls in flight; done then runs with CC_ERR_CANCELLED. */
void sched_ensure_cancel(struct sched_ensure *e);

/* start, stop and restart of a project's existing containers (from the labels, as down). */
enum sched_lifecycle_action { SCHED_LC_START = 0, SCHED_LC_STOP, SCHED_LC_RESTART };

struct sched_lifecycle_options {
    enum sched_lifecycle_action action;
    const char *const *services; /* only these services' containers; NULL/0: all */
    size_t n_services;
    int stop_timeout_s; /* stop and restart; < 0: each container's own */
    int parallel;       /* 0: 16 */
    bool no_deps;       /* restart: only the named services (else those that depend on them with
                           `restart: true` are restarted too, after them) */
};

/* restart SERVICE...: the services restarted, as docker compose restarts them: selected (n of
 * them), then, transitively, every service that depends on one of them with `restart: true`,
 * found in model when given (may be NULL), else in the observed containers' depends_on labels.
 * Returns how many; *ret is new (free() the array; its strings are borrowed from the arguments).
 * sched_lifecycle() restarts these, and `restart --dry-run` prints them. */
size_t sched_restart_dependents(const struct compose_project *model,
                                const struct sched_observed *o, const char *const *selected,
                                size_t n, const char ***ret);

/* Starts, stops or restarts project_name's containers (one-off ones left alone): start and restart
 * in dependency order (a service once every service it depends on has been started), stop in
 * reverse order, independent services in parallel. Restarting named services restarts the
 * services that depend on them with `restart: true` too (transitively), unless no_deps. The order
 * comes from the model when given (may be NULL), else from the depends_on labels. Fails with
 * CC_ERR_NOT_FOUND when a selected service has no container. Same callback contract as sched_up. */
struct sched_op *sched_lifecycle(uv_loop_t *loop, struct engine_client *c, const char *project_name,
                                 const struct compose_project *model,
                                 const struct sched_lifecycle_options *opts,
                                 sched_event_cb on_event, sched_done_cb done, void *data,
                                 struct cc_error *reterr);
/* ---- Swarm stacks (`ccompose stack`) -------------------------------------------------------- */

/* A stack is a compose model deployed to a swarm, as `docker stack deploy` does: the model is
 * loaded with the stack's name as its project name; overlay networks, secrets and configs are
 * made first, then one swarm service per compose service ("<stack>_<service>"), created or
 * updated with its current version index. Everything carries com.docker.stack.namespace=<stack>,
 * which is how ls, services, ps and rm find it again. Keys swarm cannot honour are reported as
 * SCHED_WARNING events naming the key. Events use SCHED_RES_SERVICE/SECRET/CONFIG/NETWORK/TASK.
 * Fails with CC_ERR_UNSUPPORTED when the engine is not a swarm manager. */

enum sched_resolve_image {
    SCHED_RESOLVE_ALWAYS = 0, /* pin each image to the digest its registry reports */
    SCHED_RESOLVE_CHANGED,    /* only images that differ from the deployed service's */
    SCHED_RESOLVE_NEVER,      /* send images as written */
};

struct sched_stack_options {
    bool prune; /* deploy: remove the stack's services not in the model */
    enum sched_resolve_image resolve_image;
    bool wait;               /* deploy: return once every service runs as many tasks as it wants
                                (healthy ones, where it has a health check) and no update is in
                                progress; rm always waits until the tasks are gone */
    int64_t wait_timeout_ms; /* 0: no limit */
    int parallel;            /* engine calls in flight; 0: 16 */
    bool with_registry_auth; /* deploy: send the docker config's credentials for each image's
                                registry (X-Registry-Auth) with the digest look-up and the
                                service, so that every node can pull from a private registry */
};

/* Deploys project (borrowed; must outlive the operation). done as sched_up: NULL once deployed
 * (and, with wait, converged); else the first failure: CC_ERR_FAILED when a service cannot
 * converge (its tasks fail again and again: the message carries the last task's error),
 * CC_ERR_TIMEOUT, CC_ERR_NOT_FOUND for an external network, secret or config that does not
 * exist, an engine error otherwise. A failed task is reported (SCHED_RES_TASK, SCHED_ERROR, its
 * error as text) as soon as it is seen. Returns NULL with *reterr set, calling nothing, on a model
 * swarm cannot take (CC_ERR_INVALID_CONFIG, with the key path). */
struct sched_op *sched_stack_deploy(uv_loop_t *loop, struct engine_client *c,
                                    const struct compose_project *project,
                                    const struct sched_stack_options *opts, sched_event_cb on_event,
                                    sched_done_cb done, void *data, struct cc_error *reterr);

/* Removes the stack's services, waits until their tasks are gone, then removes its networks,
 * secrets and configs. Fails with CC_ERR_NOT_FOUND when nothing carries the stack's label. */
struct sched_op *sched_stack_rm(uv_loop_t *loop, struct engine_client *c, const char *stack,
                                const struct sched_stack_options *opts, sched_event_cb on_event,
                                sched_done_cb done, void *data, struct cc_error *reterr);

enum sched_stack_query {
    SCHED_STACK_LS = 0,   /* rows {"Name", "Services"} by name */
    SCHED_STACK_SERVICES, /* rows {"ID", "Name", "Mode", "Running", "Desired", "Image", "Ports",
                             "Labels" (object)} by name; Ports like "*:8080->80/tcp, ..." */
    SCHED_STACK_PS,       /* rows {"ID", "Name" ("<service>.<slot>"), "Image", "Node",
                             "DesiredState", "CurrentState", "Error", "Ports" (the task's
                             host-mode ports), "Labels" (its service's)} by name, newest first */
};

/* rows is borrowed for the callback's duration (an array, maybe empty); NULL exactly when err. */
typedef void (*sched_stack_rows_cb)(json_t *rows, const struct cc_error *err, void *data);

/* Lists stacks, or a stack's services or tasks (stack NULL for SCHED_STACK_LS). cb once, from the
 * loop. */
struct sched_op *sched_stack_query(uv_loop_t *loop, struct engine_client *c,
                                   enum sched_stack_query what, const char *stack,
                                   sched_stack_rows_cb cb, void *data, struct cc_error *reterr);
/* ---- Watch ------------------------------------------------------------------------------- */

struct sched_watch_options {
    int parallel;           /* engine calls in flight; 0: 16 */
    int64_t backoff_ms;     /* the delay before the first restart; doubles with each restart that
                             * did not make the container healthy again; 0: 1000 */
    int64_t backoff_max_ms; /* the cap; 0: 30000 */
    int stop_timeout_s;     /* the restart's stop timeout; < 0: each container's own */
};

/* Watches project's containers (the project is *borrowed*, as for sched_up) until cancelled, for
 * attached `up`: a container of a service with `x-ccompose: {restart_on_unhealthy: true}` that is
 * or turns unhealthy is restarted after the backoff (SCHED_RESTARTING, whose text gives the delay,
 * the container's state, last health check output and last log lines; then SCHED_RESTARTED, and
 * SCHED_HEALTHY once healthy again), then the running containers of the services that depend on
 * it with `restart: true` (SCHED_RESTARTING "dependency 'x' was restarted", SCHED_RESTARTED).
 * Services without the extension are left alone, as docker compose does. A restart the engine
 * refuses is a SCHED_ERROR event, and watching goes on. Follows the project's event stream
 * (subscribed again whenever the engine ends it). done is called once, from the loop: with
 * CC_ERR_CANCELLED after sched_op_cancel(), or with what stopped it (the engine's events lost).
 * Returns NULL with *reterr set on unusable arguments or a dependency cycle. */
struct sched_op *sched_watch(uv_loop_t *loop, struct engine_client *c,
                             const struct compose_project *project,
                             const struct sched_watch_options *opts, sched_event_cb on_event,
                             sched_done_cb done, void *data, struct cc_error *reterr);

/* ---- Events ------------------------------------------------------------------------------ */

/* One engine event (type container), borrowed for the callback's duration. */
typedef void (*sched_container_event_cb)(json_t *event, void *data);

/* Follows project_name's container events until sched_op_cancel(): on_container for each, in the
 * engine's order, none handed on twice. When the engine ends the stream (an engine restart, say)
 * it is subscribed again from the last event's time, after a probe and with capped backoff while
 * the engine does not answer; an engine that restarted has forgotten the events of the gap, so
 * resync (may be NULL) is then called: look again at what matters. done is called once, from the
 * loop: CC_ERR_CANCELLED after sched_op_cancel(), or why the events were lost (the engine away
 * for about a minute). Returns NULL with *reterr set on unusable arguments. */
struct sched_op *sched_events(uv_loop_t *loop, struct engine_client *c, const char *project_name,
                              sched_container_event_cb on_container, void (*resync)(void *data),
                              sched_done_cb done, void *data, struct cc_error *reterr);

/* A canonical hash (hex SHA-256) of the service's resolved configuration: what, if it changes,
 * means the container must be recreated. Covers every field that reaches the container's create
 * body; excludes build, scale/deploy.replicas, depends_on and profiles, as docker compose does.
 * docs/config-hash.md lists the fields. Also what `config --hash`
 * prints. The caller frees it. NULL when the service cannot be turned into a create body
 * (sched_container_body() says why). */
char *sched_config_hash(const struct compose_project *p, const struct compose_service *s);

/* The service's secrets and configs that are copied into its containers between create and
 * start rather than bind-mounted (those from an environment variable or inline content, and files
 * given a uid, gid or mode), as one tar stream to PUT at "/" (engine_container_archive_put):
 * each file at its target with its mode (default 0444) and owner (default 0:0). Put it without
 * copyUIDGID: the engine keeps the entries' owners then, where copyUIDGID would give every file to
 * the container's user. *ret_tar is new (len 0: nothing to copy); release it with
 * sched_bytes_wipe(), as it holds secrets. Fails with CC_ERR_INVALID_CONFIG (a
 * variable not set, a uid that is not a number, a read-only service) or CC_ERR_IO (a file that
 * cannot be read); messages name the secret, never its content. */
int sched_inject_tar(const struct compose_project *p, const struct compose_service *s,
                     struct buf *ret_tar, struct cc_error *reterr);
/* Zeroes b's memory, then releases it. */
void sched_bytes_wipe(struct buf *b);
/* An engine_body_read_cb over bytes held elsewhere (borrowed). */
struct sched_bytes_reader {
    const char *data;
    size_t len, off;
};
ssize_t sched_bytes_read(char *buf, size_t len, void *data);

/* Stops an operation early: calls in flight are cancelled, nothing new starts, and done is called
 * (from the loop) with CC_ERR_CANCELLED. Safe from inside its callbacks. */
void sched_op_cancel(struct sched_op *op);

#endif
