/* One service of the merged tree to struct compose_service: every key checked, short forms made
 * long (ports, volumes, depends_on, networks, secrets, devices, ulimits, healthcheck.test),
 * command strings split as a shell would, env_file read and merged under environment. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "compose/assemble-internal.h"
#include "compose/model-internal.h"
#include "compose/parse.h"

#define SVC(field) offsetof(struct compose_service, field)

void m_service_defaults(struct compose_service *s)
{
    s->stop_grace_period = COMPOSE_UNSET;
    s->healthcheck.interval = COMPOSE_UNSET;
    s->healthcheck.timeout = COMPOSE_UNSET;
    s->healthcheck.start_period = COMPOSE_UNSET;
    s->healthcheck.start_interval = COMPOSE_UNSET;
    s->healthcheck.retries = COMPOSE_UNSET;
    s->deploy.replicas = COMPOSE_UNSET;
    s->deploy.limits.memory = COMPOSE_UNSET;
    s->deploy.limits.pids = COMPOSE_UNSET;
    s->deploy.reservations.memory = COMPOSE_UNSET;
    s->deploy.reservations.pids = COMPOSE_UNSET;
    s->deploy.restart_policy.delay = COMPOSE_UNSET;
    s->deploy.restart_policy.max_attempts = COMPOSE_UNSET;
    s->deploy.restart_policy.window = COMPOSE_UNSET;
    s->deploy.update_config.parallelism = COMPOSE_UNSET;
    s->deploy.rollback_config.parallelism = COMPOSE_UNSET;
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
}

/* ---- command, entrypoint ---- */

int m_command(struct mctx *m, const struct cnode *n, bool *has, struct compose_strv *ret)
{
    if (n->kind == CNODE_SCALAR && cnode_is_null(n))
        return 0;
    if (n->kind == CNODE_SCALAR) {
        const char **words;
        size_t nwords;
        struct cc_error e = CC_ERROR_INIT;
        int r = parse_command_line(m->a, n->value, &words, &nwords, &e);
        if (r < 0)
            m_error_from(m, n, &e);
        cc_error_release(&e);
        if (r < 0)
            return -1;
        ret->v = words;
        ret->n = nwords;
        *has = true;
        return 0;
    }
    if (m_strv(m, n, false, ret) < 0)
        return -1;
    *has = true;
    return 0;
}

static int f_command(struct mctx *m, const struct cnode *n, void *dst)
{
    struct compose_service *s = dst;
    return m_command(m, n, &s->has_command, &s->command);
}

static int f_entrypoint(struct mctx *m, const struct cnode *n, void *dst)
{
    struct compose_service *s = dst;
    return m_command(m, n, &s->has_entrypoint, &s->entrypoint);
}

/* ---- ports ---- */

static int port_number(struct mctx *m, const struct cnode *n, uint32_t *ret)
{
    int v;
    int r = m_int(m, n, 1, 65535, &v);
    if (r == 0)
        *ret = (uint32_t)v;
    return r;
}

static int f_target(struct mctx *m, const struct cnode *n, void *dst)
{
    struct compose_port *p = dst;
    return port_number(m, n, &p->target);
}

static const struct mfield port_fields[] = {
    {"name", MF_STR, offsetof(struct compose_port, name), NULL},
    {"target", MF_CUSTOM, 0, f_target},
    {"published", MF_STR, offsetof(struct compose_port, published), NULL},
    {"host_ip", MF_STR, offsetof(struct compose_port, host_ip), NULL},
    {"protocol", MF_STR, offsetof(struct compose_port, protocol), NULL},
    {"mode", MF_STR, offsetof(struct compose_port, mode), NULL},
    {"app_protocol", MF_STR, offsetof(struct compose_port, app_protocol), NULL},
};

/* "N" or "N-M", ports from 1 to 65535, N <= M. */
static bool published_ok(const char *s)
{
    char *end;
    errno = 0;
    long lo = strtol(s, &end, 10), hi = lo;
    if (end == s || *s == '-' || *s == '+')
        return false;
    if (*end == '-') {
        const char *h = end + 1;
        if (*h == '-' || *h == '+')
            return false;
        hi = strtol(h, &end, 10);
        if (end == h)
            return false;
    }
    return !*end && !errno && lo >= 1 && hi <= 65535 && lo <= hi;
}

/* Makes room for `more` ports (a short range expands to many). */
static void ports_room(struct mctx *m, struct compose_service *s, size_t *cap, size_t more)
{
    if (s->n_ports + more <= *cap)
        return;
    *cap = s->n_ports + more;
    struct compose_port *v = m_array(m, *cap, sizeof(*v));
    if (s->n_ports)
        memcpy(v, s->ports, s->n_ports * sizeof(*v));
    s->ports = v;
}

