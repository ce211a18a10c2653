/* Hand-built compose models for tests: see model-builder.h. Defaults follow compose/compose.h so
 * that a built model looks like a loaded one. */
#include <assert.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "tests/lib/model-builder.h"

static const char *astr(struct compose_project *p, const char *s)
{
    return s ? arena_strdup(&p->arena, s) : NULL;
}

/* Appends one zeroed element to an arena array of *n elements of elem bytes; returns it. The old
 * array stays in the arena (tests build small models). */
static void *append(struct compose_project *p, void **arr, size_t *n, size_t elem)
{
    char *grown = arena_alloc(&p->arena, (*n + 1) * elem);
    if (*n)
        memcpy(grown, *arr, *n * elem);
    *arr = grown;
    return grown + (*n)++ * elem;
}

#define APPEND(p, arr, n) append((p), (void **)&(arr), &(n), sizeof(*(arr)))

struct compose_project *mb_project_new(const char *name, const char *working_dir)
{
    struct compose_project *p = xcalloc(1, sizeof(*p));
    arena_init(&p->arena);
    p->name = astr(p, name);
    p->working_dir = astr(p, working_dir);
    mb_strv_add(p, &p->config_files, arena_printf(&p->arena, "%s/compose.yaml", working_dir));
    p->services = arena_alloc(&p->arena, MB_MAX_SERVICES * sizeof(*p->services));
    p->networks = arena_alloc(&p->arena, MB_MAX_NETWORKS * sizeof(*p->networks));
    p->volumes = arena_alloc(&p->arena, MB_MAX_VOLUMES * sizeof(*p->volumes));
    return p;
}

static void resources_unset(struct compose_resources *r)
{
    r->memory = COMPOSE_UNSET;
    r->pids = COMPOSE_UNSET;
}

static void update_config_unset(struct compose_update_config *u)
{
    u->parallelism = COMPOSE_UNSET;
}

struct compose_service *mb_service_add(struct compose_project *p, const char *name,
                                       const char *image)
{
    assert(p->n_services < MB_MAX_SERVICES);
    struct compose_service *s = &p->services[p->n_services++];
    memset(s, 0, sizeof(*s));
    s->name = astr(p, name);
    s->image = astr(p, image);
    s->stop_grace_period = COMPOSE_UNSET;
    s->healthcheck.interval = COMPOSE_UNSET;
    s->healthcheck.timeout = COMPOSE_UNSET;
    s->healthcheck.start_period = COMPOSE_UNSET;
    s->healthcheck.start_interval = COMPOSE_UNSET;
    s->healthcheck.retries = COMPOSE_UNSET;
    s->deploy.replicas = COMPOSE_UNSET;
    resources_unset(&s->deploy.limits);
    resources_unset(&s->deploy.reservations);
    s->deploy.restart_policy.delay = COMPOSE_UNSET;
    s->deploy.restart_policy.max_attempts = COMPOSE_UNSET;
    s->deploy.restart_policy.window = COMPOSE_UNSET;
    update_config_unset(&s->deploy.update_config);
    update_config_unset(&s->deploy.rollback_config);
    s->deploy.max_replicas_per_node = COMPOSE_UNSET;
    s->scale = COMPOSE_UNSET;
    s->mem_limit = COMPOSE_UNSET;
    s->memswap_limit = COMPOSE_UNSET;
    s->mem_reservation = COMPOSE_UNSET;
    s->shm_size = COMPOSE_UNSET;
    s->cpu_shares = COMPOSE_UNSET;
    s->cpu_quota = COMPOSE_UNSET;
    s->cpu_period = COMPOSE_UNSET;
    s->pids_limit = COMPOSE_UNSET;
    s->cpu_count = COMPOSE_UNSET;
    s->cpu_percent = COMPOSE_UNSET;
    s->cpu_rt_period = COMPOSE_UNSET;
    s->cpu_rt_runtime = COMPOSE_UNSET;
    s->mem_swappiness = COMPOSE_UNSET;
    s->blkio_config.weight = COMPOSE_UNSET;
    return s;
}

struct compose_network *mb_network_add(struct compose_project *p, const char *key)
{
    assert(p->n_networks < MB_MAX_NETWORKS);
    struct compose_network *n = &p->networks[p->n_networks++];
    memset(n, 0, sizeof(*n));
    n->key = astr(p, key);
    n->name = arena_printf(&p->arena, "%s_%s", p->name, key);
    n->enable_ipv6 = COMPOSE_TRI_UNSET;
    return n;
}

