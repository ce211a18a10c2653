/* The less common service keys: blkio_config, gpus and device requests, credential_spec, the
 * cpu_rt_* periods (microseconds or durations), cpu_count, cpu_percent, mem_swappiness, the
 * post_start and pre_stop hooks, and develop (kept for `config`; ccompose does not watch). */
#include <limits.h>
#include <string.h>

#include "compose/model-internal.h"
#include "compose/parse.h"

/* ---- numbers ---- */

int m_cpu_count(struct mctx *m, const struct cnode *n, void *dst)
{
    struct compose_service *s = dst;
    return m_int64(m, n, 0, INT64_MAX, &s->cpu_count);
}

int m_cpu_percent(struct mctx *m, const struct cnode *n, void *dst)
{
    struct compose_service *s = dst;
    return m_int(m, n, 0, 100, &s->cpu_percent);
}

int m_mem_swappiness(struct mctx *m, const struct cnode *n, void *dst)
{
    struct compose_service *s = dst;
    return m_int(m, n, 0, 100, &s->mem_swappiness);
}

/* cpu_rt_period and cpu_rt_runtime: microseconds as a number, or a duration ("400ms"), as
 * compose-go reads them. */
static int micros(struct mctx *m, const struct cnode *n, int64_t *ret)
{
    if (n->kind == CNODE_SCALAR && !cnode_is_null(n)) {
        const char *p = n->value + (n->value[0] == '-');
        if (*p && strspn(p, "0123456789") == strlen(p))
            return m_int64(m, n, 0, INT64_MAX, ret);
    }
    int64_t ns = COMPOSE_UNSET;
    int r = m_duration(m, n, &ns);
    if (r == 0 && ns < 0)
        return m_error(m, n, NULL, "'%s' must not be negative", m_path(m));
    if (r == 0)
        *ret = ns / 1000;
    return r;
}

int m_cpu_rt_period(struct mctx *m, const struct cnode *n, void *dst)
{
    struct compose_service *s = dst;
    return micros(m, n, &s->cpu_rt_period);
}

int m_cpu_rt_runtime(struct mctx *m, const struct cnode *n, void *dst)
{
    struct compose_service *s = dst;
    return micros(m, n, &s->cpu_rt_runtime);
}

/* ---- blkio_config ---- */

struct blkio_entry {
    const char *path;
    int64_t value;
    bool has_value;
};

static int f_blkio_weight_value(struct mctx *m, const struct cnode *n, void *dst)
{
    struct blkio_entry *e = dst;
    int r = m_int64(m, n, 10, 1000, &e->value);
    e->has_value = r == 0;
    return r;
}

static int f_blkio_rate(struct mctx *m, const struct cnode *n, void *dst)
{
    struct blkio_entry *e = dst;
    int r = m_size(m, n, &e->value);
    e->has_value = r == 0;
    return r;
}

static int f_blkio_iops(struct mctx *m, const struct cnode *n, void *dst)
{
    struct blkio_entry *e = dst;
    int r = m_int64(m, n, 0, INT64_MAX, &e->value);
    e->has_value = r == 0;
    return r;
}

/* What reads a blkio list's entries: the second key's name and reader. */
struct blkio_kind {
    const char *value_key;
    int (*value_fn)(struct mctx *, const struct cnode *, void *);
};

static int blkio_item(struct mctx *m, const struct cnode *it, void *slot, void *data)
{
    const struct blkio_kind *k = data;
    const struct mfield fields[] = {
        {"path", MF_STR, offsetof(struct blkio_entry, path), NULL},
        {k->value_key, MF_CUSTOM, 0, k->value_fn},
    };
    struct blkio_entry e = {0};
    if (m_fields(m, it, fields, CC_ARRAY_LEN(fields), &e, "a blkio_config entry") < 0)
        return -1;
    if (!e.path || !e.has_value)
        return m_error(m, it, NULL, "'%s' needs both path: and %s:", m_path(m), k->value_key);
    *(struct compose_blkio_device *)slot = (struct compose_blkio_device){e.path, e.value};
    return 1;
}

/* A list of {path, weight} or {path, rate}; value_key names the second key. */
static int blkio_list(struct mctx *m, const struct cnode *n, const char *value_key,
                      int (*value_fn)(struct mctx *, const struct cnode *, void *),
                      struct compose_blkio_list *ret)
{
    struct blkio_kind k = {value_key, value_fn};
    return m_seq(m, n, sizeof(*ret->v), &ret->v, &ret->n, blkio_item, &k);
}

static int f_weight_device(struct mctx *m, const struct cnode *n, void *dst)
{
    struct compose_blkio *b = dst;
    return blkio_list(m, n, "weight", f_blkio_weight_value, &b->weight_device);
}

static int f_read_bps(struct mctx *m, const struct cnode *n, void *dst)
{
    struct compose_blkio *b = dst;
    return blkio_list(m, n, "rate", f_blkio_rate, &b->device_read_bps);
}

