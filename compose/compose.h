/* compose: compose files to a typed, read-only model of the project.
 *
 * compose_project_load() finds the files, parses them (positions kept), interpolates, merges,
 * resolves extends/include, applies profiles, normalises every short form to its long form and
 * validates; the result is a struct compose_project that lives in one arena and is read-only
 * from then on. The scheduler borrows it; compose_project_free() frees it all.
 *
 * Conventions in the model:
 * - Strings are NULL when the file does not set them; lists have n == 0 when empty.
 * - Numbers that may be unset use COMPOSE_UNSET (-1) unless said otherwise.
 * - Durations are nanoseconds (int64_t), sizes bytes (int64_t).
 * - Paths (bind sources, build contexts, env files, secret files) are absolute.
 * - Every element that can be wrong at run time carries its position, for messages.
 *
 * compose/ knows no engine: turning the model into engine bodies is the scheduler's work. */
#ifndef CC_COMPOSE_H
#define CC_COMPOSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#include "common/arena.h"
#include "common/error.h"

#define COMPOSE_UNSET (-1)

struct compose_pos {
    const char *file; /* as given or found; NULL when the value was not read from a file */
    int line;         /* 1-based */
    int col;          /* 1-based */
};

struct compose_strv {
    const char **v;
    size_t n;
};

/* KEY=VALUE pairs in file order, keys unique. value NULL: the key is listed without a value and
 * the environment does not set it (docker compose leaves such keys out of the container). */
struct compose_kv {
    const char *key;
    const char *value;
};

struct compose_kvv {
    struct compose_kv *v;
    size_t n;
};

/* Looks key up; NULL when absent (or present without a value). Borrowed. */
const char *compose_kvv_get(const struct compose_kvv *kvv, const char *key);

enum compose_tristate { COMPOSE_TRI_UNSET = 0, COMPOSE_TRI_FALSE, COMPOSE_TRI_TRUE };

/* ---- Services ------------------------------------------------------------------------------ */

struct compose_port {
    const char *name;
    uint32_t target;
    uint32_t target_end;     /* == target unless a range of the short form */
    const char *published;   /* "8080", "8000-8010", or NULL (the engine picks) */
    const char *host_ip;     /* NULL: all interfaces */
    const char *protocol;    /* "tcp" (default), "udp", "sctp" */
    const char *mode;        /* "ingress" (default) or "host" */
    const char *app_protocol;
    struct compose_pos pos;
};

enum compose_mount_type {
    COMPOSE_MOUNT_VOLUME = 0, /* named (source set) or anonymous (source NULL) */
    COMPOSE_MOUNT_BIND,
    COMPOSE_MOUNT_TMPFS,
    COMPOSE_MOUNT_NPIPE,
    COMPOSE_MOUNT_CLUSTER,
    COMPOSE_MOUNT_IMAGE, /* an image's content (API 1.48+): source is the image */
};

struct compose_mount {
    enum compose_mount_type type;
    const char *source; /* bind: absolute host path; volume: the top-level key; else NULL */
    const char *target;
    bool read_only;
    const char *consistency;
    /* bind */
    const char *propagation;
    bool create_host_path; /* default true, as docker compose */
    const char *selinux;   /* "z", "Z" or NULL */
    /* volume */
    bool nocopy;
    const char *subpath;
    /* image */
    const char *image_subpath;
    /* tmpfs */
    int64_t tmpfs_size; /* bytes, COMPOSE_UNSET */
    int tmpfs_mode;     /* COMPOSE_UNSET */
    struct compose_pos pos;
};

struct compose_healthcheck {
    bool set;                  /* the service (or its image, when not disabled) has one */
    bool disable;              /* `disable: true` or test: ["NONE"] */
    struct compose_strv test;  /* normalised: ["CMD", ...], ["CMD-SHELL", "..."] or ["NONE"] */
    int64_t interval;          /* ns, COMPOSE_UNSET */
    int64_t timeout;
    int64_t start_period;
    int64_t start_interval;
    int retries;               /* COMPOSE_UNSET */
    struct compose_pos pos;
};