struct compose_volume *mb_volume_add(struct compose_project *p, const char *key)
{
    assert(p->n_volumes < MB_MAX_VOLUMES);
    struct compose_volume *v = &p->volumes[p->n_volumes++];
    memset(v, 0, sizeof(*v));
    v->key = astr(p, key);
    v->name = arena_printf(&p->arena, "%s_%s", p->name, key);
    return v;
}

static struct compose_file_def *file_def_add(struct compose_project *p,
                                             struct compose_file_def **arr, size_t *n,
                                             const char *key, const char *file)
{
    struct compose_file_def *d = append(p, (void **)arr, n, sizeof(**arr));
    d->key = astr(p, key);
    d->name = arena_printf(&p->arena, "%s_%s", p->name, key);
    d->file = astr(p, file);
    return d;
}

struct compose_file_def *mb_secret_add(struct compose_project *p, const char *key, const char *file)
{
    return file_def_add(p, &p->secrets, &p->n_secrets, key, file);
}

struct compose_file_def *mb_config_add(struct compose_project *p, const char *key, const char *file)
{
    return file_def_add(p, &p->configs, &p->n_configs, key, file);
}

void mb_strv_add(struct compose_project *p, struct compose_strv *sv, const char *s)
{
    const char **slot = APPEND(p, sv->v, sv->n);
    *slot = astr(p, s);
}

static void strv_set_va(struct compose_project *p, struct compose_strv *sv, va_list ap)
{
    sv->v = NULL;
    sv->n = 0;
    for (const char *s; (s = va_arg(ap, const char *));)
        mb_strv_add(p, sv, s);
}

void mb_strv_set(struct compose_project *p, struct compose_strv *sv, ...)
{
    va_list ap;
    va_start(ap, sv);
    strv_set_va(p, sv, ap);
    va_end(ap);
}

void mb_kv_set(struct compose_project *p, struct compose_kvv *kvv, const char *key,
               const char *value)
{
    for (size_t i = 0; i < kvv->n; i++) {
        if (!strcmp(kvv->v[i].key, key)) {
            kvv->v[i].value = astr(p, value);
            return;
        }
    }
    struct compose_kv *kv = APPEND(p, kvv->v, kvv->n);
    kv->key = astr(p, key);
    kv->value = astr(p, value);
}

void mb_command(struct compose_project *p, struct compose_service *s, ...)
{
    va_list ap;
    va_start(ap, s);
    strv_set_va(p, &s->command, ap);
    va_end(ap);
    s->has_command = true;
}

void mb_entrypoint(struct compose_project *p, struct compose_service *s, ...)
{
    va_list ap;
    va_start(ap, s);
    strv_set_va(p, &s->entrypoint, ap);
    va_end(ap);
    s->has_entrypoint = true;
}

struct compose_port *mb_port_add(struct compose_project *p, struct compose_service *s,
                                 uint32_t target, const char *published, const char *host_ip,
                                 const char *protocol)
{
    struct compose_port *port = APPEND(p, s->ports, s->n_ports);
    port->target = target;
    port->target_end = target;
    port->published = astr(p, published);
    port->host_ip = astr(p, host_ip);
    port->protocol = astr(p, protocol ? protocol : "tcp");
    port->mode = "ingress";
    return port;
}

struct compose_mount *mb_mount_add(struct compose_project *p, struct compose_service *s,
                                   enum compose_mount_type type, const char *source,
                                   const char *target)
{
    struct compose_mount *m = APPEND(p, s->volumes, s->n_volumes);
    m->type = type;
    m->source = astr(p, source);
    m->target = astr(p, target);
    m->create_host_path = true;
    m->tmpfs_size = COMPOSE_UNSET;
    m->tmpfs_mode = COMPOSE_UNSET;
    return m;
}

struct compose_dependency *mb_depends_on(struct compose_project *p, struct compose_service *s,
                                         const char *service, enum compose_condition condition)
{
    struct compose_dependency *d = APPEND(p, s->depends_on, s->n_depends_on);
    d->service = astr(p, service);
    d->condition = condition;
    d->required = true;
    return d;
}