static int f_ports(struct mctx *m, const struct cnode *n, void *dst)
{
    struct compose_service *s = dst;
    if (cnode_is_null(n))
        return 0;
    if (m_want_seq(m, n) < 0)
        return -1;
    int r = 0;
    size_t cap = n->nitems;
    s->ports = m_array(m, cap, sizeof(*s->ports));
    for (size_t i = 0; i < n->nitems; i++) {
        const struct cnode *it = n->items[i];
        cnode_path_push_index(&m->path, i);
        if (it->kind == CNODE_SCALAR && !cnode_is_null(it)) {
            struct parse_port *pp;
            size_t np;
            struct cc_error e = CC_ERROR_INIT;
            if (parse_port_spec(m->a, it->value, &pp, &np, &e) < 0) {
                r = m_error_from(m, it, &e);
            } else {
                ports_room(m, s, &cap, np + n->nitems);
                for (size_t j = 0; j < np; j++) {
                    struct compose_port *p = &s->ports[s->n_ports++];
                    p->target = pp[j].target;
                    p->target_end = pp[j].target;
                    p->published = *pp[j].published ? pp[j].published : NULL;
                    p->host_ip = *pp[j].host_ip ? pp[j].host_ip : NULL;
                    p->protocol = pp[j].protocol;
                    p->mode = pp[j].mode;
                    p->pos = m_pos(it);
                }
            }
            cc_error_release(&e);
        } else if (it->kind == CNODE_MAPPING) {
            struct compose_port p = {0};
            p.pos = m_pos(it);
            if (m_fields(m, it, port_fields, CC_ARRAY_LEN(port_fields), &p, "a port") < 0) {
                r = -1;
            } else if (!p.target) {
                r = m_error(m, it, "add `target:` with the container's port",
                            "'%s' has no target port", m_path(m));
            } else {
                p.target_end = p.target;
                if (!p.protocol)
                    p.protocol = "tcp";
                if (!p.mode)
                    p.mode = "ingress";
                if (p.published && !*p.published)
                    p.published = NULL;
                if (p.published && !published_ok(p.published))
                    r = m_error(m, cnode_get(it, "published"),
                                "write a port from 1 to 65535 or a range like 8000-8010",
                                "'%s.published' is not a port or a port range: '%s'", m_path(m),
                                p.published);
                ports_room(m, s, &cap, 1 + n->nitems);
                s->ports[s->n_ports++] = p;
            }
        } else {
            r = m_error(m, it, NULL, "'%s' must be a port string or a mapping, not a %s", m_path(m),
                        m_kind_name(it));
        }
        cnode_path_pop(&m->path);
    }
    return r;
}

/* ---- volumes ---- */

struct mount_dst {
    struct compose_mount *mt;
    const char *type;
};

static int f_bind(struct mctx *m, const struct cnode *n, void *dst)
{
    struct compose_mount *mt = dst;
    static const struct mfield fields[] = {
        {"propagation", MF_STR, offsetof(struct compose_mount, propagation), NULL},
        {"create_host_path", MF_BOOL, offsetof(struct compose_mount, create_host_path), NULL},
        {"selinux", MF_STR, offsetof(struct compose_mount, selinux), NULL},
    };
    return m_fields(m, n, fields, CC_ARRAY_LEN(fields), mt, "a bind mount's options");
}

static int f_volume_opts(struct mctx *m, const struct cnode *n, void *dst)
{
    static const struct mfield fields[] = {
        {"nocopy", MF_BOOL, offsetof(struct compose_mount, nocopy), NULL},
        {"subpath", MF_STR, offsetof(struct compose_mount, subpath), NULL},
    };
    return m_fields(m, n, fields, CC_ARRAY_LEN(fields), dst, "a volume mount's options");
}

static int f_tmpfs_mode(struct mctx *m, const struct cnode *n, void *dst)
{
    struct compose_mount *mt = dst;
    return m_int(m, n, 0, 07777, &mt->tmpfs_mode);
}

static int f_tmpfs_opts(struct mctx *m, const struct cnode *n, void *dst)
{
    static const struct mfield fields[] = {
        {"size", MF_SIZE, offsetof(struct compose_mount, tmpfs_size), NULL},
        {"mode", MF_CUSTOM, 0, f_tmpfs_mode},
    };
    return m_fields(m, n, fields, CC_ARRAY_LEN(fields), dst, "a tmpfs mount's options");
}

static int f_image_opts(struct mctx *m, const struct cnode *n, void *dst)
{
    static const struct mfield fields[] = {
        {"subpath", MF_STR, offsetof(struct compose_mount, image_subpath), NULL},
    };
    return m_fields(m, n, fields, CC_ARRAY_LEN(fields), dst, "an image mount's options");
}

static int f_mount_type(struct mctx *m, const struct cnode *n, void *dst)
{
    static const char *const types[] = {"volume", "bind", "tmpfs", "npipe", "cluster", "image"};
    struct compose_mount *mt = dst;
    const char *t = NULL;
    int r = m_str(m, n, &t);
    if (r)
        return r;
    for (size_t i = 0; i < CC_ARRAY_LEN(types); i++) {
        if (strcmp(t, types[i]) == 0) {
            mt->type = (enum compose_mount_type)i;
            return 0;
        }
    }
    return m_error(m, n, "use volume, bind, tmpfs, npipe, cluster or image",
                   "'%s' is not a mount type: '%s'", m_path(m), t);
}

static const struct mfield mount_fields[] = {
    {"type", MF_CUSTOM, 0, f_mount_type},
    {"source", MF_STR, offsetof(struct compose_mount, source), NULL},
    {"target", MF_STR, offsetof(struct compose_mount, target), NULL},
    {"read_only", MF_BOOL, offsetof(struct compose_mount, read_only), NULL},
    {"consistency", MF_STR, offsetof(struct compose_mount, consistency), NULL},
    {"bind", MF_CUSTOM, 0, f_bind},
    {"volume", MF_CUSTOM, 0, f_volume_opts},
    {"tmpfs", MF_CUSTOM, 0, f_tmpfs_opts},
    {"image", MF_CUSTOM, 0, f_image_opts},
};

static const char *home_dir(struct mctx *m)
{
    const char *v = NULL;
    const struct interp_env *env = &m->ctx->env;
    if (env->lookup && env->lookup(env->data, "HOME", &v))
        return arena_strdup(m->a, v);
    return NULL;
}

