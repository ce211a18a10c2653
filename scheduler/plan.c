/* Plan: the model (with its selection and replica counts) against what was observed, as a value.
 * Networks and volumes some selected service uses come first, then each selected service's
 * containers in dependency order, then orphans. Every action says why, so "why was this
 * recreated?" is answered by reading the plan; --dry-run prints it with sched_plan_render(). */
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "scheduler/run-internal.h"
#include "scheduler/scheduler-internal.h"

struct planner {
    const struct compose_project *p;
    const struct sched_observed *o;
    const struct sched_plan_options *opts;
    struct sched_plan *plan;
    struct buf missing; /* external resources that do not exist */
};

static struct sched_action *push(struct sched_plan *plan, enum sched_action_kind kind,
                                 const char *service, const char *name, char *reason)
{
    plan->actions = xrealloc(plan->actions, (plan->n_actions + 1) * sizeof(*plan->actions));
    struct sched_action *a = &plan->actions[plan->n_actions++];
    memset(a, 0, sizeof(*a));
    a->kind = kind;
    a->service = service ? xstrdup(service) : NULL;
    a->name = xstrdup(name);
    a->reason = reason;
    return a;
}

static int select_services(struct planner *pl, struct cc_error *reterr)
{
    const struct compose_project *p = pl->p;
    struct sched_plan *plan = pl->plan;
    if (!pl->opts->n_services && !pl->opts->resources_of) {
        for (size_t i = 0; i < p->n_services; i++)
            plan->selected[i] = true;
        return 0;
    }
    for (size_t k = 0; k < pl->opts->n_services; k++) {
        const struct compose_service *s = compose_project_service(p, pl->opts->services[k]);
        if (!s)
            return cc_error_set(reterr, CC_ERR_USAGE, "no such service: '%s'",
                                pl->opts->services[k]);
        plan->selected[s - p->services] = true;
    }
    /* Naming a service brings what it depends on (unless no_deps): close over the graph until
     * nothing changes. */
    for (bool changed = !pl->opts->no_deps; changed;) {
        changed = false;
        for (size_t i = 0; i < p->n_services; i++) {
            if (!plan->selected[i])
                continue;
            for (size_t k = 0; k < plan->graph->n_deps[i]; k++) {
                size_t d = plan->graph->deps[i][k].service;
                changed |= !plan->selected[d];
                plan->selected[d] = true;
            }
        }
    }
    return 0;
}

static int set_replicas(struct planner *pl, struct cc_error *reterr)
{
    const struct compose_project *p = pl->p;
    for (size_t i = 0; i < p->n_services; i++)
        pl->plan->replicas[i] = compose_service_replicas(&p->services[i]);
    for (size_t k = 0; k < pl->opts->n_scale; k++) {
        const struct compose_service *s = compose_project_service(p, pl->opts->scale[k].service);
        if (!s)
            return cc_error_set(reterr, CC_ERR_USAGE, "no such service: '%s'",
                                pl->opts->scale[k].service);
        pl->plan->replicas[s - p->services] = pl->opts->scale[k].replicas;
    }
    return 0;
}

static const struct sched_observed_resource *find_res(const struct sched_observed_resource *v,
                                                      size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(v[i].name, name))
            return &v[i];
    return NULL;
}

/* One network or volume the selection uses. */
static void plan_resource(struct planner *pl, bool network, size_t index)
{
    const struct compose_project *p = pl->p;
    const char *name =
        network ? sched_network_name(&p->networks[index]) : sched_volume_name(&p->volumes[index]);
    const char *key = network ? p->networks[index].key : p->volumes[index].key;
    bool external = network ? p->networks[index].external : p->volumes[index].external;
    const char *kind = network ? "network" : "volume";
    const struct sched_observed_resource *r =
        network ? find_res(pl->o->networks, pl->o->n_networks, name)
                : find_res(pl->o->volumes, pl->o->n_volumes, name);
    enum sched_action_kind create = network ? SCHED_ACT_NETWORK_CREATE : SCHED_ACT_VOLUME_CREATE;
    enum sched_action_kind keep = network ? SCHED_ACT_NETWORK_KEEP : SCHED_ACT_VOLUME_KEEP;
    struct sched_action *a;
    if (external && !r) {
        buf_printf(&pl->missing, "%s%s '%s'", pl->missing.len ? ", " : "", kind, name);
        return;
    }
    if (external) {
        a = push(pl->plan, keep, NULL, name, xstrdup("external"));
    } else if (!r) {
        a = push(pl->plan, create, NULL, name, xstrdup("not found"));
    } else if (r->labeled) {
        a = push(pl->plan, keep, NULL, name, xstrdup("exists"));
    } else {
        a = push(pl->plan, keep, NULL, name,
                 xasprintf("%s '%s' exists but was not created for project '%s': reusing it; "
                           "set 'external: true' on %ss.%s if it is meant to be shared",
                           kind, name, p->name, kind, key));
        a->warning = true;
    }
    a->index = index;
}