enum compose_condition {
    COMPOSE_COND_STARTED = 0,
    COMPOSE_COND_HEALTHY,
    COMPOSE_COND_COMPLETED_SUCCESSFULLY,
};

/* "service_started", "service_healthy", "service_completed_successfully" (static). */
const char *compose_condition_name(enum compose_condition c);

struct compose_dependency {
    const char *service;
    enum compose_condition condition;
    bool restart;  /* restart this service when the dependency is recreated/restarted */
    bool required; /* default true */
    struct compose_pos pos;
};

struct compose_service_network {
    const char *key; /* the top-level networks key ("default" for the implicit one) */
    struct compose_strv aliases;
    const char *ipv4_address;
    const char *ipv6_address;
    struct compose_strv link_local_ips;
    const char *mac_address;
    int priority; /* 0 default */
    struct compose_kvv driver_opts;
    int gw_priority;            /* 0 default; API 1.48+, not sent */
    const char *interface_name; /* API 1.49+, not sent */
    struct compose_pos pos;
};

struct compose_ulimit {
    const char *name;
    int64_t soft;
    int64_t hard;
};

struct compose_file_ref { /* a service's use of a secret or config */
    const char *source; /* top-level key */
    const char *target; /* absolute path in the container (/run/secrets/NAME by default) */
    const char *uid;
    const char *gid;
    int mode; /* COMPOSE_UNSET: 0444 */
    struct compose_pos pos;
};

struct compose_device {
    const char *source;
    const char *target;
    const char *permissions; /* "rwm" default */
};

struct compose_logging {
    const char *driver;
    struct compose_kvv options;
};

/* A request for devices from a driver: `gpus:` entries and deploy.resources.reservations.devices,
 * the engine's DeviceRequests. */
struct compose_device_request {
    const char *driver;
    bool count_all;              /* `count: all` (the engine's -1) */
    int64_t count;               /* COMPOSE_UNSET */
    struct compose_strv device_ids;
    struct compose_strv capabilities; /* one set: every capability is required */
    struct compose_kvv options;
    struct compose_pos pos;
};

/* deploy.resources.reservations.generic_resources: a swarm's discrete resource spec. */
struct compose_generic_resource {
    const char *kind;
    int64_t value;
};

struct compose_resources {
    double cpus;        /* 0: unset */
    int64_t memory;     /* bytes, COMPOSE_UNSET */
    int64_t pids;       /* COMPOSE_UNSET */
    struct compose_device_request *devices; /* reservations only */
    size_t n_devices;
    struct compose_generic_resource *generic_resources; /* reservations only */
    size_t n_generic_resources;
};

struct compose_restart_policy {
    const char *condition; /* "none", "on-failure", "any"; NULL unset */
    int64_t delay;         /* ns, COMPOSE_UNSET */
    int max_attempts;      /* COMPOSE_UNSET */
    int64_t window;        /* ns, COMPOSE_UNSET */
};

struct compose_update_config {
    bool set;
    int parallelism;         /* COMPOSE_UNSET */
    int64_t delay;           /* ns */
    const char *failure_action;
    int64_t monitor;         /* ns */
    double max_failure_ratio;
    const char *order;       /* "stop-first" | "start-first" */
};

struct compose_deploy {
    bool set;
    const char *mode; /* "replicated" (default) or "global" */
    int replicas;     /* COMPOSE_UNSET */
    struct compose_kvv labels;
    struct compose_resources limits;
    struct compose_resources reservations;
    struct compose_restart_policy restart_policy;
    struct compose_update_config update_config;
    struct compose_update_config rollback_config;
    struct compose_strv placement_constraints;
    struct compose_strv placement_preferences; /* "spread=node.labels.zone" */
    int max_replicas_per_node;                 /* COMPOSE_UNSET */
    const char *endpoint_mode;
};