/* One entry of volumes: the short "SRC:DST:MODE" string or the long mapping. */
static int volume_item(struct mctx *m, const struct cnode *it, void *slot, void *data)
{
    (void)data;
    struct compose_mount *mt = slot;
    mt->create_host_path = true;
    mt->tmpfs_size = COMPOSE_UNSET;
    mt->tmpfs_mode = COMPOSE_UNSET;
    mt->pos = m_pos(it);
    if (it->kind == CNODE_SCALAR && !cnode_is_null(it)) {
        struct parse_volume pv;
        struct cc_error e = CC_ERROR_INIT;
        if (parse_volume_spec(m->a, it->value, m->ctx->project->working_dir, home_dir(m), &pv,
                              &e) < 0) {
            int r = m_error_from(m, it, &e);
            cc_error_release(&e);
            return r;
        }
        mt->type = pv.type == PARSE_VOLUME_BIND ? COMPOSE_MOUNT_BIND : COMPOSE_MOUNT_VOLUME;
        mt->source = pv.source;
        /* --no-path-resolution: a relative bind source stays as written. */
        if (m->ctx->opts->no_normalize && mt->type == COMPOSE_MOUNT_BIND && it->value[0] != '/' &&
            strchr(it->value, ':'))
            mt->source = arena_strndup(m->a, it->value, strcspn(it->value, ":"));
        mt->target = pv.target;
        mt->read_only = pv.read_only;
        mt->nocopy = pv.nocopy;
        mt->propagation = pv.propagation;
        mt->create_host_path = pv.create_host_path;
        if (pv.selinux)
            mt->selinux = pv.selinux == 'z' ? "z" : "Z";
        cc_error_release(&e);
        return 1;
    }
    if (it->kind != CNODE_MAPPING)
        return m_error(m, it, NULL, "'%s' must be a volume string or a mapping, not a %s",
                       m_path(m), m_kind_name(it));
    if (m_fields(m, it, mount_fields, CC_ARRAY_LEN(mount_fields), mt, "a volume") < 0)
        return -1;
    if (!cnode_get(it, "type"))
        return m_error(m, it, "add `type: volume`, `bind` or `tmpfs`", "'%s' has no type",
                       m_path(m));
    if (!mt->target)
        return m_error(m, it, "add `target:` with the path in the container",
                       "'%s' has no target", m_path(m));
    if (mt->type == COMPOSE_MOUNT_BIND && !mt->source)
        return m_error(m, it, "add `source:` with the host path", "'%s' has no source",
                       m_path(m));
    if (mt->type == COMPOSE_MOUNT_BIND && mt->source[0] != '/' &&
        !parse_path_is_windows(mt->source) && !m->ctx->opts->no_normalize)
        mt->source = parse_path_join(m->a, m->ctx->project->working_dir, mt->source);
    if (mt->type == COMPOSE_MOUNT_TMPFS && mt->source)
        return m_error(m, it, "remove `source:`", "'%s' is a tmpfs and takes no source",
                       m_path(m));
    return 1;
}

static int f_volumes(struct mctx *m, const struct cnode *n, void *dst)
{
    struct compose_service *s = dst;
    return m_seq(m, n, sizeof(*s->volumes), &s->volumes, &s->n_volumes, volume_item, NULL);
}

/* ---- depends_on ---- */

static int f_condition(struct mctx *m, const struct cnode *n, void *dst)
{
    struct compose_dependency *d = dst;
    const char *c = NULL;
    int r = m_str(m, n, &c);
    if (r)
        return r;
    if (strcmp(c, "service_started") == 0)
        d->condition = COMPOSE_COND_STARTED;
    else if (strcmp(c, "service_healthy") == 0)
        d->condition = COMPOSE_COND_HEALTHY;
    else if (strcmp(c, "service_completed_successfully") == 0)
        d->condition = COMPOSE_COND_COMPLETED_SUCCESSFULLY;
    else
        return m_error(m, n,
                       "use service_started, service_healthy or service_completed_successfully",
                       "'%s' is not a condition: '%s'", m_path(m), c);
    return 0;
}

static const struct mfield dep_fields[] = {
    {"condition", MF_CUSTOM, 0, f_condition},
    {"restart", MF_BOOL, offsetof(struct compose_dependency, restart), NULL},
    {"required", MF_BOOL, offsetof(struct compose_dependency, required), NULL},
};

static int f_depends_on(struct mctx *m, const struct cnode *n, void *dst)
{
    struct compose_service *s = dst;
    if (cnode_is_null(n))
        return 0;
    int r = 0;
    if (n->kind == CNODE_SEQUENCE) {
        s->depends_on = m_array(m, n->nitems, sizeof(*s->depends_on));
        for (size_t i = 0; i < n->nitems; i++) {
            const struct cnode *it = n->items[i];
            cnode_path_push_index(&m->path, i);
            if (it->kind != CNODE_SCALAR || cnode_is_null(it))
                r = m_error(m, it, NULL, "'%s' must be a service name, not a %s", m_path(m),
                            m_kind_name(it));
            else
                s->depends_on[s->n_depends_on++] = (struct compose_dependency){
                    it->value, COMPOSE_COND_STARTED, false, true, m_pos(it)};
            cnode_path_pop(&m->path);
        }
        return r;
    }
    if (n->kind != CNODE_MAPPING)
        return m_error(m, n, NULL, "'%s' must be a list or a mapping of services, not a %s",
                       m_path(m), m_kind_name(n));
    s->depends_on = m_array(m, n->npairs, sizeof(*s->depends_on));
    for (size_t i = 0; i < n->npairs; i++) {
        const struct cnode *k = n->pairs[i].key, *v = n->pairs[i].value;
        struct compose_dependency d = {k->value, COMPOSE_COND_STARTED, false, true, m_pos(k)};
        cnode_path_push_key(&m->path, k->value);
        if (m_fields(m, v, dep_fields, CC_ARRAY_LEN(dep_fields), &d, "a dependency") < 0)
            r = -1;
        else
            s->depends_on[s->n_depends_on++] = d;
        cnode_path_pop(&m->path);
    }
    return r;
}

/* ---- networks ---- */

static int f_net_priority(struct mctx *m, const struct cnode *n, void *dst)
{
    struct compose_service_network *sn = dst;
    return m_int(m, n, INT_MIN, INT_MAX, &sn->priority);
}

