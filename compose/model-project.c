/* compose_model_build(): the merged top-level mapping to struct compose_project. Reads the
 * top-level keys, every service, applies profiles, adds the implicit "default" network where a
 * service needs it, checks references between services and resources, finds dependency cycles
 * and sorts what the model promises sorted. Errors are recorded in the diag in file order. */
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "compose/model-internal.h"

static bool strv_has(const struct compose_strv *sv, const char *s)
{
    for (size_t i = 0; i < sv->n; i++)
        if (strcmp(sv->v[i], s) == 0)
            return true;
    return false;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
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

/* A problem found after reading, at a position of the model. */
static void pos_error(struct mctx *m, struct compose_pos pos, const char *key_path,
                      const char *hint, const char *fmt, ...) CC_PRINTF(5, 6);

static void pos_error(struct mctx *m, struct compose_pos pos, const char *key_path,
                      const char *hint, const char *fmt, ...)
{
    struct cc_error e = CC_ERROR_INIT;
    va_list ap;
    va_start(ap, fmt);
    cnode_verror_at(&e, pos.file, pos.line, pos.col, key_path, fmt, ap);
    va_end(ap);
    if (hint)
        cc_error_hint(&e, "%s", hint);
    compose_diag_add_error(m->ctx->diag, &e);
    m->n_errors++;
    cc_error_release(&e);
}

static bool valid_service_name(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '.' || *s == '_' || *s == '-'))
            return false;
    return true;
}

static int read_services(struct mctx *m, const struct cnode *n, struct compose_service **ret,
                         size_t *ret_n)
{
    *ret = NULL;
    *ret_n = 0;
    if (cnode_is_null(n))
        return 0;
    if (m_want_map(m, n) < 0)
        return -1;
    int r = 0;
    struct compose_service *v = m_array(m, n->npairs, sizeof(*v));
    for (size_t i = 0; i < n->npairs; i++) {
        const struct cnode *k = n->pairs[i].key, *val = n->pairs[i].value;
        cnode_path_push_key(&m->path, k->value);
        if (!valid_service_name(k->value))
            r = m_error(m, k, "use letters, digits, '.', '_' and '-' only",
                        "'%s' is not a valid service name", k->value);
        if (val->kind != CNODE_MAPPING && !cnode_is_null(val))
            r = m_error(m, val, NULL, "service '%s' must be a mapping, not a %s", k->value,
                        m_kind_name(val));
        else if (m_service(m, k->value, val, &v[i]) < 0)
            r = -1;
        if (!v[i].name) {
            m_service_defaults(&v[i]);
            v[i].name = k->value;
        }
        v[i].pos = m_pos(k);
        cnode_path_pop(&m->path);
    }
    *ret = v;
    *ret_n = n->npairs;
    return r;
}

static struct compose_service *find(struct compose_service *v, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i].name, name) == 0)
            return &v[i];
    return NULL;
}

/* ---- implicit dependencies ---- */

static void add_implicit(struct mctx *m, struct compose_service *all, size_t n,
                         struct compose_service *s, const char *name, size_t len, bool restart)
{
    char *target = xstrndup(name, len);
    bool known = false;
    for (size_t i = 0; i < n && !known; i++)
        known = strcmp(all[i].name, target) == 0;
    for (size_t i = 0; known && i < s->n_depends_on; i++)
        known = strcmp(s->depends_on[i].service, target) != 0;
    /* Unknown targets are reported by check_service_refs(); declared dependencies win. */
    if (known) {
        struct compose_dependency *v = m_array(m, s->n_depends_on + 1, sizeof(*v));
        if (s->n_depends_on)
            memcpy(v, s->depends_on, s->n_depends_on * sizeof(*v));
        v[s->n_depends_on++] = (struct compose_dependency){
            arena_strdup(m->a, target), COMPOSE_COND_STARTED, restart, true, s->pos};
        s->depends_on = v;
    }
    free(target);
}

/* links, volumes_from and `service:` namespaces make the service depend on the other one, as in
 * docker compose (links and namespaces restart with it, volumes_from does not). */
