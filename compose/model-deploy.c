/* A service's deploy: and build: sections, and its uses of secrets and configs (short and long
 * forms). */
#include <limits.h>
#include <string.h>

#include "compose/model-internal.h"
#include "compose/parse.h"

/* ---- deploy ---- */

static int f_nano_cpus(struct mctx *m, const struct cnode *n, void *dst)
{
    struct compose_resources *r = dst;
    int rc = m_double(m, n, &r->cpus);
    if (rc == 0 && r->cpus < 0)
        return m_error(m, n, NULL, "'%s' must not be negative", m_path(m));
    return rc;
}

static int f_res_devices(struct mctx *m, const struct cnode *n, void *dst)
{
    struct compose_resources *r = dst;
    int rc = m_device_requests(m, n, &r->devices, &r->n_devices);
    for (size_t i = 0; i < r->n_devices && rc == 0; i++)
        if (!r->devices[i].capabilities.n)
            rc = m_error(m, n->items[i], "add `capabilities: [gpu]` or what the driver offers",
                         "'%s[%zu]' has no capabilities", m_path(m), i);
    return rc;
}

static int generic_resource(struct mctx *m, const struct cnode *it, void *slot, void *data)
{
    static const struct mfield spec_fields[] = {
        {"kind", MF_STR, offsetof(struct compose_generic_resource, kind), NULL},
        {"value", MF_INT64, offsetof(struct compose_generic_resource, value), NULL},
    };
    (void)data;
    struct compose_generic_resource *g = slot;
    const struct cnode *spec = cnode_get(it, "discrete_resource_spec");
    if (it->kind != CNODE_MAPPING || it->npairs != 1 || !spec)
        return m_error(m, it, "write `- discrete_resource_spec: {kind: NAME, value: N}`",
                       "'%s' must be a mapping with one `discrete_resource_spec:` key",
                       m_path(m));
    g->value = COMPOSE_UNSET;
    cnode_path_push_key(&m->path, "discrete_resource_spec");
    int r = 1;
    if (m_fields(m, spec, spec_fields, CC_ARRAY_LEN(spec_fields), g, "discrete_resource_spec") < 0)
        r = -1;
    else if (!g->kind || g->value == COMPOSE_UNSET)
        r = m_error(m, spec, NULL, "'%s' needs kind and value", m_path(m));
    cnode_path_pop(&m->path);
    return r;
}

static int f_generic_resources(struct mctx *m, const struct cnode *n, void *dst)
{
    struct compose_resources *r = dst;
    int rc = m_seq(m, n, sizeof(*r->generic_resources), &r->generic_resources,
                   &r->n_generic_resources, generic_resource, NULL);
    if (rc == 0 && r->n_generic_resources)
        m_warning(m, n,
                  "'%s' is for swarm services (stack deploy sends them): a container cannot "
                  "reserve generic resources, ignoring",
                  m_path(m));
    return rc;
}

/* The Compose Specification allows devices and generic_resources under reservations only. */
static const struct mfield limit_fields[] = {
    {"cpus", MF_CUSTOM, 0, f_nano_cpus},
    {"memory", MF_SIZE, offsetof(struct compose_resources, memory), NULL},
    {"pids", MF_INT64, offsetof(struct compose_resources, pids), NULL},
};

static const struct mfield reservation_fields[] = {
    {"cpus", MF_CUSTOM, 0, f_nano_cpus},
    {"memory", MF_SIZE, offsetof(struct compose_resources, memory), NULL},
    {"pids", MF_INT64, offsetof(struct compose_resources, pids), NULL},
    {"devices", MF_CUSTOM, 0, f_res_devices},
    {"generic_resources", MF_CUSTOM, 0, f_generic_resources},
};

static int f_limits(struct mctx *m, const struct cnode *n, void *dst)
{
    struct compose_deploy *d = dst;
    return m_fields(m, n, limit_fields, CC_ARRAY_LEN(limit_fields), &d->limits,
                    "deploy.resources.limits");
}

static int f_reservations(struct mctx *m, const struct cnode *n, void *dst)
{
    struct compose_deploy *d = dst;
    return m_fields(m, n, reservation_fields, CC_ARRAY_LEN(reservation_fields),
                    &d->reservations, "deploy.resources.reservations");
}

static int f_resources(struct mctx *m, const struct cnode *n, void *dst)
{
    static const struct mfield fields[] = {
        {"limits", MF_CUSTOM, 0, f_limits},
        {"reservations", MF_CUSTOM, 0, f_reservations},
    };
    return m_fields(m, n, fields, CC_ARRAY_LEN(fields), dst, "deploy.resources");
}

