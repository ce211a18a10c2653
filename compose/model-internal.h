/* Inside compose/: model building, split by topic.
 *
 * model-check.c     the shared machinery: errors into the diag, scalar conversion (strings,
 *                   numbers, booleans, durations, sizes), lists, KEY=VALUE maps, and the field
 *                   tables that check every key of a mapping (unknown keys outside x- rejected);
 * model-service.c   one service: its keys, short forms made long;
 * model-deploy.c    deploy: and build:;
 * model-extra.c     the less common service keys: blkio_config, gpus and device requests,
 *                   credential_spec, the cpu_rt_* and other numbers, hooks, develop;
 * model-resources.c top-level networks, volumes, secrets and configs;
 * model-project.c   compose_model_build(): top-level keys, profiles, the implicit default
 *                   network, references between services and resources, cycles, sorting.
 *
 * Every value lives in the project's arena. A conversion that fails records its error in the
 * diag and returns -1; callers go on with the next key so that one load reports every problem. */
#ifndef CC_COMPOSE_MODEL_INTERNAL_H
#define CC_COMPOSE_MODEL_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "compose/loader-internal.h"

struct mctx {
    struct compose_load_ctx *ctx;
    struct arena *a;
    struct cnode_path path; /* the key path of the node being read, for messages */
    size_t n_errors;        /* errors recorded by this build */
    bool warned_develop;    /* `develop` is warned about once per load */
};

/* Records an error at n (with the current key path) and returns -1. hint may be NULL. */
int m_error(struct mctx *m, const struct cnode *n, const char *hint, const char *fmt, ...)
    CC_PRINTF(4, 5);
/* Records an error from a parser (message and hint kept) at n. Returns -1. */
int m_error_from(struct mctx *m, const struct cnode *n, const struct cc_error *err);
void m_warning(struct mctx *m, const struct cnode *n, const char *fmt, ...) CC_PRINTF(3, 4);
/* The current key path as a string in the arena. */
const char *m_path(struct mctx *m);
struct compose_pos m_pos(const struct cnode *n);

/* Scalar conversions. A null scalar is "not set": they return 1 and leave *ret alone. Numbers
 * and booleans are read from the text whatever its quoting (interpolated values are text). */
int m_str(struct mctx *m, const struct cnode *n, const char **ret);
int m_bool(struct mctx *m, const struct cnode *n, bool *ret);
int m_int64(struct mctx *m, const struct cnode *n, int64_t min, int64_t max, int64_t *ret);
int m_int(struct mctx *m, const struct cnode *n, int min, int max, int *ret);
int m_double(struct mctx *m, const struct cnode *n, double *ret);
int m_duration(struct mctx *m, const struct cnode *n, int64_t *ret);
int m_size(struct mctx *m, const struct cnode *n, int64_t *ret);
/* One of the n_ok strings in ok; else an error "'<path>' is not <what>: '<value>'". */
int m_enum(struct mctx *m, const struct cnode *n, const char *const *ok, size_t n_ok,
           const char *what, const char *hint, const char **ret);
/* A list of strings; with one_ok a lone string counts as a list of one. */
int m_strv(struct mctx *m, const struct cnode *n, bool one_ok, struct compose_strv *ret);
/* A mapping or a "KEY=VALUE" list. A key without value is NULL with env_lookup (environment:
 * taken from the project's variables), else "". */
int m_kvv(struct mctx *m, const struct cnode *n, bool env_lookup, struct compose_kvv *ret);
/* Sets key in kvv (replacing in place) in the arena. */
void m_kvv_set(struct mctx *m, struct compose_kvv *kvv, const char *key, const char *value);
void m_strv_add(struct mctx *m, struct compose_strv *sv, const char *s);

/* Checks n is a mapping / sequence (an error naming what is expected otherwise). */
int m_want_map(struct mctx *m, const struct cnode *n);
int m_want_seq(struct mctx *m, const struct cnode *n);
/* What n is, for messages: "mapping", "sequence", "string", "number", "boolean", "null". */
const char *m_kind_name(const struct cnode *n);