static void implicit_dependencies(struct mctx *m, struct compose_service *all, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct compose_service *s = &all[i];
        for (size_t j = 0; j < s->links.n; j++)
            add_implicit(m, all, n, s, s->links.v[j], strcspn(s->links.v[j], ":"), true);
        const char *ns[] = {s->network_mode, s->ipc, s->pid, s->cgroup};
        for (size_t j = 0; j < CC_ARRAY_LEN(ns); j++)
            if (ns[j] && strncmp(ns[j], "service:", 8) == 0)
                add_implicit(m, all, n, s, ns[j] + 8, strlen(ns[j] + 8), true);
        for (size_t j = 0; j < s->volumes_from.n; j++) {
            const char *v = s->volumes_from.v[j];
            if (strncmp(v, "container:", 10) == 0)
                continue;
            if (strncmp(v, "service:", 8) == 0)
                v += 8;
            add_implicit(m, all, n, s, v, strcspn(v, ":"), false);
        }
        if (s->pull_policy && strcmp(s->pull_policy, "if_not_present") == 0)
            s->pull_policy = "missing";
    }
}

/* ---- profiles ---- */

static bool profile_enabled(const struct compose_project *p, const struct compose_service *s)
{
    if (s->profiles.n == 0)
        return true;
    for (size_t i = 0; i < s->profiles.n; i++)
        if (strv_has(&p->profiles, s->profiles.v[i]) || strv_has(&p->profiles, "*"))
            return true;
    return false;
}

/* Marks s and, transitively, what it depends on (services named on the command line bring their
 * dependencies along, as docker compose does). */
static void enable(struct compose_service *all, size_t n, bool *active, size_t i)
{
    if (active[i])
        return;
    active[i] = true;
    for (size_t d = 0; d < all[i].n_depends_on; d++) {
        struct compose_service *dep = find(all, n, all[i].depends_on[d].service);
        if (dep)
            enable(all, n, active, (size_t)(dep - all));
    }
}

static void apply_profiles(struct mctx *m, struct compose_service *all, size_t n)
{
    struct compose_project *p = m->ctx->project;
    const struct compose_load_options *o = m->ctx->opts;
    bool *active = xcalloc(n ? n : 1, sizeof(*active));
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < all[i].profiles.n; j++)
            if (!strv_has(&p->all_profiles, all[i].profiles.v[j]))
                m_strv_add(m, &p->all_profiles, all[i].profiles.v[j]);
        if (profile_enabled(p, &all[i]))
            active[i] = true;
    }
    for (size_t i = 0; i < o->n_services; i++) {
        struct compose_service *s = find(all, n, o->services[i]);
        if (s)
            enable(all, n, active, (size_t)(s - all));
    }
    if (p->all_profiles.n)
        qsort(p->all_profiles.v, p->all_profiles.n, sizeof(*p->all_profiles.v), cmp_str);
    p->services = m_array(m, n, sizeof(*p->services));
    for (size_t i = 0; i < n; i++) {
        if (active[i])
            p->services[p->n_services++] = all[i];
        else
            m_strv_add(m, &p->disabled_services, all[i].name);
    }
    free(active);
}

/* ---- references ---- */

static bool declared_network(const struct compose_project *p, const char *key)
{
    return compose_project_network(p, key) != NULL;
}

/* The active services, not sorted yet, indexed by name: a linear lookup per reference made the
 * checks quadratic (a quarter of a million comparisons for 1,000 services). */
struct by_name {
    const struct compose_service *services;
    size_t *index;
    size_t n;
};

static int cmp_index_name(const void *a, const void *b, void *data)
{
    const struct compose_service *s = data;
    return strcmp(s[*(const size_t *)a].name, s[*(const size_t *)b].name);
}