static int f_rp_condition(struct mctx *m, const struct cnode *n, void *dst)
{
    struct compose_restart_policy *rp = dst;
    const char *v = NULL;
    int r = m_str(m, n, &v);
    if (r)
        return r;
    if (strcmp(v, "none") && strcmp(v, "on-failure") && strcmp(v, "any"))
        return m_error(m, n, "use none, on-failure or any", "'%s' is not a condition: '%s'",
                       m_path(m), v);
    rp->condition = v;
    return 0;
}

static int f_rp_attempts(struct mctx *m, const struct cnode *n, void *dst)
{
    struct compose_restart_policy *rp = dst;
    return m_int(m, n, 0, INT_MAX, &rp->max_attempts);
}

static int f_restart_policy(struct mctx *m, const struct cnode *n, void *dst)
{
    static const struct mfield fields[] = {
        {"condition", MF_CUSTOM, 0, f_rp_condition},
        {"delay", MF_DURATION, offsetof(struct compose_restart_policy, delay), NULL},
        {"max_attempts", MF_CUSTOM, 0, f_rp_attempts},
        {"window", MF_DURATION, offsetof(struct compose_restart_policy, window), NULL},
    };
    struct compose_deploy *d = dst;
    return m_fields(m, n, fields, CC_ARRAY_LEN(fields), &d->restart_policy,
                    "deploy.restart_policy");
}

static int f_uc_parallelism(struct mctx *m, const struct cnode *n, void *dst)
{
    struct compose_update_config *u = dst;
    return m_int(m, n, 0, INT_MAX, &u->parallelism);
}

static const struct mfield update_fields[] = {
    {"parallelism", MF_CUSTOM, 0, f_uc_parallelism},
    {"delay", MF_DURATION, offsetof(struct compose_update_config, delay), NULL},
    {"failure_action", MF_STR, offsetof(struct compose_update_config, failure_action), NULL},
    {"monitor", MF_DURATION, offsetof(struct compose_update_config, monitor), NULL},
    {"max_failure_ratio", MF_DOUBLE, offsetof(struct compose_update_config, max_failure_ratio),
     NULL},
    {"order", MF_STR, offsetof(struct compose_update_config, order), NULL},
};

static int f_update_config(struct mctx *m, const struct cnode *n, void *dst)
{
    struct compose_deploy *d = dst;
    d->update_config.set = !cnode_is_null(n);
    return m_fields(m, n, update_fields, CC_ARRAY_LEN(update_fields), &d->update_config,
                    "deploy.update_config");
}

static int f_rollback_config(struct mctx *m, const struct cnode *n, void *dst)
{
    struct compose_deploy *d = dst;
    d->rollback_config.set = !cnode_is_null(n);
    return m_fields(m, n, update_fields, CC_ARRAY_LEN(update_fields), &d->rollback_config,
                    "deploy.rollback_config");
}

static int preference(struct mctx *m, const struct cnode *it, void *slot, void *data)
{
    (void)slot;
    struct compose_deploy *d = data;
    const struct cnode *spread = cnode_get(it, "spread");
    if (it->kind != CNODE_MAPPING || it->npairs != 1 || !spread || spread->kind != CNODE_SCALAR)
        return m_error(m, it, "write `- spread: node.labels.NAME`",
                       "'%s' must be a mapping with one `spread:` key", m_path(m));
    m_strv_add(m, &d->placement_preferences, arena_printf(m->a, "spread=%s", spread->value));
    return 1;
}

static int f_preferences(struct mctx *m, const struct cnode *n, void *dst)
{
    return m_seq(m, n, 0, NULL, NULL, preference, dst);
}

static int f_max_per_node(struct mctx *m, const struct cnode *n, void *dst)
{
    struct compose_deploy *d = dst;
    return m_int(m, n, 0, INT_MAX, &d->max_replicas_per_node);
}

static int f_placement(struct mctx *m, const struct cnode *n, void *dst)
{
    static const struct mfield fields[] = {
        {"constraints", MF_LIST, offsetof(struct compose_deploy, placement_constraints), NULL},
        {"preferences", MF_CUSTOM, 0, f_preferences},
        {"max_replicas_per_node", MF_CUSTOM, 0, f_max_per_node},
    };
    return m_fields(m, n, fields, CC_ARRAY_LEN(fields), dst, "deploy.placement");
}

static int f_replicas(struct mctx *m, const struct cnode *n, void *dst)
{
    struct compose_deploy *d = dst;
    return m_int(m, n, 0, INT_MAX, &d->replicas);
}