/* Newer than the API ccompose speaks (1.41): modelled and printed, warned about. */
static void newer_api(struct mctx *m, const struct cnode *n, const char *version)
{
    m_warning(m, n, "'%s' needs Docker Engine API %s; ccompose speaks 1.41, ignoring", m_path(m),
              version);
}

static int f_gw_priority(struct mctx *m, const struct cnode *n, void *dst)
{
    struct compose_service_network *sn = dst;
    int r = m_int(m, n, INT_MIN, INT_MAX, &sn->gw_priority);
    if (r == 0 && sn->gw_priority)
        newer_api(m, n, "1.48");
    return r;
}

static int f_interface_name(struct mctx *m, const struct cnode *n, void *dst)
{
    struct compose_service_network *sn = dst;
    int r = m_str(m, n, &sn->interface_name);
    if (r == 0)
        newer_api(m, n, "1.49");
    return r;
}

static const struct mfield net_fields[] = {
    {"aliases", MF_LIST, offsetof(struct compose_service_network, aliases), NULL},
    {"ipv4_address", MF_STR, offsetof(struct compose_service_network, ipv4_address), NULL},
    {"ipv6_address", MF_STR, offsetof(struct compose_service_network, ipv6_address), NULL},
    {"link_local_ips", MF_LIST, offsetof(struct compose_service_network, link_local_ips), NULL},
    {"mac_address", MF_STR, offsetof(struct compose_service_network, mac_address), NULL},
    {"priority", MF_CUSTOM, 0, f_net_priority},
    {"gw_priority", MF_CUSTOM, 0, f_gw_priority},
    {"interface_name", MF_CUSTOM, 0, f_interface_name},
    {"driver_opts", MF_KVV, offsetof(struct compose_service_network, driver_opts), NULL},
};

static int cmp_net(const void *pa, const void *pb)
{
    const struct compose_service_network *a = pa, *b = pb;
    if (a->priority != b->priority)
        return a->priority > b->priority ? -1 : 1;
    return strcmp(a->key, b->key);
}

static int f_networks(struct mctx *m, const struct cnode *n, void *dst)
{
    struct compose_service *s = dst;
    if (cnode_is_null(n))
        return 0;
    int r = 0;
    if (n->kind == CNODE_SEQUENCE) {
        s->networks = m_array(m, n->nitems, sizeof(*s->networks));
        for (size_t i = 0; i < n->nitems; i++) {
            const struct cnode *it = n->items[i];
            cnode_path_push_index(&m->path, i);
            if (it->kind != CNODE_SCALAR || cnode_is_null(it))
                r = m_error(m, it, NULL, "'%s' must be a network name, not a %s", m_path(m),
                            m_kind_name(it));
            else
                s->networks[s->n_networks++] =
                    (struct compose_service_network){.key = it->value, .pos = m_pos(it)};
            cnode_path_pop(&m->path);
        }
    } else if (n->kind == CNODE_MAPPING) {
        s->networks = m_array(m, n->npairs, sizeof(*s->networks));
        for (size_t i = 0; i < n->npairs; i++) {
            const struct cnode *k = n->pairs[i].key, *v = n->pairs[i].value;
            struct compose_service_network sn = {.key = k->value, .pos = m_pos(k)};
            cnode_path_push_key(&m->path, k->value);
            if (m_fields(m, v, net_fields, CC_ARRAY_LEN(net_fields), &sn, "a service network") < 0)
                r = -1;
            else
                s->networks[s->n_networks++] = sn;
            cnode_path_pop(&m->path);
        }
    } else {
        return m_error(m, n, NULL, "'%s' must be a list or a mapping of networks, not a %s",
                       m_path(m), m_kind_name(n));
    }
    if (s->n_networks > 1)
        qsort(s->networks, s->n_networks, sizeof(*s->networks), cmp_net);
    return r;
}

/* ---- healthcheck ---- */

static int f_hc_test(struct mctx *m, const struct cnode *n, void *dst)
{
    struct compose_healthcheck *h = dst;
    if (n->kind == CNODE_SCALAR && cnode_is_null(n))
        return 0;
    if (n->kind == CNODE_SCALAR) {
        h->test.v = m_array(m, 2, sizeof(*h->test.v));
        h->test.v[0] = "CMD-SHELL";
        h->test.v[1] = n->value;
        h->test.n = 2;
        return 0;
    }
    struct compose_strv sv = {0};
    if (m_strv(m, n, false, &sv) < 0)
        return -1;
    if (sv.n == 0 ||
        (strcmp(sv.v[0], "CMD") && strcmp(sv.v[0], "CMD-SHELL") && strcmp(sv.v[0], "NONE")))
        return m_error(m, n, "start the list with CMD, CMD-SHELL or NONE, or write a string",
                       "'%s' must start with CMD, CMD-SHELL or NONE", m_path(m));
    h->test = sv;
    if (strcmp(sv.v[0], "NONE") == 0)
        h->disable = true;
    return 0;
}

static int f_hc_retries(struct mctx *m, const struct cnode *n, void *dst)
{
    struct compose_healthcheck *h = dst;
    return m_int(m, n, 0, INT_MAX, &h->retries);
}

static int f_healthcheck(struct mctx *m, const struct cnode *n, void *dst)
{
    static const struct mfield fields[] = {
        {"test", MF_CUSTOM, 0, f_hc_test},
        {"disable", MF_BOOL, offsetof(struct compose_healthcheck, disable), NULL},
        {"interval", MF_DURATION, offsetof(struct compose_healthcheck, interval), NULL},
        {"timeout", MF_DURATION, offsetof(struct compose_healthcheck, timeout), NULL},
        {"start_period", MF_DURATION, offsetof(struct compose_healthcheck, start_period), NULL},
        {"start_interval", MF_DURATION, offsetof(struct compose_healthcheck, start_interval), NULL},
        {"retries", MF_CUSTOM, 0, f_hc_retries},
    };
    struct compose_service *s = dst;
    if (cnode_is_null(n))
        return 0;
    s->healthcheck.pos = m_pos(n);
    int r = m_fields(m, n, fields, CC_ARRAY_LEN(fields), &s->healthcheck, "healthcheck");
    if (r == 0) {
        s->healthcheck.set = true;
        if (s->healthcheck.disable && s->healthcheck.test.n &&
            strcmp(s->healthcheck.test.v[0], "NONE") != 0)
            r = m_error(m, n, "remove `test:` or `disable: true`",
                        "'%s' sets both a test and disable: true", m_path(m));
    }
    return r;
}