/* The index of the service called name, or n when there is none. */
static size_t by_name_find(const struct by_name *bn, const char *name)
{
    size_t lo = 0, hi = bn->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(bn->services[bn->index[mid]].name, name);
        if (c == 0)
            return bn->index[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return bn->n;
}

static void by_name_init(struct by_name *bn, const struct compose_project *p)
{
    bn->services = p->services;
    bn->n = p->n_services;
    bn->index = xcalloc(bn->n ? bn->n : 1, sizeof(*bn->index));
    for (size_t i = 0; i < bn->n; i++)
        bn->index[i] = i;
    qsort_r(bn->index, bn->n, sizeof(*bn->index), cmp_index_name, p->services);
}

static bool by_name_has(const struct by_name *bn, const char *name)
{
    return by_name_find(bn, name) != bn->n;
}

static void check_dependencies(struct mctx *m, const struct by_name *bn,
                               struct compose_service *s)
{
    struct compose_project *p = m->ctx->project;
    size_t kept = 0;
    for (size_t i = 0; i < s->n_depends_on; i++) {
        struct compose_dependency *d = &s->depends_on[i];
        char *path = xasprintf("services.%s.depends_on", s->name);
        if (!by_name_has(bn, d->service)) {
            if (strv_has(&p->disabled_services, d->service)) {
                if (d->required) {
                    pos_error(m, d->pos, path,
                              "enable its profile with --profile, or set `required: false` on "
                              "the dependency",
                              "service '%s' depends on '%s', which is not enabled by any profile",
                              s->name, d->service);
                }
                free(path);
                continue; /* an optional dependency on a disabled service is dropped */
            }
            char *hint =
                xasprintf("define '%s' under services, or remove it from depends_on", d->service);
            pos_error(m, d->pos, path, hint, "'%s' in services.%s.depends_on is not a service",
                      d->service, s->name);
            free(hint);
        } else if (strcmp(d->service, s->name) == 0) {
            pos_error(m, d->pos, path, "remove it from depends_on",
                      "service '%s' depends on itself", s->name);
        }
        free(path);
        s->depends_on[kept++] = *d;
    }
    s->n_depends_on = kept;
}

static void check_service_refs(struct mctx *m, const struct by_name *bn,
                               struct compose_service *s)
{
    struct compose_project *p = m->ctx->project;
    char *path = NULL;
    for (size_t i = 0; i < s->links.n; i++) {
        const char *l = s->links.v[i], *colon = strchr(l, ':');
        char *name = colon ? xstrndup(l, (size_t)(colon - l)) : xstrdup(l);
        if (!by_name_has(bn, name)) {
            path = xasprintf("services.%s.links", s->name);
            pos_error(m, s->pos, path, "define it under services, or use external_links",
                      "'%s' in services.%s.links is not a service", name, s->name);
            free(path);
        }
        free(name);
    }
    for (size_t i = 0; i < s->volumes_from.n; i++) {
        const char *v = s->volumes_from.v[i];
        if (strncmp(v, "container:", 10) == 0)
            continue;
        if (strncmp(v, "service:", 8) == 0)
            v += 8;
        const char *colon = strchr(v, ':');
        char *name = colon ? xstrndup(v, (size_t)(colon - v)) : xstrdup(v);
        if (!by_name_has(bn, name)) {
            path = xasprintf("services.%s.volumes_from", s->name);
            pos_error(m, s->pos, path, "define it under services, or write container:NAME",
                      "'%s' in services.%s.volumes_from is not a service", name, s->name);
            free(path);
        }
        free(name);
    }
    if (s->network_mode && strncmp(s->network_mode, "service:", 8) == 0 &&
        !by_name_has(bn, s->network_mode + 8)) {
        path = xasprintf("services.%s.network_mode", s->name);
        pos_error(m, s->pos, path, "define it under services, or use container:NAME",
                  "'%s' in services.%s.network_mode is not a service", s->network_mode + 8,
                  s->name);
        free(path);
    }
    if (s->network_mode && s->n_networks) {
        path = xasprintf("services.%s.networks", s->name);
        pos_error(m, s->networks[0].pos, path, "remove either networks: or network_mode:",
                  "service '%s' sets both network_mode and networks", s->name);
        free(path);
    }
    for (size_t i = 0; i < s->n_networks; i++) {
        if (!declared_network(p, s->networks[i].key) &&
            strcmp(s->networks[i].key, "default") != 0) {
            path = xasprintf("services.%s.networks", s->name);
            pos_error(m, s->networks[i].pos, path, "declare it under the top-level networks:",
                      "service '%s' uses network '%s', which is not declared", s->name,
                      s->networks[i].key);
            free(path);
        }
    }
    for (size_t i = 0; i < s->n_volumes; i++) {
        const struct compose_mount *mt = &s->volumes[i];
        if (mt->type == COMPOSE_MOUNT_VOLUME && mt->source &&
            !compose_project_volume(p, mt->source)) {
            path = xasprintf("services.%s.volumes", s->name);
            pos_error(m, mt->pos, path,
                      "declare it under the top-level volumes:, or write a path starting with "
                      "./ or / for a bind mount",
                      "service '%s' uses volume '%s', which is not declared", s->name, mt->source);
            free(path);
        }
    }
    for (int kind = 0; kind < 2; kind++) {
        const struct compose_file_ref *refs = kind ? s->configs : s->secrets;
        size_t n = kind ? s->n_configs : s->n_secrets;
        const struct compose_file_def *defs = kind ? p->configs : p->secrets;
        size_t ndefs = kind ? p->n_configs : p->n_secrets;
        for (size_t i = 0; i < n; i++) {
            bool found = false;
            for (size_t j = 0; j < ndefs && !found; j++)
                found = strcmp(defs[j].key, refs[i].source) == 0;
            if (found)
                continue;
            path = xasprintf("services.%s.%s", s->name, kind ? "configs" : "secrets");
            char *hint =
                xasprintf("declare it under the top-level %s:", kind ? "configs" : "secrets");
            pos_error(m, refs[i].pos, path, hint,
                      "service '%s' uses %s '%s', which is not declared", s->name,
                      kind ? "config" : "secret", refs[i].source);
            free(hint);
            free(path);
        }
    }
    if (s->scale != COMPOSE_UNSET && s->deploy.replicas != COMPOSE_UNSET &&
        s->scale != s->deploy.replicas) {
        path = xasprintf("services.%s.scale", s->name);
        pos_error(m, s->pos, path, "keep one of scale: and deploy.replicas:",
                  "service '%s' sets scale: %d and deploy.replicas: %d, which differ", s->name,
                  s->scale, s->deploy.replicas);
        free(path);
    }
    if (s->build) {
        const struct compose_build *b = s->build;
        path = xasprintf("services.%s.build", s->name);
        if (b->dockerfile && b->dockerfile_inline)
            pos_error(m, b->pos, path, "keep one of dockerfile: and dockerfile_inline:",
                      "service '%s' sets both dockerfile and dockerfile_inline", s->name);
        bool found = !b->platforms.n || !s->platform;
        for (size_t i = 0; i < b->platforms.n && !found; i++)
            found = strcmp(b->platforms.v[i], s->platform) == 0;
        if (!found)
            pos_error(m, b->pos, path, "add the service's platform to build.platforms",
                      "build.platforms of service '%s' must include its platform '%s'", s->name,
                      s->platform);
        for (size_t i = 0; i < b->n_secrets; i++) {
            bool declared = false;
            for (size_t j = 0; j < p->n_secrets && !declared; j++)
                declared = strcmp(p->secrets[j].key, b->secrets[i].source) == 0;
            if (!declared)
                pos_error(m, b->secrets[i].pos, path, "declare it under the top-level secrets:",
                          "service '%s' uses build secret '%s', which is not declared", s->name,
                          b->secrets[i].source);
        }
        free(path);
    }
    /* The flat resource keys and deploy.resources must agree where both are set. */
    struct {
        bool clash;
        const char *flat, *deploy;
    } pairs[] = {
        {s->cpus != 0 && s->deploy.limits.cpus != 0 && s->cpus != s->deploy.limits.cpus, "cpus",
         "deploy.resources.limits.cpus"},
        {s->mem_limit != COMPOSE_UNSET && s->deploy.limits.memory != COMPOSE_UNSET &&
             s->mem_limit != s->deploy.limits.memory,
         "mem_limit", "deploy.resources.limits.memory"},
        {s->mem_reservation != COMPOSE_UNSET && s->deploy.reservations.memory != COMPOSE_UNSET &&
             s->mem_reservation != s->deploy.reservations.memory,
         "mem_reservation", "deploy.resources.reservations.memory"},
        {s->pids_limit != COMPOSE_UNSET && s->deploy.limits.pids != COMPOSE_UNSET &&
             s->pids_limit != s->deploy.limits.pids,
         "pids_limit", "deploy.resources.limits.pids"},
    };
    for (size_t i = 0; i < CC_ARRAY_LEN(pairs); i++) {
        if (!pairs[i].clash)
            continue;
        path = xasprintf("services.%s.%s", s->name, pairs[i].flat);
        char *hint = xasprintf("keep one of %s and %s", pairs[i].flat, pairs[i].deploy);
        pos_error(m, s->pos, path, hint, "service '%s' sets different values in %s and %s", s->name,
                  pairs[i].flat, pairs[i].deploy);
        free(hint);
        free(path);
    }
    if (s->container_name && compose_service_replicas(s) > 1) {
        path = xasprintf("services.%s.container_name", s->name);
        pos_error(m, s->pos, path, "remove container_name, or run one replica",
                  "service '%s' has container_name '%s' and %d replicas; container names must "
                  "be unique",
                  s->name, s->container_name, compose_service_replicas(s));
        free(path);
    }
}

static void check_container_names(struct mctx *m)
{
    struct compose_project *p = m->ctx->project;
    for (size_t i = 0; i < p->n_services; i++) {
        const struct compose_service *a = &p->services[i];
        for (size_t j = i + 1; a->container_name && j < p->n_services; j++) {
            const struct compose_service *b = &p->services[j];
            if (b->container_name && strcmp(a->container_name, b->container_name) == 0) {
                char *path = xasprintf("services.%s.container_name", b->name);
                pos_error(m, b->pos, path, "give each service its own container_name",
                          "services '%s' and '%s' have the same container_name '%s'", a->name,
                          b->name, a->container_name);
                free(path);
            }
        }
    }
}

/* Depth-first search; state 0 new, 1 on the stack, 2 done. */
static bool cycle_from(struct mctx *m, const struct by_name *bn, size_t i, int *state,
                       size_t *stack, size_t depth)
{
    struct compose_project *p = m->ctx->project;
    state[i] = 1;
    stack[depth] = i;
    const struct compose_service *s = &p->services[i];
    for (size_t d = 0; d < s->n_depends_on; d++) {
        size_t j = by_name_find(bn, s->depends_on[d].service);
        if (j == bn->n || j == i)
            continue;
        const struct compose_service *dep = &p->services[j];
        if (state[j] == 1) {
            char *chain = NULL;
            size_t from = 0;
            while (stack[from] != j)
                from++;
            for (size_t k = from; k <= depth; k++) {
                char *next = xasprintf("%s%s -> ", chain ? chain : "", p->services[stack[k]].name);
                free(chain);
                chain = next;
            }
            char *path = xasprintf("services.%s.depends_on", s->name);
            pos_error(m, s->depends_on[d].pos, path, "remove one of the dependencies",
                      "dependency cycle: %s%s", chain, dep->name);
            free(path);
            free(chain);
            return true;
        }
        if (state[j] == 0 && cycle_from(m, bn, j, state, stack, depth + 1))
            return true;
    }
    state[i] = 2;
    return false;
}

static void check_cycles(struct mctx *m, const struct by_name *bn)
{
    struct compose_project *p = m->ctx->project;
    size_t n = p->n_services;
    int *state = xcalloc(n ? n : 1, sizeof(*state));
    size_t *stack = xcalloc(n ? n : 1, sizeof(*stack));
    for (size_t i = 0; i < n; i++)
        if (state[i] == 0 && cycle_from(m, bn, i, state, stack, 0))
            break;
    free(state);
    free(stack);
}

/* ---- networks: the implicit default, and which are used ---- */

static void default_network(struct mctx *m)
{
    struct compose_project *p = m->ctx->project;
    bool needed = false;
    for (size_t i = 0; i < p->n_services; i++) {
        struct compose_service *s = &p->services[i];
        if (s->n_networks || s->network_mode)
            continue;
        s->networks = m_array(m, 1, sizeof(*s->networks));
        s->networks[0] = (struct compose_service_network){.key = "default", .pos = s->pos};
        s->n_networks = 1;
        needed = true;
    }
    for (size_t i = 0; i < p->n_services; i++)
        for (size_t j = 0; j < p->services[i].n_networks; j++)
            needed |= strcmp(p->services[i].networks[j].key, "default") == 0;
    if (needed && !compose_project_network(p, "default")) {
        /* m_networks() left room for one more. */
        if (!p->networks)
            p->networks = m_array(m, 1, sizeof(*p->networks));
        p->networks[p->n_networks++] = (struct compose_network){
            .key = "default",
            .name = arena_printf(m->a, "%s_default", p->name),
        };
    }
    for (size_t i = 0; i < p->n_networks; i++) {
        struct compose_network *net = &p->networks[i];
        for (size_t j = 0; j < p->n_services && !net->used; j++)
            for (size_t k = 0; k < p->services[j].n_networks && !net->used; k++)
                net->used = strcmp(p->services[j].networks[k].key, net->key) == 0;
    }
}

/* ---- errors in file order ---- */

static size_t file_rank(const struct compose_project *p, const char *file)
{
    if (!file)
        return SIZE_MAX;
    /* Files are named as given (-f web.yaml) and listed absolute: a relative name matches the
     * end of the absolute path. */
    size_t len = strlen(file);
    for (size_t i = 0; i < p->config_files.n; i++) {
        const char *c = p->config_files.v[i];
        size_t clen = strlen(c);
        if (strcmp(c, file) == 0 ||
            (file[0] != '/' && clen > len && c[clen - len - 1] == '/' &&
             strcmp(c + clen - len, file) == 0))
            return i;
    }
    return p->config_files.n;
}

static bool before(const struct compose_project *p, const struct cc_error *a,
                   const struct cc_error *b)
{
    size_t fa = file_rank(p, a->file), fb = file_rank(p, b->file);
    if (fa != fb)
        return fa < fb;
    if (a->file && b->file && fa == p->config_files.n) {
        int c = strcmp(a->file, b->file);
        if (c)
            return c < 0;
    }
    if (a->line != b->line)
        return a->line < b->line;
    return a->col < b->col;
}

static void sort_errors(struct compose_project *p, struct cc_error *v, size_t n)
{
    /* Insertion sort: stable, and a load reports a handful of problems. */
    for (size_t i = 1; i < n; i++) {
        struct cc_error x = v[i];
        size_t j = i;
        while (j > 0 && before(p, &x, &v[j - 1])) {
            v[j] = v[j - 1];
            j--;
        }
        v[j] = x;
    }
}

/* ---- the top level ---- */

static int f_services_later(struct mctx *m, const struct cnode *n, void *dst)
{
    (void)m, (void)n, (void)dst;
    return 0;
}

static int f_networks(struct mctx *m, const struct cnode *n, void *dst)
{
    (void)dst;
    return m_networks(m, n);
}

static int f_volumes(struct mctx *m, const struct cnode *n, void *dst)
{
    (void)dst;
    return m_volumes(m, n);
}

static int f_secrets(struct mctx *m, const struct cnode *n, void *dst)
{
    (void)dst;
    return m_file_defs(m, n, true);
}

static int f_configs(struct mctx *m, const struct cnode *n, void *dst)
{
    (void)dst;
    return m_file_defs(m, n, false);
}

static int f_context_size(struct mctx *m, const struct cnode *n, void *dst)
{
    struct compose_model *md = dst;
    return m_int64(m, n, 0, INT64_MAX, &md->context_size);
}

/* models: Docker Model Runner's, which the engine API has not: kept for `config`, warned about. */
static int f_models(struct mctx *m, const struct cnode *n, void *dst)
{
    static const struct mfield fields[] = {
        {"name", MF_STR, offsetof(struct compose_model, name), NULL},
        {"model", MF_STR, offsetof(struct compose_model, model), NULL},
        {"context_size", MF_CUSTOM, 0, f_context_size},
        {"runtime_flags", MF_LIST, offsetof(struct compose_model, runtime_flags), NULL},
    };
    struct compose_project *p = m->ctx->project;
    (void)dst;
    if (cnode_is_null(n))
        return 0;
    if (m_want_map(m, n) < 0)
        return -1;
    int r = 0;
    p->models = m_array(m, n->npairs, sizeof(*p->models));
    for (size_t i = 0; i < n->npairs; i++) {
        const struct cnode *k = n->pairs[i].key, *v = n->pairs[i].value;
        struct compose_model md = {.key = k->value, .context_size = COMPOSE_UNSET, .pos = m_pos(k)};
        cnode_path_push_key(&m->path, k->value);
        if (m_fields(m, v, fields, CC_ARRAY_LEN(fields), &md, "a model") < 0)
            r = -1;
        else if (!md.model)
            r = m_error(m, v, "add `model:` naming the model's image", "'%s' has no model",
                        m_path(m));
        else
            p->models[p->n_models++] = md;
        cnode_path_pop(&m->path);
    }
    if (r == 0 && p->n_models)
        m_warning(m, n, "'models' needs Docker Model Runner, which ccompose does not drive, "
                        "ignoring");
    return r;
}

static const struct mfield top_fields[] = {
    {"version", MF_ACCEPTED, 0, NULL}, /* obsolete: a warning, see compose_model_build() */
    {"name", MF_ACCEPTED, 0, NULL},    /* read by assembly */
    {"services", MF_CUSTOM, 0, f_services_later},
    {"networks", MF_CUSTOM, 0, f_networks},
    {"volumes", MF_CUSTOM, 0, f_volumes},
    {"secrets", MF_CUSTOM, 0, f_secrets},
    {"configs", MF_CUSTOM, 0, f_configs},
    {"include", MF_ACCEPTED, 0, NULL}, /* applied by assembly */
    {"models", MF_CUSTOM, 0, f_models},
};

int compose_model_build(struct compose_load_ctx *ctx, const struct cnode *root)
{
    struct mctx m = {.ctx = ctx, .a = &ctx->project->arena, .path = CNODE_PATH_INIT};
    struct compose_project *p = ctx->project;
    size_t first_error = ctx->diag ? ctx->diag->n_errors : 0;
    struct compose_service *all = NULL;
    size_t n_all = 0;

    for (size_t i = 0; root->kind == CNODE_MAPPING && i < root->npairs; i++)
        if (strcmp(root->pairs[i].key->value, "version") == 0)
            m_warning(&m, root->pairs[i].key,
                      "the attribute `version` is obsolete, it will be ignored, please remove it "
                      "to avoid potential confusion");
    m_fields(&m, root, top_fields, CC_ARRAY_LEN(top_fields), NULL, "the top level");
    const struct cnode *services = cnode_get(root, "services");
    if (services) {
        cnode_path_push_key(&m.path, "services");
        read_services(&m, services, &all, &n_all);
        cnode_path_pop(&m.path);
    }
    implicit_dependencies(&m, all, n_all);
    apply_profiles(&m, all, n_all);
    struct by_name bn;
    by_name_init(&bn, p);
    for (size_t i = 0; i < p->n_services; i++)
        check_dependencies(&m, &bn, &p->services[i]);
    for (size_t i = 0; i < p->n_services; i++)
        check_service_refs(&m, &bn, &p->services[i]);
    check_container_names(&m);
    check_cycles(&m, &bn);
    free(bn.index);
    default_network(&m);

    qsort(p->services, p->n_services, sizeof(*p->services), cmp_service);
    if (p->n_networks)
        qsort(p->networks, p->n_networks, sizeof(*p->networks), cmp_network);
    if (p->n_volumes)
        qsort(p->volumes, p->n_volumes, sizeof(*p->volumes), cmp_volume);
    if (p->n_secrets)
        qsort(p->secrets, p->n_secrets, sizeof(*p->secrets), cmp_file_def);
    if (p->n_configs)
        qsort(p->configs, p->n_configs, sizeof(*p->configs), cmp_file_def);
    if (p->disabled_services.n)
        qsort(p->disabled_services.v, p->disabled_services.n, sizeof(*p->disabled_services.v),
              cmp_str);

    if (m.n_errors && ctx->diag)
        sort_errors(p, ctx->diag->errors + first_error, ctx->diag->n_errors - first_error);
    return m.n_errors ? -1 : 0;
}