static int f_mode(struct mctx *m, const struct cnode *n, void *dst)
{
    struct compose_deploy *d = dst;
    const char *v = NULL;
    int r = m_str(m, n, &v);
    if (r)
        return r;
    if (strcmp(v, "replicated") && strcmp(v, "global") && strcmp(v, "replicated-job") &&
        strcmp(v, "global-job"))
        return m_error(m, n, "use replicated or global", "'%s' is not a deploy mode: '%s'",
                       m_path(m), v);
    d->mode = v;
    return 0;
}

int m_deploy(struct mctx *m, const struct cnode *n, void *dst)
{
    static const struct mfield fields[] = {
        {"mode", MF_CUSTOM, 0, f_mode},
        {"replicas", MF_CUSTOM, 0, f_replicas},
        {"labels", MF_KVV, offsetof(struct compose_deploy, labels), NULL},
        {"resources", MF_CUSTOM, 0, f_resources},
        {"restart_policy", MF_CUSTOM, 0, f_restart_policy},
        {"update_config", MF_CUSTOM, 0, f_update_config},
        {"rollback_config", MF_CUSTOM, 0, f_rollback_config},
        {"placement", MF_CUSTOM, 0, f_placement},
        {"endpoint_mode", MF_STR, offsetof(struct compose_deploy, endpoint_mode), NULL},
    };
    struct compose_service *s = dst;
    if (cnode_is_null(n))
        return 0;
    s->deploy.set = true;
    return m_fields(m, n, fields, CC_ARRAY_LEN(fields), &s->deploy, "deploy");
}

/* ---- secrets and configs used by a service ---- */

static int f_ref_mode(struct mctx *m, const struct cnode *n, void *dst)
{
    struct compose_file_ref *f = dst;
    return m_int(m, n, 0, 07777, &f->mode);
}

static const struct mfield ref_fields[] = {
    {"source", MF_STR, offsetof(struct compose_file_ref, source), NULL},
    {"target", MF_STR, offsetof(struct compose_file_ref, target), NULL},
    {"uid", MF_STR, offsetof(struct compose_file_ref, uid), NULL},
    {"gid", MF_STR, offsetof(struct compose_file_ref, gid), NULL},
    {"mode", MF_CUSTOM, 0, f_ref_mode},
};

int m_file_refs(struct mctx *m, const struct cnode *n, bool secrets, struct compose_file_ref **ret,
                size_t *ret_n)
{
    if (cnode_is_null(n))
        return 0;
    if (m_want_seq(m, n) < 0)
        return -1;
    int r = 0;
    struct compose_file_ref *v = m_array(m, n->nitems, sizeof(*v));
    size_t nv = 0;
    for (size_t i = 0; i < n->nitems; i++) {
        const struct cnode *it = n->items[i];
        struct compose_file_ref f = {.mode = COMPOSE_UNSET, .pos = m_pos(it)};
        cnode_path_push_index(&m->path, i);
        if (it->kind == CNODE_SCALAR && !cnode_is_null(it)) {
            f.source = it->value;
        } else if (it->kind == CNODE_MAPPING) {
            if (m_fields(m, it, ref_fields, CC_ARRAY_LEN(ref_fields), &f,
                         secrets ? "a secret" : "a config") < 0)
                r = -1;
            else if (!f.source)
                r = m_error(m, it, "add `source:` naming a top-level entry", "'%s' has no source",
                            m_path(m));
        } else {
            r = m_error(m, it, NULL, "'%s' must be a name or a mapping, not a %s", m_path(m),
                        m_kind_name(it));
        }
        if (f.source) {
            /* Secrets land in /run/secrets, configs at the root, unless the target is absolute. */
            const char *t = f.target ? f.target : f.source;
            if (t[0] != '/')
                t = arena_printf(m->a, "%s%s", secrets ? "/run/secrets/" : "/", t);
            f.target = t;
            v[nv++] = f;
        }
        cnode_path_pop(&m->path);
    }
    *ret = v;
    *ret_n = nv;
    return r;
}

/* ---- build ---- */

static int f_build_secrets(struct mctx *m, const struct cnode *n, void *dst)
{
    struct compose_build *b = dst;
    return m_file_refs(m, n, true, &b->secrets, &b->n_secrets);
}

/* build.extra_hosts: same forms as the service's. */
static int f_build_hosts(struct mctx *m, const struct cnode *n, void *dst)
{
    struct compose_build *b = dst;
    return m_extra_hosts(m, n, &b->extra_hosts);
}

static int f_build_ulimits(struct mctx *m, const struct cnode *n, void *dst)
{
    struct compose_build *b = dst;
    return m_ulimits(m, n, &b->ulimits, &b->n_ulimits);
}

