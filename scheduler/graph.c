/* The dependency graph of a project's services: what each one waits for, and on what condition.
 * depends_on gives the condition; links, volumes_from and network_mode/ipc/pid `service:X` mean
 * "started". A cycle is an error naming its path. Also small JSON/string helpers of the module. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "scheduler/run-internal.h"
#include "scheduler/scheduler-internal.h"

json_t *sched_project_filters(const char *project, const char *type)
{
    char *label = xasprintf("%s=%s", SCHED_LABEL_PROJECT, project);
    json_t *f = json_pack("{s:[s]}", "label", label);
    free(label);
    if (type)
        json_object_set_new(f, "type", json_pack("[s]", type));
    return f;
}

long long sched_time_ns(const char *rfc3339)
{
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    const char *rest = rfc3339 ? strptime(rfc3339, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
    if (!rest)
        return 0;
    long long ns = 0;
    int digits = 0;
    if (*rest == '.')
        for (rest++; *rest >= '0' && *rest <= '9'; rest++, digits++)
            if (digits < 9)
                ns = ns * 10 + (*rest - '0');
    for (; digits < 9; digits++)
        ns *= 10;
    long long offset_s = 0;
    if ((*rest == '+' || *rest == '-') && strlen(rest) >= 6)
        offset_s = (atoi(rest + 1) * 3600 + atoi(rest + 4) * 60) * (*rest == '-' ? -1 : 1);
    return ((long long)timegm(&tm) - offset_s) * 1000000000LL + ns;
}

const char *sched_json_str(json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

void sched_strv_push(char ***v, size_t *n, char *s)
{
    *v = xrealloc(*v, (*n + 1) * sizeof(**v));
    (*v)[(*n)++] = s;
}

static ssize_t service_index(const struct compose_project *p, const char *name, size_t len)
{
    for (size_t i = 0; i < p->n_services; i++)
        if (strlen(p->services[i].name) == len && !strncmp(p->services[i].name, name, len))
            return (ssize_t)i;
    return -1;
}

static void add_dep(struct sched_graph *g, size_t from, size_t to, enum compose_condition cond,
                    bool required, bool restart)
{
    for (size_t k = 0; k < g->n_deps[from]; k++)
        if (g->deps[from][k].service == to)
            return; /* depends_on came first and says more */
    g->deps[from] = xrealloc(g->deps[from], (g->n_deps[from] + 1) * sizeof(struct sched_dep));
    g->deps[from][g->n_deps[from]++] = (struct sched_dep){to, cond, required, restart};
}

/* A reference to another service by name (len bytes of name); what says where it came from. */
static int add_ref(const struct compose_project *p, struct sched_graph *g, size_t from,
                   const char *name, size_t len, const char *what, struct cc_error *reterr)
{
    ssize_t to = service_index(p, name, len);
    if (to < 0)
        return cc_error_set(reterr, CC_ERR_INVALID_CONFIG,
                            "service '%s' refers to undefined service '%.*s' in %s",
                            p->services[from].name, (int)len, name, what);
    add_dep(g, from, (size_t)to, COMPOSE_COND_STARTED, true, false);
    return 0;
}

static int add_mode_ref(const struct compose_project *p, struct sched_graph *g, size_t from,
                        const char *mode, const char *what, struct cc_error *reterr)
{
    if (!mode || strncmp(mode, "service:", 8))
        return 0;
    return add_ref(p, g, from, mode + 8, strlen(mode + 8), what, reterr);
}