/* ---- small long forms ---- */

int m_ulimits(struct mctx *m, const struct cnode *n, struct compose_ulimit **ret, size_t *ret_n)
{
    if (cnode_is_null(n))
        return 0;
    if (m_want_map(m, n) < 0)
        return -1;
    int r = 0;
    struct compose_ulimit *ulimits = m_array(m, n->npairs, sizeof(*ulimits));
    size_t n_ulimits = 0;
    for (size_t i = 0; i < n->npairs; i++) {
        const struct cnode *k = n->pairs[i].key, *v = n->pairs[i].value;
        struct compose_ulimit u = {k->value, 0, 0};
        int rr = 0;
        cnode_path_push_key(&m->path, k->value);
        if (v->kind == CNODE_MAPPING) {
            const struct cnode *soft = cnode_get(v, "soft"), *hard = cnode_get(v, "hard");
            for (size_t j = 0; j < v->npairs; j++)
                if (strcmp(v->pairs[j].key->value, "soft") &&
                    strcmp(v->pairs[j].key->value, "hard"))
                    rr = m_error(m, v->pairs[j].key,
                                 "use soft: and hard:", "unknown key '%s' in ulimit '%s'",
                                 v->pairs[j].key->value, k->value);
            if (!soft || !hard)
                rr = m_error(m, v, "give both soft: and hard:", "ulimit '%s' needs soft and hard",
                             k->value);
            else if (m_int64(m, soft, -1, INT64_MAX, &u.soft) != 0 ||
                     m_int64(m, hard, -1, INT64_MAX, &u.hard) != 0)
                rr = -1;
        } else if (m_int64(m, v, -1, INT64_MAX, &u.soft) != 0) {
            rr = -1;
        } else {
            u.hard = u.soft;
        }
        if (rr == 0)
            ulimits[n_ulimits++] = u;
        else
            r = -1;
        cnode_path_pop(&m->path);
    }
    *ret = ulimits;
    *ret_n = n_ulimits;
    return r;
}

static int f_ulimits(struct mctx *m, const struct cnode *n, void *dst)
{
    struct compose_service *s = dst;
    return m_ulimits(m, n, &s->ulimits, &s->n_ulimits);
}

static int f_devices(struct mctx *m, const struct cnode *n, void *dst)
{
    static const struct mfield fields[] = {
        {"source", MF_STR, offsetof(struct compose_device, source), NULL},
        {"target", MF_STR, offsetof(struct compose_device, target), NULL},
        {"permissions", MF_STR, offsetof(struct compose_device, permissions), NULL},
    };
    struct compose_service *s = dst;
    if (cnode_is_null(n))
        return 0;
    if (m_want_seq(m, n) < 0)
        return -1;
    int r = 0;
    s->devices = m_array(m, n->nitems, sizeof(*s->devices));
    for (size_t i = 0; i < n->nitems; i++) {
        const struct cnode *it = n->items[i];
        struct compose_device d = {0};
        cnode_path_push_index(&m->path, i);
        if (it->kind == CNODE_MAPPING) {
            if (m_fields(m, it, fields, CC_ARRAY_LEN(fields), &d, "a device") < 0)
                r = -1;
            else if (!d.source)
                r = m_error(m, it, "add `source:`", "'%s' has no source", m_path(m));
        } else if (it->kind == CNODE_SCALAR && !cnode_is_null(it)) {
            /* "src[:dst[:perms]]" */
            const char *c1 = strchr(it->value, ':');
            const char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
            d.source = c1 ? arena_strndup(m->a, it->value, (size_t)(c1 - it->value)) : it->value;
            if (c1)
                d.target = c2 ? arena_strndup(m->a, c1 + 1, (size_t)(c2 - c1 - 1)) : c1 + 1;
            if (c2)
                d.permissions = c2 + 1;
        } else {
            r = m_error(m, it, NULL, "'%s' must be a device string or a mapping, not a %s",
                        m_path(m), m_kind_name(it));
        }
        if (d.source) {
            if (!d.target)
                d.target = d.source;
            if (!d.permissions)
                d.permissions = "rwm";
            s->devices[s->n_devices++] = d;
        }
        cnode_path_pop(&m->path);
    }
    return r;
}

/* One "HOST=IP[,IP...]" or "HOST:IP" item, added to out as the engine's "HOST:IP" entries. */
static int add_extra_host(struct mctx *m, const struct cnode *at, const char *item,
                          struct compose_strv *out)
{
    const char *host, **ips;
    size_t nips;
    struct cc_error e = CC_ERROR_INIT;
    int r = parse_extra_host(m->a, item, &host, &ips, &nips, &e);
    if (r < 0)
        m_error_from(m, at, &e);
    else
        for (size_t j = 0; j < nips; j++)
            m_strv_add(m, out, arena_printf(m->a, "%s:%s", host, ips[j]));
    cc_error_release(&e);
    return r;
}