struct compose_build {
    const char *context;    /* absolute directory (or a URL, kept as given) */
    const char *dockerfile; /* as given, relative to context; NULL: Dockerfile */
    const char *dockerfile_inline;
    struct compose_kvv args;
    const char *target;
    struct compose_kvv labels;
    struct compose_strv cache_from;
    struct compose_strv cache_to;
    const char *network;
    int64_t shm_size;               /* COMPOSE_UNSET */
    struct compose_strv extra_hosts; /* "host:ip" */
    struct compose_strv ssh;
    struct compose_file_ref *secrets;
    size_t n_secrets;
    struct compose_strv tags;
    struct compose_strv platforms;
    bool no_cache;
    bool pull;
    /* BuildKit's: the engine's /build (API 1.41) has no place for these; additional_contexts
     * fails the build, the others are warned about at load (docs/compose-model.md). */
    struct compose_kvv additional_contexts; /* name: absolute directory or reference */
    bool privileged;
    struct compose_strv entitlements;
    const char *provenance; /* as written: "true", "false", "mode=max" */
    const char *sbom;
    const char *isolation;
    struct compose_ulimit *ulimits;
    size_t n_ulimits;
    struct compose_pos pos;
};

/* One entry of blkio_config's device lists: weight_device's weight, or a device_* rate (bytes
 * per second for *_bps, operations per second for *_iops). */
struct compose_blkio_device {
    const char *path;
    int64_t value;
};

struct compose_blkio_list {
    struct compose_blkio_device *v;
    size_t n;
};

struct compose_blkio {
    bool set;
    int weight; /* 10..1000, COMPOSE_UNSET */
    struct compose_blkio_list weight_device;
    struct compose_blkio_list device_read_bps;
    struct compose_blkio_list device_write_bps;
    struct compose_blkio_list device_read_iops;
    struct compose_blkio_list device_write_iops;
};

/* credential_spec: exactly one of the three is set when the key is (Windows containers). */
struct compose_credential_spec {
    const char *config; /* a top-level config's key */
    const char *file;
    const char *registry;
};

/* A post_start or pre_stop hook: a command run with exec in the service's container. */
struct compose_hook {
    struct compose_strv command;
    const char *user;
    bool privileged;
    const char *working_dir;
    struct compose_kvv environment;
    struct compose_pos pos;
};

/* One develop.watch rule (`compose watch`, which ccompose does not run). */
struct compose_watch {
    const char *path; /* absolute */
    const char *action; /* rebuild, sync, restart, sync+restart, sync+exec */
    const char *target;
    struct compose_strv ignore;
    struct compose_strv include;
    bool initial_sync;
    struct compose_hook exec; /* sync+exec: command.n > 0 */
    struct compose_pos pos;
};

/* ccompose's own service extension, `x-ccompose:` (documented in docs/compose-extensions.md). */
struct compose_ccompose_ext {
    bool restart_on_unhealthy;
};

struct compose_service {
    const char *name;
    struct compose_pos pos;

    const char *image; /* NULL only when build is set */
    struct compose_build *build; /* NULL when none */
    const char *pull_policy;     /* always|never|missing|build|if_not_present|daily|... or NULL */
    const char *platform;
    const char *container_name;
    const char *hostname;
    const char *domainname;
    const char *user;
    const char *working_dir;
    const char *restart; /* "no", "always", "on-failure[:N]", "unless-stopped", or NULL */
    const char *stop_signal;
    int64_t stop_grace_period; /* ns, COMPOSE_UNSET */
    const char *network_mode;  /* "host", "none", "bridge", "service:x", "container:x", NULL */
    const char *ipc;
    const char *pid;
    const char *cgroup;
    const char *cgroup_parent;
    const char *userns_mode;
    const char *mac_address;
    enum compose_tristate init;
    bool privileged;
    bool read_only;
    bool tty;
    bool stdin_open;

    bool has_command;    /* set, possibly to an empty list (which clears the image's) */
    struct compose_strv command;
    bool has_entrypoint;
    struct compose_strv entrypoint;

    struct compose_kvv environment; /* env_file entries merged in, environment: winning */
    struct compose_strv env_files;  /* absolute paths, for `config` */
    struct compose_kvv labels;
    struct compose_kvv annotations;
    struct compose_kvv sysctls;
    struct compose_kvv storage_opt;