static int service_edges(const struct compose_project *p, struct sched_graph *g, size_t i,
                         char ***warnings, size_t *n_warnings, struct cc_error *reterr)
{
    const struct compose_service *s = &p->services[i];
    for (size_t k = 0; k < s->n_depends_on; k++) {
        const struct compose_dependency *d = &s->depends_on[k];
        ssize_t to = service_index(p, d->service, strlen(d->service));
        if (to >= 0) {
            add_dep(g, i, (size_t)to, d->condition, d->required, d->restart);
        } else if (d->required) {
            return cc_error_set(reterr, CC_ERR_INVALID_CONFIG,
                                "service '%s' depends on undefined service '%s'", s->name,
                                d->service);
        } else {
            sched_strv_push(warnings, n_warnings,
                            xasprintf("service '%s' depends on undefined service '%s' "
                                      "(required: false), ignoring",
                                      s->name, d->service));
        }
    }
    for (size_t k = 0; k < s->links.n; k++) {
        const char *l = s->links.v[k];
        if (add_ref(p, g, i, l, strcspn(l, ":"), "links", reterr) < 0)
            return -1;
    }
    for (size_t k = 0; k < s->volumes_from.n; k++) {
        const char *v = s->volumes_from.v[k];
        if (!strncmp(v, "container:", 10))
            continue;
        if (!strncmp(v, "service:", 8))
            v += 8;
        if (add_ref(p, g, i, v, strcspn(v, ":"), "volumes_from", reterr) < 0)
            return -1;
    }
    if (add_mode_ref(p, g, i, s->network_mode, "network_mode", reterr) < 0 ||
        add_mode_ref(p, g, i, s->ipc, "ipc", reterr) < 0 ||
        add_mode_ref(p, g, i, s->pid, "pid", reterr) < 0)
        return -1;
    return 0;
}

enum { WHITE = 0, GREY, BLACK };

/* Depth-first; stack holds the grey path so a back edge can be named from where it closes. */
static int visit(const struct compose_project *p, const struct sched_graph *g, size_t i,
                 char *color, size_t *stack, size_t depth, struct cc_error *reterr)
{
    color[i] = GREY;
    stack[depth] = i;
    for (size_t k = 0; k < g->n_deps[i]; k++) {
        size_t to = g->deps[i][k].service;
        if (color[to] == GREY) {
            struct buf path = BUF_INIT;
            size_t start = 0;
            while (stack[start] != to)
                start++;
            for (size_t j = start; j <= depth; j++)
                buf_printf(&path, "%s -> ", p->services[stack[j]].name);
            buf_adds(&path, p->services[to].name);
            cc_error_set(reterr, CC_ERR_INVALID_CONFIG, "dependency cycle: %s", buf_str(&path));
            buf_release(&path);
            return -1;
        }
        if (color[to] == WHITE && visit(p, g, to, color, stack, depth + 1, reterr) < 0)
            return -1;
    }
    color[i] = BLACK;
    return 0;
}

int sched_graph_build(const struct compose_project *p, struct sched_graph **ret_graph,
                      char ***warnings, size_t *n_warnings, struct cc_error *reterr)
{
    int rc = -1;
    struct sched_graph *g = xcalloc(1, sizeof(*g));
    g->n = p->n_services;
    g->deps = xcalloc(g->n + 1, sizeof(*g->deps));
    g->n_deps = xcalloc(g->n + 1, sizeof(*g->n_deps));
    char *color = xcalloc(g->n + 1, 1);
    size_t *stack = xcalloc(g->n + 1, sizeof(*stack));
    for (size_t i = 0; i < g->n; i++)
        if (service_edges(p, g, i, warnings, n_warnings, reterr) < 0)
            goto out;
    for (size_t i = 0; i < g->n; i++)
        if (color[i] == WHITE && visit(p, g, i, color, stack, 0, reterr) < 0)
            goto out;
    *ret_graph = g;
    g = NULL;
    rc = 0;
out:
    free(stack);
    free(color);
    sched_graph_free(g);
    return rc;
}

int sched_graph_edges(const struct compose_project *project, struct sched_edge **ret_edges,
                      size_t *ret_n, char ***warnings, size_t *n_warnings, struct cc_error *reterr)
{
    struct sched_graph *g = NULL;
    if (sched_graph_build(project, &g, warnings, n_warnings, reterr) < 0)
        return -1;
    size_t n = 0;
    for (size_t i = 0; i < g->n; i++)
        n += g->n_deps[i];
    struct sched_edge *edges = xcalloc(n + 1, sizeof(*edges));
    n = 0;
    for (size_t i = 0; i < g->n; i++)
        for (size_t k = 0; k < g->n_deps[i]; k++) {
            const struct sched_dep *d = &g->deps[i][k];
            edges[n++] = (struct sched_edge){i, d->service, d->condition, d->required, d->restart};
        }
    sched_graph_free(g);
    *ret_edges = edges;
    *ret_n = n;
    return 0;
}

void sched_graph_free(struct sched_graph *g)
{
    if (!g)
        return;
    for (size_t i = 0; i < g->n; i++)
        free(g->deps[i]);
    free(g->deps);
    free(g->n_deps);
    free(g);
}