int m_extra_hosts(struct mctx *m, const struct cnode *n, struct compose_strv *out)
{
    if (cnode_is_null(n))
        return 0;
    int r = 0;
    if (n->kind == CNODE_MAPPING) {
        for (size_t i = 0; i < n->npairs; i++) {
            const struct cnode *k = n->pairs[i].key, *v = n->pairs[i].value;
            struct compose_strv ips = {0};
            cnode_path_push_key(&m->path, k->value);
            if (m_strv(m, v, true, &ips) < 0)
                r = -1;
            /* Read as the list form's "HOST=IP" is, with the same checks. */
            for (size_t j = 0; j < ips.n; j++)
                if (add_extra_host(m, v, arena_printf(m->a, "%s=%s", k->value, ips.v[j]), out) < 0)
                    r = -1;
            cnode_path_pop(&m->path);
        }
        return r;
    }
    if (m_want_seq(m, n) < 0)
        return -1;
    for (size_t i = 0; i < n->nitems; i++) {
        const struct cnode *it = n->items[i];
        cnode_path_push_index(&m->path, i);
        if (it->kind != CNODE_SCALAR || cnode_is_null(it)) {
            r = m_error(m, it, NULL, "'%s' must be a host:ip string, not a %s", m_path(m),
                        m_kind_name(it));
        } else if (add_extra_host(m, it, it->value, out) < 0) {
            r = -1;
        }
        cnode_path_pop(&m->path);
    }
    return r;
}

static int f_svc_extra_hosts(struct mctx *m, const struct cnode *n, void *dst)
{
    struct compose_service *s = dst;
    return m_extra_hosts(m, n, &s->extra_hosts);
}

static int f_logging(struct mctx *m, const struct cnode *n, void *dst)
{
    static const struct mfield fields[] = {
        {"driver", MF_STR, offsetof(struct compose_logging, driver), NULL},
        {"options", MF_KVV, offsetof(struct compose_logging, options), NULL},
    };
    struct compose_service *s = dst;
    return m_fields(m, n, fields, CC_ARRAY_LEN(fields), &s->logging, "logging");
}

static int f_secrets(struct mctx *m, const struct cnode *n, void *dst)
{
    struct compose_service *s = dst;
    return m_file_refs(m, n, true, &s->secrets, &s->n_secrets);
}

static int f_configs(struct mctx *m, const struct cnode *n, void *dst)
{
    struct compose_service *s = dst;
    return m_file_refs(m, n, false, &s->configs, &s->n_configs);
}

static int f_x_ccompose(struct mctx *m, const struct cnode *n, void *dst)
{
    static const struct mfield fields[] = {
        {"restart_on_unhealthy", MF_BOOL,
         offsetof(struct compose_ccompose_ext, restart_on_unhealthy), NULL},
    };
    struct compose_service *s = dst;
    return m_fields(m, n, fields, CC_ARRAY_LEN(fields), &s->x_ccompose, "x-ccompose");
}

static int f_restart(struct mctx *m, const struct cnode *n, void *dst)
{
    struct compose_service *s = dst;
    const char *v = NULL;
    int r = m_str(m, n, &v);
    if (r)
        return r;
    bool ok = !strcmp(v, "no") || !strcmp(v, "always") || !strcmp(v, "unless-stopped") ||
              !strcmp(v, "on-failure");
    if (!ok && strncmp(v, "on-failure:", 11) == 0) {
        char *end;
        errno = 0;
        long k = strtol(v + 11, &end, 10);
        ok = v[11] && !*end && !errno && k >= 0 && k <= INT_MAX;
    }
    if (!ok)
        return m_error(m, n, "use no, always, on-failure[:N] or unless-stopped",
                       "'%s' is not a restart policy: '%s'", m_path(m), v);
    s->restart = v;
    return 0;
}

static int f_pull_policy(struct mctx *m, const struct cnode *n, void *dst)
{
    static const char *const ok[] = {"always",         "never", "missing", "build",
                                     "if_not_present", "daily", "weekly",  "refresh"};
    struct compose_service *s = dst;
    const char *v = NULL;
    int r = m_str(m, n, &v);
    if (r)
        return r;
    for (size_t i = 0; i < CC_ARRAY_LEN(ok); i++) {
        if (strcmp(v, ok[i]) == 0) {
            s->pull_policy = v;
            return 0;
        }
    }
    if (strncmp(v, "every_", 6) == 0) {
        s->pull_policy = v;
        return 0;
    }
    return m_error(m, n, "use always, never, missing, build, daily, weekly or every_<duration>",
                   "'%s' is not a pull policy: '%s'", m_path(m), v);
}

static int f_scale(struct mctx *m, const struct cnode *n, void *dst)
{
    struct compose_service *s = dst;
    return m_int(m, n, 0, INT_MAX, &s->scale);
}

static int f_oom_score_adj(struct mctx *m, const struct cnode *n, void *dst)
{
    struct compose_service *s = dst;
    return m_int(m, n, -1000, 1000, &s->oom_score_adj);
}

static int f_memswap(struct mctx *m, const struct cnode *n, void *dst)
{
    struct compose_service *s = dst;
    /* -1 means unlimited swap; anything else is a size. */
    if (n->kind == CNODE_SCALAR && strcmp(n->value, "-1") == 0) {
        s->memswap_limit = -1;
        return 0;
    }
    return m_size(m, n, &s->memswap_limit);
}

static int f_cpus(struct mctx *m, const struct cnode *n, void *dst)
{
    struct compose_service *s = dst;
    int r = m_double(m, n, &s->cpus);
    if (r == 0 && s->cpus < 0)
        return m_error(m, n, NULL, "'%s' must not be negative", m_path(m));
    return r;
}

static int f_noop(struct mctx *m, const struct cnode *n, void *dst)
{
    (void)m, (void)n, (void)dst;
    return 0;
}

static int f_expose(struct mctx *m, const struct cnode *n, void *dst)
{
    struct compose_service *s = dst;
    return m_strv(m, n, false, &s->expose);
}