    struct compose_port *ports;
    size_t n_ports;
    struct compose_strv expose;
    struct compose_mount *volumes;
    size_t n_volumes;
    struct compose_strv tmpfs; /* the short `tmpfs:` key: "/path[:opts]" */
    struct compose_device *devices;
    size_t n_devices;
    struct compose_strv volumes_from; /* "service:name[:ro]" or "container:name[:ro]" */
    struct compose_strv links;        /* "service[:alias]" */
    struct compose_strv external_links;
    struct compose_strv dns;
    struct compose_strv dns_search;
    struct compose_strv dns_opt;
    struct compose_strv extra_hosts; /* "host:ip" */
    struct compose_strv cap_add;
    struct compose_strv cap_drop;
    struct compose_strv security_opt;
    struct compose_strv group_add;
    struct compose_strv profiles;
    struct compose_ulimit *ulimits;
    size_t n_ulimits;

    struct compose_dependency *depends_on;
    size_t n_depends_on;
    /* Networks the containers join, in priority order. Empty with network_mode NULL means the
     * project's "default" network (the loader adds it, so n_networks is 0 only with a
     * network_mode). */
    struct compose_service_network *networks;
    size_t n_networks;

    struct compose_file_ref *secrets;
    size_t n_secrets;
    struct compose_file_ref *configs;
    size_t n_configs;

    struct compose_healthcheck healthcheck;
    struct compose_logging logging;
    struct compose_deploy deploy;
    int scale; /* COMPOSE_UNSET; the number of containers is compose_service_replicas() */

    /* Flat resource keys (docker compose v2 accepts both these and deploy.resources). */
    int64_t mem_limit;       /* bytes, COMPOSE_UNSET */
    int64_t memswap_limit;
    int64_t mem_reservation;
    int64_t shm_size;
    double cpus;             /* 0: unset */
    int64_t cpu_shares;      /* COMPOSE_UNSET */
    int64_t cpu_quota;
    int64_t cpu_period;
    const char *cpuset;
    int64_t pids_limit;      /* COMPOSE_UNSET */
    int oom_score_adj;       /* 0 default */
    bool oom_kill_disable;

    /* Less common engine settings. */
    int64_t cpu_count;      /* COMPOSE_UNSET */
    int cpu_percent;        /* 0..100, COMPOSE_UNSET */
    int64_t cpu_rt_period;  /* microseconds, COMPOSE_UNSET */
    int64_t cpu_rt_runtime; /* microseconds, COMPOSE_UNSET */
    int mem_swappiness;     /* 0..100, COMPOSE_UNSET */
    struct compose_blkio blkio_config;
    struct compose_strv device_cgroup_rules;
    struct compose_device_request *gpus; /* `gpus: all` is one request with count_all */
    size_t n_gpus;
    bool gpus_all;                       /* written as `gpus: all` */
    const char *isolation;
    const char *runtime;
    const char *uts;
    struct compose_credential_spec credential_spec;
    struct compose_strv label_files; /* absolute; their labels are merged into labels */

    enum compose_tristate attach; /* unset: true; false leaves the logs out of attached `up` */
    struct compose_hook *post_start;
    size_t n_post_start;
    struct compose_hook *pre_stop;
    size_t n_pre_stop;
    struct compose_watch *develop_watch; /* kept for `config`; ccompose does not watch */
    size_t n_develop_watch;
    bool has_develop;

    struct compose_ccompose_ext x_ccompose;
};

/* How many containers the service wants: --scale (not here), scale, deploy.replicas, else 1. */
int compose_service_replicas(const struct compose_service *s);

/* ---- Top-level resources ------------------------------------------------------------------- */

struct compose_ipam_config {
    const char *subnet;
    const char *ip_range;
    const char *gateway;
    struct compose_kvv aux_addresses;
};

struct compose_network {
    const char *key;  /* the key in the file ("default" for the implicit one) */
    const char *name; /* the engine's name: `name:`, else "<project>_<key>" */
    const char *driver;
    struct compose_kvv driver_opts;
    const char *ipam_driver;
    struct compose_ipam_config *ipam_config;
    size_t n_ipam_config;
    struct compose_kvv ipam_options;
    bool external;
    bool internal;
    bool attachable;
    enum compose_tristate enable_ipv6;
    enum compose_tristate enable_ipv4; /* API 1.47+: only the default (true) is possible */
    struct compose_kvv labels;
    bool used; /* some active service joins it */
    struct compose_pos pos;
};