static int f_write_bps(struct mctx *m, const struct cnode *n, void *dst)
{
    struct compose_blkio *b = dst;
    return blkio_list(m, n, "rate", f_blkio_rate, &b->device_write_bps);
}

static int f_read_iops(struct mctx *m, const struct cnode *n, void *dst)
{
    struct compose_blkio *b = dst;
    return blkio_list(m, n, "rate", f_blkio_iops, &b->device_read_iops);
}

static int f_write_iops(struct mctx *m, const struct cnode *n, void *dst)
{
    struct compose_blkio *b = dst;
    return blkio_list(m, n, "rate", f_blkio_iops, &b->device_write_iops);
}

static int f_blkio_weight(struct mctx *m, const struct cnode *n, void *dst)
{
    struct compose_blkio *b = dst;
    return m_int(m, n, 10, 1000, &b->weight);
}

int m_blkio_config(struct mctx *m, const struct cnode *n, void *dst)
{
    static const struct mfield fields[] = {
        {"weight", MF_CUSTOM, 0, f_blkio_weight},
        {"weight_device", MF_CUSTOM, 0, f_weight_device},
        {"device_read_bps", MF_CUSTOM, 0, f_read_bps},
        {"device_write_bps", MF_CUSTOM, 0, f_write_bps},
        {"device_read_iops", MF_CUSTOM, 0, f_read_iops},
        {"device_write_iops", MF_CUSTOM, 0, f_write_iops},
    };
    struct compose_service *s = dst;
    if (cnode_is_null(n))
        return 0;
    s->blkio_config.set = true;
    return m_fields(m, n, fields, CC_ARRAY_LEN(fields), &s->blkio_config, "blkio_config");
}

/* ---- credential_spec ---- */

int m_credential_spec(struct mctx *m, const struct cnode *n, void *dst)
{
    static const struct mfield fields[] = {
        {"config", MF_STR, offsetof(struct compose_credential_spec, config), NULL},
        {"file", MF_STR, offsetof(struct compose_credential_spec, file), NULL},
        {"registry", MF_STR, offsetof(struct compose_credential_spec, registry), NULL},
    };
    struct compose_service *s = dst;
    struct compose_credential_spec cs = {0};
    if (cnode_is_null(n))
        return 0;
    if (m_fields(m, n, fields, CC_ARRAY_LEN(fields), &cs, "credential_spec") < 0)
        return -1;
    if (!!cs.config + !!cs.file + !!cs.registry != 1)
        return m_error(m, n, "keep exactly one of config:, file: and registry:",
                       "'%s' must set exactly one of config, file and registry", m_path(m));
    s->credential_spec = cs;
    return 0;
}

/* ---- device requests ---- */

static int f_dev_count(struct mctx *m, const struct cnode *n, void *dst)
{
    struct compose_device_request *d = dst;
    if (n->kind == CNODE_SCALAR && strcmp(n->value, "all") == 0) {
        d->count_all = true;
        return 0;
    }
    if (n->kind == CNODE_SCALAR && strcmp(n->value, "-1") == 0) {
        d->count_all = true; /* the engine's spelling of all */
        return 0;
    }
    int64_t v;
    int r = m_int64(m, n, 0, INT_MAX, &v);
    if (r == 0)
        d->count = v;
    return r;
}

static const struct mfield device_request_fields[] = {
    {"driver", MF_STR, offsetof(struct compose_device_request, driver), NULL},
    {"count", MF_CUSTOM, 0, f_dev_count},
    {"device_ids", MF_LIST, offsetof(struct compose_device_request, device_ids), NULL},
    {"capabilities", MF_LIST, offsetof(struct compose_device_request, capabilities), NULL},
    {"options", MF_KVV, offsetof(struct compose_device_request, options), NULL},
};

static int device_request(struct mctx *m, const struct cnode *it, void *slot, void *data)
{
    (void)data;
    struct compose_device_request *d = slot;
    d->count = COMPOSE_UNSET;
    d->pos = m_pos(it);
    if (m_fields(m, it, device_request_fields, CC_ARRAY_LEN(device_request_fields), d,
                 "a device request") < 0)
        return -1;
    if (d->count != COMPOSE_UNSET && d->device_ids.n)
        return m_error(m, it, "keep count: or device_ids:", "'%s' sets both count and device_ids",
                       m_path(m));
    return 1;
}

int m_device_requests(struct mctx *m, const struct cnode *n, struct compose_device_request **ret,
                      size_t *ret_n)
{
    return m_seq(m, n, sizeof(**ret), ret, ret_n, device_request, NULL);
}

/* gpus: `all`, or a list of device requests (their capability "gpu" is implied). */
int m_gpus(struct mctx *m, const struct cnode *n, void *dst)
{
    struct compose_service *s = dst;
    if (cnode_is_null(n))
        return 0;
    if (n->kind == CNODE_SCALAR) {
        if (strcmp(n->value, "all") != 0)
            return m_error(m, n, "write `gpus: all` or a list of device requests",
                           "'%s' must be 'all' or a list, not '%s'", m_path(m), n->value);
        s->gpus = m_array(m, 1, sizeof(*s->gpus));
        s->gpus[0] = (struct compose_device_request){.count_all = true,
                                                     .count = COMPOSE_UNSET,
                                                     .pos = m_pos(n)};
        s->n_gpus = 1;
        s->gpus_all = true;
        return 0;
    }
    return m_device_requests(m, n, &s->gpus, &s->n_gpus);
}