static const struct mfield service_fields[] = {
    {"image", MF_STR, SVC(image), NULL},
    {"build", MF_CUSTOM, 0, m_build},
    {"pull_policy", MF_CUSTOM, 0, f_pull_policy},
    {"platform", MF_STR, SVC(platform), NULL},
    {"container_name", MF_STR, SVC(container_name), NULL},
    {"hostname", MF_STR, SVC(hostname), NULL},
    {"domainname", MF_STR, SVC(domainname), NULL},
    {"user", MF_STR, SVC(user), NULL},
    {"working_dir", MF_STR, SVC(working_dir), NULL},
    {"restart", MF_CUSTOM, 0, f_restart},
    {"stop_signal", MF_STR, SVC(stop_signal), NULL},
    {"stop_grace_period", MF_DURATION, SVC(stop_grace_period), NULL},
    {"network_mode", MF_STR, SVC(network_mode), NULL},
    {"ipc", MF_STR, SVC(ipc), NULL},
    {"pid", MF_STR, SVC(pid), NULL},
    {"cgroup", MF_STR, SVC(cgroup), NULL},
    {"cgroup_parent", MF_STR, SVC(cgroup_parent), NULL},
    {"userns_mode", MF_STR, SVC(userns_mode), NULL},
    {"mac_address", MF_STR, SVC(mac_address), NULL},
    {"init", MF_TRI, SVC(init), NULL},
    {"privileged", MF_BOOL, SVC(privileged), NULL},
    {"read_only", MF_BOOL, SVC(read_only), NULL},
    {"tty", MF_BOOL, SVC(tty), NULL},
    {"stdin_open", MF_BOOL, SVC(stdin_open), NULL},
    {"command", MF_CUSTOM, 0, f_command},
    {"entrypoint", MF_CUSTOM, 0, f_entrypoint},
    {"environment", MF_ENV, SVC(environment), NULL},
    {"env_file", MF_CUSTOM, 0, f_noop}, /* read after the other keys: see m_service() */
    {"label_file", MF_CUSTOM, 0, f_noop},
    {"labels", MF_KVV, SVC(labels), NULL},
    {"annotations", MF_KVV, SVC(annotations), NULL},
    {"sysctls", MF_KVV, SVC(sysctls), NULL},
    {"storage_opt", MF_KVV, SVC(storage_opt), NULL},
    {"ports", MF_CUSTOM, 0, f_ports},
    {"expose", MF_CUSTOM, 0, f_expose},
    {"volumes", MF_CUSTOM, 0, f_volumes},
    {"tmpfs", MF_STRV, SVC(tmpfs), NULL},
    {"devices", MF_CUSTOM, 0, f_devices},
    {"volumes_from", MF_LIST, SVC(volumes_from), NULL},
    {"links", MF_LIST, SVC(links), NULL},
    {"external_links", MF_LIST, SVC(external_links), NULL},
    {"dns", MF_STRV, SVC(dns), NULL},
    {"dns_search", MF_STRV, SVC(dns_search), NULL},
    {"dns_opt", MF_LIST, SVC(dns_opt), NULL},
    {"extra_hosts", MF_CUSTOM, 0, f_svc_extra_hosts},
    {"cap_add", MF_LIST, SVC(cap_add), NULL},
    {"cap_drop", MF_LIST, SVC(cap_drop), NULL},
    {"security_opt", MF_LIST, SVC(security_opt), NULL},
    {"group_add", MF_LIST, SVC(group_add), NULL},
    {"profiles", MF_LIST, SVC(profiles), NULL},
    {"ulimits", MF_CUSTOM, 0, f_ulimits},
    {"depends_on", MF_CUSTOM, 0, f_depends_on},
    {"networks", MF_CUSTOM, 0, f_networks},
    {"secrets", MF_CUSTOM, 0, f_secrets},
    {"configs", MF_CUSTOM, 0, f_configs},
    {"healthcheck", MF_CUSTOM, 0, f_healthcheck},
    {"logging", MF_CUSTOM, 0, f_logging},
    {"deploy", MF_CUSTOM, 0, m_deploy},
    {"scale", MF_CUSTOM, 0, f_scale},
    {"mem_limit", MF_SIZE, SVC(mem_limit), NULL},
    {"memswap_limit", MF_CUSTOM, 0, f_memswap},
    {"mem_reservation", MF_SIZE, SVC(mem_reservation), NULL},
    {"shm_size", MF_SIZE, SVC(shm_size), NULL},
    {"cpus", MF_CUSTOM, 0, f_cpus},
    {"cpu_shares", MF_INT64, SVC(cpu_shares), NULL},
    {"cpu_quota", MF_INT64, SVC(cpu_quota), NULL},
    {"cpu_period", MF_INT64, SVC(cpu_period), NULL},
    {"cpuset", MF_STR, SVC(cpuset), NULL},
    {"pids_limit", MF_INT64, SVC(pids_limit), NULL},
    {"oom_score_adj", MF_CUSTOM, 0, f_oom_score_adj},
    {"oom_kill_disable", MF_BOOL, SVC(oom_kill_disable), NULL},
    {"x-ccompose", MF_CUSTOM, 0, f_x_ccompose},
    {"attach", MF_TRI, SVC(attach), NULL},
    {"blkio_config", MF_CUSTOM, 0, m_blkio_config},
    {"cpu_count", MF_CUSTOM, 0, m_cpu_count},
    {"cpu_percent", MF_CUSTOM, 0, m_cpu_percent},
    {"cpu_rt_period", MF_CUSTOM, 0, m_cpu_rt_period},
    {"cpu_rt_runtime", MF_CUSTOM, 0, m_cpu_rt_runtime},
    {"credential_spec", MF_CUSTOM, 0, m_credential_spec},
    {"develop", MF_CUSTOM, 0, m_develop},
    {"device_cgroup_rules", MF_LIST, SVC(device_cgroup_rules), NULL},
    {"gpus", MF_CUSTOM, 0, m_gpus},
    {"isolation", MF_STR, SVC(isolation), NULL},
    {"mem_swappiness", MF_CUSTOM, 0, m_mem_swappiness},
    {"post_start", MF_CUSTOM, 0, m_post_start},
    {"pre_stop", MF_CUSTOM, 0, m_pre_stop},
    {"runtime", MF_STR, SVC(runtime), NULL},
    {"uts", MF_STR, SVC(uts), NULL},
};