struct compose_service_network *mb_service_network(struct compose_project *p,
                                                   struct compose_service *s, const char *key)
{
    struct compose_service_network *n = APPEND(p, s->networks, s->n_networks);
    n->key = astr(p, key);
    return n;
}

struct compose_healthcheck *mb_healthcheck(struct compose_project *p, struct compose_service *s,
                                           ...)
{
    va_list ap;
    va_start(ap, s);
    strv_set_va(p, &s->healthcheck.test, ap);
    va_end(ap);
    s->healthcheck.set = true;
    s->healthcheck.disable =
        s->healthcheck.test.n == 1 && !strcmp(s->healthcheck.test.v[0], "NONE");
    return &s->healthcheck;
}

struct compose_ulimit *mb_ulimit_add(struct compose_project *p, struct compose_service *s,
                                     const char *name, int64_t soft, int64_t hard)
{
    struct compose_ulimit *u = APPEND(p, s->ulimits, s->n_ulimits);
    u->name = astr(p, name);
    u->soft = soft;
    u->hard = hard;
    return u;
}

struct compose_device *mb_device_add(struct compose_project *p, struct compose_service *s,
                                     const char *source, const char *target,
                                     const char *permissions)
{
    struct compose_device *d = APPEND(p, s->devices, s->n_devices);
    d->source = astr(p, source);
    d->target = astr(p, target ? target : source);
    d->permissions = astr(p, permissions ? permissions : "rwm");
    return d;
}

static struct compose_file_ref *file_ref_add(struct compose_project *p,
                                             struct compose_file_ref **arr, size_t *n,
                                             const char *source, const char *target)
{
    struct compose_file_ref *r = append(p, (void **)arr, n, sizeof(**arr));
    r->source = astr(p, source);
    r->target = astr(p, target);
    r->mode = COMPOSE_UNSET;
    return r;
}

struct compose_file_ref *mb_service_secret(struct compose_project *p, struct compose_service *s,
                                           const char *source, const char *target)
{
    struct compose_file_ref *r = file_ref_add(p, &s->secrets, &s->n_secrets, source, target);
    if (!target)
        r->target = arena_printf(&p->arena, "/run/secrets/%s", source);
    return r;
}

struct compose_file_ref *mb_service_config(struct compose_project *p, struct compose_service *s,
                                           const char *source, const char *target)
{
    struct compose_file_ref *r = file_ref_add(p, &s->configs, &s->n_configs, source, target);
    if (!target)
        r->target = arena_printf(&p->arena, "/%s", source);
    return r;
}

static int cmp_service(const void *a, const void *b)
{
    return strcmp(((const struct compose_service *)a)->name,
                  ((const struct compose_service *)b)->name);
}

static int cmp_network(const void *a, const void *b)
{
    return strcmp(((const struct compose_network *)a)->key,
                  ((const struct compose_network *)b)->key);
}

static int cmp_volume(const void *a, const void *b)
{
    return strcmp(((const struct compose_volume *)a)->key, ((const struct compose_volume *)b)->key);
}

static int cmp_file_def(const void *a, const void *b)
{
    return strcmp(((const struct compose_file_def *)a)->key,
                  ((const struct compose_file_def *)b)->key);
}

void mb_project_done(struct compose_project *p)
{
    for (size_t i = 0; i < p->n_services; i++) {
        struct compose_service *s = &p->services[i];
        if (s->n_networks == 0 && !s->network_mode) {
            mb_service_network(p, s, "default");
            if (!compose_project_network(p, "default"))
                mb_network_add(p, "default");
        }
        for (size_t k = 0; k < s->n_networks; k++) {
            for (size_t j = 0; j < p->n_networks; j++)
                if (!strcmp(p->networks[j].key, s->networks[k].key))
                    p->networks[j].used = true;
        }
    }
    qsort(p->services, p->n_services, sizeof(*p->services), cmp_service);
    qsort(p->networks, p->n_networks, sizeof(*p->networks), cmp_network);
    qsort(p->volumes, p->n_volumes, sizeof(*p->volumes), cmp_volume);
    if (p->n_secrets)
        qsort(p->secrets, p->n_secrets, sizeof(*p->secrets), cmp_file_def);
    if (p->n_configs)
        qsort(p->configs, p->n_configs, sizeof(*p->configs), cmp_file_def);
}