/* Whether service i's networks and volumes are needed: it is selected, or it is the one-off
 * service of `run`. */
static bool uses_resources(const struct planner *pl, size_t i)
{
    return pl->plan->selected[i] ||
           (pl->opts->resources_of && !strcmp(pl->p->services[i].name, pl->opts->resources_of));
}

static void plan_resources(struct planner *pl)
{
    const struct compose_project *p = pl->p;
    for (size_t n = 0; n < p->n_networks; n++) {
        bool used = false;
        for (size_t i = 0; i < p->n_services && !used; i++)
            for (size_t k = 0; uses_resources(pl, i) && k < p->services[i].n_networks; k++)
                used |= !strcmp(p->services[i].networks[k].key, p->networks[n].key);
        if (used)
            plan_resource(pl, true, n);
    }
    for (size_t v = 0; v < p->n_volumes; v++) {
        bool used = false;
        for (size_t i = 0; i < p->n_services && !used; i++) {
            const struct compose_service *s = &p->services[i];
            for (size_t k = 0; uses_resources(pl, i) && k < s->n_volumes; k++)
                used |= s->volumes[k].type == COMPOSE_MOUNT_VOLUME && s->volumes[k].source &&
                        !strcmp(s->volumes[k].source, p->volumes[v].key);
        }
        if (used)
            plan_resource(pl, false, v);
    }
}

static char *short_hash(const char *h)
{
    return h ? xstrndup(h, 12) : xstrdup("none");
}

/* The service's image's Config as observed (borrowed), or NULL. */
static json_t *image_config(const struct planner *pl, const struct compose_service *s)
{
    size_t si = (size_t)(s - pl->p->services);
    if (si < pl->o->n_images && !strcmp(pl->o->images[si].service, s->name))
        return pl->o->images[si].config;
    return NULL;
}

/* Why an existing container differs from the model, or NULL when it is up to date: the fields
 * that differ when the container was looked at (observe inspects those whose hash differs), else
 * the hashes. */
static char *diverged(const struct planner *pl, const struct compose_service *s,
                      const struct sched_observed_container *c, const char *hash,
                      const char *image_id)
{
    if (!c->config_hash || strcmp(c->config_hash, hash)) {
        char *fields =
            c->inspect ? sched_config_diff(pl->p, s, c->number, c->inspect, image_config(pl, s))
                       : NULL;
        if (fields)
            return fields;
        char *a = short_hash(c->config_hash), *b = short_hash(hash);
        char *r = xasprintf("config hash differs (%s, now %s)", a, b);
        free(a);
        free(b);
        return r;
    }
    if (image_id && c->image_id && strcmp(c->image_id, image_id))
        return xasprintf("image ID differs (%.19s, now %.19s)", c->image_id, image_id);
    return NULL;
}

/* Whether service is one the command named (every service is when none is). */
static bool named(const struct planner *pl, const char *service)
{
    for (size_t k = 0; k < pl->opts->n_services; k++)
        if (!strcmp(pl->opts->services[k], service))
            return true;
    return pl->opts->n_services == 0;
}

/* The container's action under the recreate policy, with its reason (new) in *why. A diverged
 * container that the policy keeps says why it was not recreated. */