/* ---- hooks ---- */

static int f_hook_command(struct mctx *m, const struct cnode *n, void *dst)
{
    struct compose_hook *h = dst;
    bool has = false;
    return m_command(m, n, &has, &h->command);
}

static const struct mfield hook_fields[] = {
    {"command", MF_CUSTOM, 0, f_hook_command},
    {"user", MF_STR, offsetof(struct compose_hook, user), NULL},
    {"privileged", MF_BOOL, offsetof(struct compose_hook, privileged), NULL},
    {"working_dir", MF_STR, offsetof(struct compose_hook, working_dir), NULL},
    {"environment", MF_ENV, offsetof(struct compose_hook, environment), NULL},
};

static int hook(struct mctx *m, const struct cnode *n, struct compose_hook *h)
{
    h->pos = m_pos(n);
    if (m_fields(m, n, hook_fields, CC_ARRAY_LEN(hook_fields), h, "a hook") < 0)
        return -1;
    if (!h->command.n)
        return m_error(m, n, "add `command:` with what to run in the container",
                       "'%s' has no command", m_path(m));
    return 0;
}

static int hook_item(struct mctx *m, const struct cnode *it, void *slot, void *data)
{
    (void)data;
    return hook(m, it, slot) < 0 ? -1 : 1;
}

static int hooks(struct mctx *m, const struct cnode *n, struct compose_hook **ret, size_t *ret_n)
{
    return m_seq(m, n, sizeof(**ret), ret, ret_n, hook_item, NULL);
}

int m_post_start(struct mctx *m, const struct cnode *n, void *dst)
{
    struct compose_service *s = dst;
    return hooks(m, n, &s->post_start, &s->n_post_start);
}

int m_pre_stop(struct mctx *m, const struct cnode *n, void *dst)
{
    struct compose_service *s = dst;
    return hooks(m, n, &s->pre_stop, &s->n_pre_stop);
}

/* ---- develop ---- */

static int f_watch_action(struct mctx *m, const struct cnode *n, void *dst)
{
    static const char *const ok[] = {"rebuild", "sync", "restart", "sync+restart", "sync+exec"};
    struct compose_watch *w = dst;
    return m_enum(m, n, ok, CC_ARRAY_LEN(ok), "a watch action",
                  "use rebuild, sync, restart, sync+restart or sync+exec", &w->action);
}

static int f_watch_exec(struct mctx *m, const struct cnode *n, void *dst)
{
    struct compose_watch *w = dst;
    if (cnode_is_null(n))
        return 0;
    return hook(m, n, &w->exec);
}

static const struct mfield watch_fields[] = {
    {"path", MF_STR, offsetof(struct compose_watch, path), NULL},
    {"action", MF_CUSTOM, 0, f_watch_action},
    {"target", MF_STR, offsetof(struct compose_watch, target), NULL},
    {"ignore", MF_STRV, offsetof(struct compose_watch, ignore), NULL},
    {"include", MF_STRV, offsetof(struct compose_watch, include), NULL},
    {"initial_sync", MF_BOOL, offsetof(struct compose_watch, initial_sync), NULL},
    {"exec", MF_CUSTOM, 0, f_watch_exec},
};

static int watch_rule(struct mctx *m, const struct cnode *it, void *slot, void *data)
{
    (void)data;
    struct compose_watch *w = slot;
    w->pos = m_pos(it);
    if (m_fields(m, it, watch_fields, CC_ARRAY_LEN(watch_fields), w, "a watch rule") < 0)
        return -1;
    if (!w->path || !w->action)
        return m_error(m, it, "give the rule a path: and an action:",
                       "'%s' needs path and action", m_path(m));
    if (w->path[0] != '/' && !m->ctx->opts->no_normalize)
        w->path = parse_path_join(m->a, m->ctx->project->working_dir, w->path);
    return 1;
}

static int f_watch(struct mctx *m, const struct cnode *n, void *dst)
{
    struct compose_service *s = dst;
    return m_seq(m, n, sizeof(*s->develop_watch), &s->develop_watch, &s->n_develop_watch,
                 watch_rule, NULL);
}

int m_develop(struct mctx *m, const struct cnode *n, void *dst)
{
    static const struct mfield fields[] = {
        {"watch", MF_CUSTOM, 0, f_watch},
    };
    struct compose_service *s = dst;
    if (cnode_is_null(n))
        return 0;
    s->has_develop = true;
    if (!m->warned_develop) {
        m->warned_develop = true;
        m_warning(m, n, "'develop' is not supported: ccompose does not watch files, ignoring");
    }
    return m_fields(m, n, fields, CC_ARRAY_LEN(fields), s, "develop");
}