/* ---- env_file ---- */

static bool env_lookup_adapter(void *data, const char *name, const char **ret)
{
    const struct interp_env *env = data;
    return env->lookup && env->lookup(env->data, name, ret);
}

static const char *env_lookup_cb(const char *name, void *data)
{
    const char *v = NULL;
    return env_lookup_adapter(data, name, &v) ? v : NULL;
}

/* Reads one env file into kvv (later keys win). A missing file is an error unless !required. */
static int read_env_file(struct mctx *m, const struct cnode *at, const char *path, bool required,
                         struct compose_kvv *kvv)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (errno == ENOENT && !required)
            return 0;
        return m_error(m, at, "check the path, or mark the entry `required: false`",
                       "env file '%s' cannot be read: %s", path, strerror(errno));
    }
    struct buf b = BUF_INIT;
    char chunk[8192];
    size_t got;
    while ((got = fread(chunk, 1, sizeof(chunk), f)) > 0 && b.len <= CNODE_MAX_INPUT)
        buf_add(&b, chunk, got);
    fclose(f);
    struct parse_env_list list;
    struct parse_env_opts po = {env_lookup_cb, &m->ctx->env, asm_env_interpolate};
    struct cc_error e = CC_ERROR_INIT;
    int r = 0;
    if (parse_env_file(m->a, path, buf_str(&b), b.len, &po, &list, &e) < 0) {
        r = m_error_from(m, at, &e);
    } else {
        for (size_t i = 0; i < list.n; i++)
            m_kvv_set(m, kvv, list.vars[i].key, list.vars[i].value);
    }
    cc_error_release(&e);
    buf_release(&b);
    return r;
}

/* env_file and label_file: a path, or a list of paths and {path, required, format} entries, read
 * in order into from_files (later files win); the paths are kept in paths. */
static int kv_files(struct mctx *m, const struct cnode *n, const char *key,
                    struct compose_strv *paths, struct compose_kvv *from_files)
{
    int r = 0;
    cnode_path_push_key(&m->path, key);
    if (n->kind == CNODE_SCALAR && !cnode_is_null(n)) {
        m_strv_add(m, paths, n->value);
        r = read_env_file(m, n, n->value, true, from_files);
    } else if (n->kind == CNODE_SEQUENCE) {
        for (size_t i = 0; i < n->nitems; i++) {
            const struct cnode *it = n->items[i];
            const char *path = NULL;
            bool required = true;
            cnode_path_push_index(&m->path, i);
            if (it->kind == CNODE_MAPPING) {
                for (size_t j = 0; j < it->npairs; j++) {
                    const struct cnode *k = it->pairs[j].key, *v = it->pairs[j].value;
                    cnode_path_push_key(&m->path, k->value);
                    if (strcmp(k->value, "path") == 0)
                        r |= m_str(m, v, &path) < 0 ? -1 : 0;
                    else if (strcmp(k->value, "required") == 0)
                        r |= m_bool(m, v, &required) < 0 ? -1 : 0;
                    else if (strcmp(k->value, "format") != 0)
                        r = m_error(m, k, "use path:, required: or format:",
                                    "unknown key '%s' in %s %s entry", k->value,
                                    key[0] == 'e' ? "an" : "a", key);
                    cnode_path_pop(&m->path);
                }
                if (!path && r == 0)
                    r = m_error(m, it, "add `path:`", "'%s' has no path", m_path(m));
            } else if (it->kind == CNODE_SCALAR && !cnode_is_null(it)) {
                path = it->value;
            } else {
                r = m_error(m, it, NULL, "'%s' must be a path or a mapping, not a %s", m_path(m),
                            m_kind_name(it));
            }
            if (path) {
                m_strv_add(m, paths, path);
                if (read_env_file(m, it, path, required, from_files) < 0)
                    r = -1;
            }
            cnode_path_pop(&m->path);
        }
    } else if (!cnode_is_null(n)) {
        r = m_error(m, n, NULL, "'%s' must be a path or a list, not a %s", m_path(m),
                    m_kind_name(n));
    }
    cnode_path_pop(&m->path);
    return r;
}

/* Reads key's files and puts over them what the service sets itself (*own wins), into *own. */
static int merge_files_under(struct mctx *m, const struct cnode *n, const char *key,
                             struct compose_strv *paths, struct compose_kvv *own)
{
    struct compose_kvv from_files = {0};
    int r = kv_files(m, n, key, paths, &from_files);
    for (size_t i = 0; i < own->n; i++)
        m_kvv_set(m, &from_files, own->v[i].key, own->v[i].value);
    *own = from_files;
    return r;
}

int m_service(struct mctx *m, const char *name, const struct cnode *n, struct compose_service *s)
{
    char *what = xasprintf("service '%s'", name);
    m_service_defaults(s);
    s->name = name;
    s->pos = m_pos(n);
    int r = m_fields(m, n, service_fields, CC_ARRAY_LEN(service_fields), s, what);
    free(what);
    const struct cnode *ef = cnode_get(n, "env_file"), *lf = cnode_get(n, "label_file");
    if (ef && merge_files_under(m, ef, "env_file", &s->env_files, &s->environment) < 0)
        r = -1;
    if (lf && merge_files_under(m, lf, "label_file", &s->label_files, &s->labels) < 0)
        r = -1;
    if (!s->image && !s->build && r == 0)
        r = m_error(m, n, "add `image:` or `build:` to the service",
                    "service '%s' has neither an image nor a build context", name);
    return r;
}