static enum sched_action_kind container_action(const struct planner *pl,
                                               const struct compose_service *s,
                                               const struct sched_observed_container *c,
                                               const char *hash, const char *image_id,
                                               enum sched_recreate policy, char **why)
{
    bool running = c->state && !strcmp(c->state, "running");
    char *diff = diverged(pl, s, c, hash, image_id);
    enum sched_action_kind kind;
    if (policy == SCHED_RECREATE_FORCE) {
        kind = SCHED_ACT_RECREATE;
        *why = xstrdup(pl->opts->n_services && !named(pl, c->service)
                           ? "forced: --always-recreate-deps"
                           : "forced: --force-recreate");
    } else if (diff && policy == SCHED_RECREATE_DIVERGED) {
        kind = SCHED_ACT_RECREATE;
        *why = diff;
        diff = NULL;
    } else if (!running && !pl->opts->no_start) {
        kind = SCHED_ACT_START;
        *why = xasprintf("exists but is %s%s%s%s", c->state ? c->state : "not running",
                         diff ? "; " : "", diff ? diff : "", diff ? ", not recreated" : "");
    } else {
        kind = SCHED_ACT_KEEP;
        if (diff)
            *why = xasprintf("%s, not recreated", diff);
        else if (!running)
            *why = xasprintf("exists but is %s; not started", c->state ? c->state : "not running");
        else
            *why = xstrdup("up to date");
    }
    free(diff);
    return kind;
}

/* The old container's anonymous volumes (an image's VOLUME, or a service volume without a
 * source) that its replacement mounts again, as docker compose keeps their data across a
 * recreate; NULL when there are none. */
static json_t *inherited_volumes(const struct compose_service *s,
                                 const struct sched_observed_container *c)
{
    json_t *out = NULL, *m;
    size_t i;
    json_array_foreach(json_object_get(c->summary, "Mounts"), i, m)
    {
        const char *type = sched_json_str(m, "Type"), *name = sched_json_str(m, "Name");
        const char *dst = sched_json_str(m, "Destination");
        if (!type || strcmp(type, "volume") || !name || !dst)
            continue;
        bool anonymous = true;
        for (size_t k = 0; k < s->n_volumes; k++)
            if (!strcmp(s->volumes[k].target, dst))
                anonymous = s->volumes[k].type == COMPOSE_MOUNT_VOLUME && !s->volumes[k].source;
        if (!anonymous)
            continue;
        if (!out)
            out = json_array();
        json_array_append_new(out, json_pack("{s:s, s:s}", "Target", dst, "Source", name));
    }
    return out;
}

static int plan_service(struct planner *pl, size_t si, struct cc_error *reterr)
{
    const struct compose_project *p = pl->p;
    const struct compose_service *s = &p->services[si];
    int want = pl->plan->replicas[si];
    char *hash = sched_config_hash(p, s);
    if (!hash) {
        json_t *body = sched_container_body(p, s, 1, NULL, reterr);
        json_decref(body);
        return -1;
    }
    if (s->container_name && want > 1) {
        free(hash);
        return cc_error_set(reterr, CC_ERR_INVALID_CONFIG,
                            "service '%s' sets container_name and cannot have %d containers",
                            s->name, want);
    }
    int have = 0, highest = 0;
    const struct sched_observed_container *mine[256];
    for (size_t i = 0; i < pl->o->n_containers; i++) {
        const struct sched_observed_container *c = &pl->o->containers[i];
        if (c->oneoff || !c->service || strcmp(c->service, s->name))
            continue;
        if (have < (int)CC_ARRAY_LEN(mine))
            mine[have++] = c;
        if (c->number > highest)
            highest = c->number;
    }
    const char *image_id = pl->plan->image_ids[si];
    enum sched_recreate policy = named(pl, s->name) ? pl->opts->recreate : pl->opts->recreate_deps;
    if (pl->opts->existing_only) {
        policy = SCHED_RECREATE_NEVER;
        want = have;
    }
    for (int k = 0; k < have && k < want; k++) {
        const struct sched_observed_container *c = mine[k];
        char *why = NULL;
        enum sched_action_kind kind = container_action(pl, s, c, hash, image_id, policy, &why);
        struct sched_action *a = push(pl->plan, kind, s->name, c->name, why);
        a->id = xstrdup(c->id);
        a->number = c->number;
        a->index = si;
        a->stopped = !c->state || strcmp(c->state, "running");
        if (kind == SCHED_ACT_RECREATE && !pl->opts->renew_volumes)
            a->inherit = inherited_volumes(s, c);
    }
    for (int k = have; k < want; k++) {
        int number = ++highest;
        char *name = sched_container_name(p, s, number);
        struct sched_action *a =
            push(pl->plan, SCHED_ACT_CREATE, s->name, name,
                 xasprintf("service '%s' has %d of %d containers", s->name, k, want));
        a->number = number;
        a->index = si;
        free(name);
    }
    /* Surplus goes highest number first, as docker compose scales down. */
    for (int k = have - 1; k >= want; k--) {
        struct sched_action *a =
            push(pl->plan, SCHED_ACT_SCALE_DOWN, s->name, mine[k]->name,
                 xasprintf("scale down: service '%s' wants %d", s->name, want));
        a->id = xstrdup(mine[k]->id);
        a->number = mine[k]->number;
        a->index = si;
    }
    free(hash);
    return 0;
}