enum mfield_type {
    MF_STR,
    MF_BOOL,
    MF_TRI,
    MF_INT,
    MF_INT64,
    MF_DOUBLE,
    MF_DURATION,
    MF_SIZE,
    MF_STRV,     /* a string or a list */
    MF_LIST,     /* a list only */
    MF_KVV,      /* a mapping or KEY=VALUE list */
    MF_ENV,      /* as MF_KVV, keys without value looked up */
    MF_CUSTOM,   /* fn */
    MF_ACCEPTED, /* known, accepted, not modelled */
};

struct mfield {
    const char *key;
    enum mfield_type type;
    size_t off; /* into the destination struct */
    int (*fn)(struct mctx *m, const struct cnode *n, void *dst);
};

/* Reads every pair of mapping n into dst with fields; keys not in fields (and not x-*) are
 * errors naming what (e.g. "service 'web'"). Returns -1 when some key failed. */
int m_fields(struct mctx *m, const struct cnode *n, const struct mfield *fields, size_t n_fields,
             void *dst, const char *what);

/* Array helpers: a new arena array of n elements of size elem (never NULL). */
void *m_array(struct mctx *m, size_t n, size_t elem);

/* One item of a sequence read by m_seq() into slot (zeroed; NULL when the caller keeps no
 * array). Returns 1 to keep it, 0 to leave it out, -1 once its problem is reported. */
typedef int (*m_item_fn)(struct mctx *m, const struct cnode *it, void *slot, void *data);
/* Reads the sequence n item by item, the key path at each item's index, into a new arena array
 * (*ret) of n->nitems slots of elem bytes, *ret_n of them kept; elem 0 keeps no array (ret and
 * ret_n may be NULL). null is an empty sequence: 0, nothing written. Every item is read even
 * after one fails, so that all problems are reported; returns -1 then, with the items kept so
 * far stored. */
int m_seq(struct mctx *m, const struct cnode *n, size_t elem, void *ret, size_t *ret_n,
          m_item_fn item, void *data);

/* model-service.c */
void m_service_defaults(struct compose_service *s);
int m_service(struct mctx *m, const char *name, const struct cnode *n, struct compose_service *s);
/* extra_hosts (a host:ip / host=ip list or a host: ip(s) mapping) appended to out as "host:ip". */
int m_extra_hosts(struct mctx *m, const struct cnode *n, struct compose_strv *out);

/* A command: a string split as a shell would, or a list; *has set when the key is set. */
int m_command(struct mctx *m, const struct cnode *n, bool *has, struct compose_strv *ret);
/* ulimits: NAME: N or NAME: {soft, hard}. */
int m_ulimits(struct mctx *m, const struct cnode *n, struct compose_ulimit **ret, size_t *ret_n);

/* model-extra.c: MF_CUSTOM fields of a service (dst is the struct compose_service). */
int m_blkio_config(struct mctx *m, const struct cnode *n, void *dst);
int m_cpu_count(struct mctx *m, const struct cnode *n, void *dst);
int m_cpu_percent(struct mctx *m, const struct cnode *n, void *dst);
int m_cpu_rt_period(struct mctx *m, const struct cnode *n, void *dst);
int m_cpu_rt_runtime(struct mctx *m, const struct cnode *n, void *dst);
int m_mem_swappiness(struct mctx *m, const struct cnode *n, void *dst);
int m_credential_spec(struct mctx *m, const struct cnode *n, void *dst);
int m_gpus(struct mctx *m, const struct cnode *n, void *dst);
int m_post_start(struct mctx *m, const struct cnode *n, void *dst);
int m_pre_stop(struct mctx *m, const struct cnode *n, void *dst);
int m_develop(struct mctx *m, const struct cnode *n, void *dst);
/* A list of device requests (gpus: entries, deploy.resources.reservations.devices). */
int m_device_requests(struct mctx *m, const struct cnode *n, struct compose_device_request **ret,
                      size_t *ret_n);

/* model-deploy.c */
int m_deploy(struct mctx *m, const struct cnode *n, void *dst);
int m_build(struct mctx *m, const struct cnode *n, void *dst);
int m_file_refs(struct mctx *m, const struct cnode *n, bool secrets, struct compose_file_ref **ret,
                size_t *ret_n);

/* model-resources.c */
int m_networks(struct mctx *m, const struct cnode *n);
int m_volumes(struct mctx *m, const struct cnode *n);
int m_file_defs(struct mctx *m, const struct cnode *n, bool secrets);

#endif