/* BuildKit-only keys: modelled and printed, and a warning says the engine's builder cannot apply
 * them (docs/compose-model.md). */
static void buildkit_only(struct mctx *m, const struct cnode *n)
{
    m_warning(m, n, "'%s' needs BuildKit, which the engine's /build API does not offer, ignoring",
              m_path(m));
}

static int f_build_privileged(struct mctx *m, const struct cnode *n, void *dst)
{
    struct compose_build *b = dst;
    int r = m_bool(m, n, &b->privileged);
    if (r == 0 && b->privileged)
        buildkit_only(m, n);
    return r;
}

static int f_build_entitlements(struct mctx *m, const struct cnode *n, void *dst)
{
    struct compose_build *b = dst;
    int r = m_strv(m, n, false, &b->entitlements);
    if (r == 0 && b->entitlements.n)
        buildkit_only(m, n);
    return r;
}

/* provenance and sbom: a boolean or BuildKit's attestation options, kept as written. */
static int attestation(struct mctx *m, const struct cnode *n, const char **ret)
{
    int r = m_str(m, n, ret);
    if (r == 0 && strcmp(*ret, "false") != 0)
        buildkit_only(m, n);
    return r;
}

static int f_build_provenance(struct mctx *m, const struct cnode *n, void *dst)
{
    struct compose_build *b = dst;
    return attestation(m, n, &b->provenance);
}

static int f_build_sbom(struct mctx *m, const struct cnode *n, void *dst)
{
    struct compose_build *b = dst;
    return attestation(m, n, &b->sbom);
}

static const struct mfield build_fields[] = {
    {"context", MF_STR, offsetof(struct compose_build, context), NULL},
    {"dockerfile", MF_STR, offsetof(struct compose_build, dockerfile), NULL},
    {"dockerfile_inline", MF_STR, offsetof(struct compose_build, dockerfile_inline), NULL},
    {"args", MF_ENV, offsetof(struct compose_build, args), NULL},
    {"target", MF_STR, offsetof(struct compose_build, target), NULL},
    {"labels", MF_KVV, offsetof(struct compose_build, labels), NULL},
    {"cache_from", MF_LIST, offsetof(struct compose_build, cache_from), NULL},
    {"cache_to", MF_LIST, offsetof(struct compose_build, cache_to), NULL},
    {"network", MF_STR, offsetof(struct compose_build, network), NULL},
    {"shm_size", MF_SIZE, offsetof(struct compose_build, shm_size), NULL},
    {"extra_hosts", MF_CUSTOM, 0, f_build_hosts},
    {"ssh", MF_STRV, offsetof(struct compose_build, ssh), NULL},
    {"secrets", MF_CUSTOM, 0, f_build_secrets},
    {"tags", MF_LIST, offsetof(struct compose_build, tags), NULL},
    {"platforms", MF_LIST, offsetof(struct compose_build, platforms), NULL},
    {"no_cache", MF_BOOL, offsetof(struct compose_build, no_cache), NULL},
    {"pull", MF_BOOL, offsetof(struct compose_build, pull), NULL},
    {"additional_contexts", MF_KVV, offsetof(struct compose_build, additional_contexts), NULL},
    {"isolation", MF_STR, offsetof(struct compose_build, isolation), NULL},
    {"privileged", MF_CUSTOM, 0, f_build_privileged},
    {"ulimits", MF_CUSTOM, 0, f_build_ulimits},
    {"entitlements", MF_CUSTOM, 0, f_build_entitlements},
    {"provenance", MF_CUSTOM, 0, f_build_provenance},
    {"sbom", MF_CUSTOM, 0, f_build_sbom},
};

int m_build(struct mctx *m, const struct cnode *n, void *dst)
{
    struct compose_service *s = dst;
    if (cnode_is_null(n))
        return 0;
    struct compose_build *b = arena_alloc(m->a, sizeof(*b));
    b->shm_size = COMPOSE_UNSET;
    b->pos = m_pos(n);
    int r;
    if (n->kind == CNODE_SCALAR) {
        r = m_str(m, n, &b->context);
    } else {
        r = m_fields(m, n, build_fields, CC_ARRAY_LEN(build_fields), b, "build");
        if (r == 0 && !b->context)
            b->context = m->ctx->project->working_dir; /* compose-go's default: "." */
    }
    if (r < 0)
        return -1;
    if (b->context && b->context[0] != '/' && !strstr(b->context, "://") &&
        strncmp(b->context, "git@", 4) != 0 && !m->ctx->opts->no_normalize)
        b->context = parse_path_join(m->a, m->ctx->project->working_dir, b->context);
    s->build = b;
    return 0;
}