/* Services in dependency order (what is needed first), ties by name (the model's order). */
static size_t *dependency_order(const struct compose_project *p, const struct sched_graph *g)
{
    size_t *order = xcalloc(p->n_services + 1, sizeof(*order)), n = 0;
    bool *placed = xcalloc(p->n_services + 1, sizeof(*placed));
    while (n < p->n_services) {
        for (size_t i = 0; i < p->n_services; i++) {
            bool ready = !placed[i];
            for (size_t k = 0; ready && k < g->n_deps[i]; k++)
                ready = placed[g->deps[i][k].service];
            if (ready) {
                placed[i] = true;
                order[n++] = i;
            }
        }
    }
    free(placed);
    return order;
}

static bool service_changes(const struct sched_plan *plan, size_t si)
{
    for (size_t k = 0; k < plan->n_actions; k++)
        if (plan->actions[k].service && plan->actions[k].index == si &&
            (plan->actions[k].kind == SCHED_ACT_RECREATE ||
             plan->actions[k].kind == SCHED_ACT_RESTART))
            return true;
    return false;
}

/* A kept container whose `restart: true` dependency is recreated (or restarted) restarts. */
static void plan_restarts(struct sched_plan *plan, size_t si)
{
    const struct sched_graph *g = plan->graph;
    for (size_t k = 0; k < g->n_deps[si]; k++) {
        const struct sched_dep *d = &g->deps[si][k];
        if (!d->restart || !service_changes(plan, d->service))
            continue;
        for (size_t a = 0; a < plan->n_actions; a++) {
            struct sched_action *act = &plan->actions[a];
            if (act->kind != SCHED_ACT_KEEP || act->index != si || !act->service)
                continue;
            act->kind = SCHED_ACT_RESTART;
            free(act->reason);
            act->reason =
                xasprintf("dependency '%s' is recreated", plan->project->services[d->service].name);
        }
    }
}

static void plan_orphans(struct planner *pl)
{
    bool ignore = pl->opts->ignore_orphans || pl->opts->existing_only;
    for (size_t i = 0; !ignore && i < pl->o->n_containers; i++) {
        const struct sched_observed_container *c = &pl->o->containers[i];
        if (c->oneoff || (c->service && compose_project_service(pl->p, c->service)))
            continue;
        struct sched_action *a =
            push(pl->plan, SCHED_ACT_ORPHAN, c->service ? c->service : "", c->name,
                 pl->opts->remove_orphans
                     ? xasprintf("service '%s' is not in the project", c->service)
                     : xasprintf("orphan container (service '%s' is not in the project); run "
                                 "with --remove-orphans to remove it",
                                 c->service));
        a->id = xstrdup(c->id);
        a->number = c->number;
        a->remove = pl->opts->remove_orphans;
        a->warning = !a->remove;
    }
}