struct compose_volume {
    const char *key;
    const char *name; /* `name:`, else "<project>_<key>" */
    const char *driver;
    struct compose_kvv driver_opts;
    bool external;
    struct compose_kvv labels;
    struct compose_pos pos;
};

/* Top-level secrets and configs. Exactly one of file, environment, content is set unless
 * external. */
struct compose_file_def {
    const char *key;
    const char *name;
    const char *file; /* absolute */
    const char *environment;
    const char *content;
    bool external;
    struct compose_kvv labels;
    /* Swarm's secret and config drivers: stack deploy's business, warned about otherwise. */
    const char *driver;
    struct compose_kvv driver_opts;
    const char *template_driver;
    struct compose_pos pos;
};

/* A top-level `models:` entry (Docker Model Runner), kept for `config`. */
struct compose_model {
    const char *key;
    const char *name;
    const char *model;
    int64_t context_size; /* COMPOSE_UNSET */
    struct compose_strv runtime_flags;
    struct compose_pos pos;
};

struct compose_project {
    struct arena arena; /* owns everything below */
    const char *name;
    const char *working_dir;          /* the project directory, absolute */
    struct compose_strv config_files; /* absolute paths, in load order */
    struct compose_strv env_files;    /* --env-file values, absolute */
    struct compose_strv profiles;     /* enabled profiles */
    struct compose_strv all_profiles; /* every profile some service names (config --profiles) */

    /* Active services (profiles applied), sorted by name. */
    struct compose_service *services;
    size_t n_services;
    /* Services left out by profiles, for messages ("service 'x' is in profile 'debug'"). */
    struct compose_strv disabled_services;
    struct compose_network *networks; /* sorted by key */
    size_t n_networks;
    struct compose_volume *volumes;
    size_t n_volumes;
    struct compose_file_def *secrets;
    size_t n_secrets;
    struct compose_file_def *configs;
    size_t n_configs;
    struct compose_model *models; /* in file order; ccompose runs no models */
    size_t n_models;
};

/* Lookups by key; NULL when absent. Borrowed from the project. */
const struct compose_service *compose_project_service(const struct compose_project *p,
                                                      const char *name);
const struct compose_network *compose_project_network(const struct compose_project *p,
                                                      const char *key);
const struct compose_volume *compose_project_volume(const struct compose_project *p,
                                                    const char *key);

struct buf;
/* A secret or config file larger than this is not a secret: refused rather than held in memory
 * (swarm's limit for a secret is 500 KiB). */
#define COMPOSE_FILE_DEF_MAX (16u * 1024 * 1024)
/* The content of a secret or config that is not external, appended to ret: its file's bytes, the
 * process environment's value of the variable its `environment:` names, or its `content:`. what
 * ("secret", "config", or NULL) names it in errors, which never quote the content: CC_ERR_IO (the
 * file cannot be read), CC_ERR_INVALID_CONFIG (the variable is not set; too large); ret may then
 * hold part of the file. ret holds a secret: wipe it (explicit_bzero) before releasing it. */
int compose_file_def_data(const struct compose_file_def *d, const char *what, struct buf *ret,
                          struct cc_error *reterr);

/* ---- Loading ------------------------------------------------------------------------------- */

struct compose_load_options {
    const char *const *files; /* -f values in order ("-" is stdin); NULL/0: COMPOSE_FILE, else
                                 found from working_dir upwards */
    size_t n_files;
    const char *working_dir;       /* where to look; NULL: the current directory */
    const char *project_directory; /* --project-directory; NULL: the first file's directory */
    const char *project_name;      /* -p; NULL: COMPOSE_PROJECT_NAME, `name:`, the directory */
    const char *const *env_files;  /* --env-file values; NULL/0: <project dir>/.env if present */
    size_t n_env_files;
    const char *const *profiles;   /* --profile values; NULL/0: COMPOSE_PROFILES */
    size_t n_profiles;
    /* Services named on the command line: enabled even when their profiles are not. */
    const char *const *services;
    size_t n_services;
    /* The process environment as "K=V" strings; NULL: environ. Wins over env files. */
    const char *const *environ;
    bool no_interpolate;
    bool no_normalize; /* keep relative paths (config --no-path-resolution) */
    const char *stdin_text; /* what "-" reads, for tests; NULL: standard input */
};