int sched_plan_build(const struct compose_project *project, const struct sched_observed *observed,
                     const struct sched_plan_options *opts, struct sched_plan **ret_plan,
                     struct cc_error *reterr)
{
    static const struct sched_plan_options no_opts;
    int rc = -1;
    size_t *order = NULL;
    struct sched_plan *plan = xcalloc(1, sizeof(*plan));
    struct planner pl = {project, observed, opts ? opts : &no_opts, plan, BUF_INIT};
    plan->project = project;
    plan->selected = xcalloc(project->n_services + 1, sizeof(*plan->selected));
    plan->replicas = xcalloc(project->n_services + 1, sizeof(*plan->replicas));
    plan->image_ids = xcalloc(project->n_services + 1, sizeof(*plan->image_ids));
    plan->n_services = project->n_services;
    for (size_t i = 0; i < observed->n_images && i < project->n_services; i++)
        if (observed->images[i].id &&
            !strcmp(observed->images[i].service, project->services[i].name))
            plan->image_ids[i] = xstrdup(observed->images[i].id);
    if (sched_graph_build(project, &plan->graph, &plan->warnings, &plan->n_warnings, reterr) < 0)
        goto out;
    if (select_services(&pl, reterr) < 0 || set_replicas(&pl, reterr) < 0)
        goto out;
    plan_resources(&pl);
    if (pl.missing.len) {
        cc_error_set(reterr, CC_ERR_NOT_FOUND, "external %s not found", buf_str(&pl.missing));
        cc_error_hint(reterr, "create it first, or remove 'external: true'");
        goto out;
    }
    order = dependency_order(project, plan->graph);
    for (size_t k = 0; k < project->n_services; k++)
        if (plan->selected[order[k]] && plan_service(&pl, order[k], reterr) < 0)
            goto out;
    /* Nothing starts with no_start, so nothing restarts either. */
    for (size_t k = 0; k < project->n_services && !pl.opts->no_start; k++)
        if (plan->selected[order[k]])
            plan_restarts(plan, order[k]);
    plan_orphans(&pl);
    *ret_plan = plan;
    plan = NULL;
    rc = 0;
out:
    free(order);
    buf_release(&pl.missing);
    sched_plan_free(plan);
    return rc;
}

void sched_plan_free(struct sched_plan *plan)
{
    if (!plan)
        return;
    for (size_t i = 0; i < plan->n_actions; i++) {
        free(plan->actions[i].service);
        free(plan->actions[i].name);
        free(plan->actions[i].id);
        free(plan->actions[i].reason);
        json_decref(plan->actions[i].inherit);
    }
    for (size_t i = 0; i < plan->n_services; i++)
        free(plan->image_ids[i]);
    for (size_t i = 0; i < plan->n_warnings; i++)
        free(plan->warnings[i]);
    free(plan->actions);
    free(plan->selected);
    free(plan->replicas);
    free(plan->image_ids);
    free(plan->warnings);
    sched_graph_free(plan->graph);
    free(plan);
}

static const char *verb(const struct sched_action *a)
{
    switch (a->kind) {
    case SCHED_ACT_NETWORK_CREATE:
    case SCHED_ACT_VOLUME_CREATE:
    case SCHED_ACT_CREATE:
        return "create";
    case SCHED_ACT_NETWORK_KEEP:
    case SCHED_ACT_VOLUME_KEEP:
    case SCHED_ACT_KEEP:
        return "keep";
    case SCHED_ACT_RECREATE:
        return "recreate";
    case SCHED_ACT_START:
        return "start";
    case SCHED_ACT_RESTART:
        return "restart";
    case SCHED_ACT_SCALE_DOWN:
        return "remove";
    case SCHED_ACT_ORPHAN:
        return a->remove ? "remove orphan" : "orphan";
    }
    return "?";
}

static const char *action_resource(const struct sched_action *a)
{
    switch (a->kind) {
    case SCHED_ACT_NETWORK_CREATE:
    case SCHED_ACT_NETWORK_KEEP:
        return "network";
    case SCHED_ACT_VOLUME_CREATE:
    case SCHED_ACT_VOLUME_KEEP:
        return "volume";
    default:
        return "container";
    }
}

void sched_plan_render(const struct sched_plan *plan, struct buf *out)
{
    for (size_t i = 0; i < plan->n_actions; i++) {
        const struct sched_action *a = &plan->actions[i];
        buf_printf(out, "%s %s: %s (%s)\n", action_resource(a), a->name, verb(a), a->reason);
    }
    for (size_t i = 0; i < plan->n_warnings; i++)
        buf_printf(out, "warning: %s\n", plan->warnings[i]);
}