/* The COMPOSE_* variables as the loader first sees them: the process environment's, and those
 * the env files add (the --env-file files, else .env in --project-directory, else in the first -f
 * file's directory, else in the working directory), as docker compose reads them before anything
 * else. Only files, working_dir, project_directory, env_files and environ of opts are used.
 * *ret is new: "K=V" strings (free each, then the array), *n_ret of them. Fails as loading does on
 * an --env-file that is missing or malformed. */
int compose_env_compose_vars(const struct compose_load_options *opts, char ***ret, size_t *n_ret,
                             struct cc_error *reterr);

/* One problem found while loading, with where it is. */
struct compose_diag {
    struct cc_error *errors; /* in file order */
    size_t n_errors;
    struct cc_error *warnings; /* e.g. "the attribute 'version' is obsolete, ignoring" */
    size_t n_warnings;
};

void compose_diag_init(struct compose_diag *d);
void compose_diag_release(struct compose_diag *d);

/* Loads a project. On success *ret_project is new (compose_project_free() it) and diag holds the
 * warnings. On failure returns -1, diag holds every error found (in file order) and the warnings,
 * and *reterr the first error (kind CC_ERR_INVALID_CONFIG for file problems, CC_ERR_NOT_FOUND
 * when no compose file is found, CC_ERR_IO when one cannot be read). diag may be NULL. */
int compose_project_load(const struct compose_load_options *opts,
                         struct compose_project **ret_project, struct compose_diag *diag,
                         struct cc_error *reterr);

void compose_project_free(struct compose_project *p);

/* ---- Printing (compose/emit.c) ------------------------------------------------------------- */

enum compose_dump_format { COMPOSE_DUMP_YAML = 0, COMPOSE_DUMP_JSON };
enum compose_dump_flags {
    /* Print values as they are: the project was loaded without interpolation. Otherwise '$' is
     * printed "$$", as docker compose does, so that the output reads back to the same values. */
    COMPOSE_DUMP_RAW = 1 << 0,
};

/* The project as `docker compose config` prints it: name first, then services, networks,
 * volumes, secrets, configs; long forms, absolute paths, environment as a map, durations as Go
 * prints them ("1m30s"), keys sorted below the top level. Loading the output again gives the
 * same model. *ret is new (free() it); fails only when the emitter does (CC_ERR_FAILED). */
int compose_project_dump(const struct compose_project *p, enum compose_dump_format format,
                         enum compose_dump_flags flags, char **ret, struct cc_error *reterr);
/* compose_project_dump() written to OUT as it is made (YAML: one service at a time, so a large
 * project's text is never whole in memory). On failure OUT may hold part of the text. */
int compose_project_write(const struct compose_project *p, enum compose_dump_format format,
                          enum compose_dump_flags flags, FILE *out, struct cc_error *reterr);

/* `convert --format k8s`: the model as Kubernetes manifests, YAML documents separated by "---":
 * per service a Deployment (DaemonSet when deploy.mode is global; replicas, rolling-update
 * strategy from update_config, container with image, command/args, env, ports, workingDir,
 * resources, readinessProbe from the health check) and, when it has ports, a Service (ClusterIP
 * on the target ports, LoadBalancer on published ones). *ret is new (free() it). */
int compose_project_k8s(const struct compose_project *p, char **ret, struct cc_error *reterr);

/* `config --no-interpolate`: the files found, read, merged (extends, include, paths as opts
 * say) but neither interpolated nor typed, printed with `name:` first and the rest in file
 * order. Values like "${PORT}:80" cannot be typed before interpolation, so the model is not
 * built and only YAML and merge errors are found. *ret is new (free() it); on failure diag (may
 * be NULL) and *reterr hold the error. */
int compose_config_dump_raw(const struct compose_load_options *opts,
                            enum compose_dump_format format, char **ret,
                            struct compose_diag *diag, struct cc_error *reterr);

#endif
