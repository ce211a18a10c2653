/* `ccompose graph [--format dot|mermaid|text]`: the dependency graph the scheduler starts the
 * project by (sched_graph_edges()), each edge labelled with its condition, and the networks as
 * clusters. A service sits in the cluster of its networks; a network whose services are all on
 * another one nests inside that one's cluster (the voting app's front-tier inside back-tier),
 * and a service on networks that do not nest so is drawn in one and tied to the others by a
 * dotted line. Nothing is asked of the engine. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "common/util.h"
#include "compose/compose.h"
#include "scheduler/scheduler.h"

enum graph_format { GRAPH_TEXT, GRAPH_DOT, GRAPH_MERMAID };

struct graph {
    const struct compose_project *p;
    struct sched_edge *edges;
    size_t n_edges;
    bool *member;    /* member[net * n_services + svc]: service svc is on network net */
    size_t *count;   /* services on each network */
    ssize_t *parent; /* the network each network's cluster nests in; -1: none */
    ssize_t *home;   /* the network each service is drawn in; -1: none (network_mode) */
};

static bool on(const struct graph *g, size_t net, size_t svc)
{
    return g->member[net * g->p->n_services + svc];
}

static ssize_t network_index(const struct compose_project *p, const char *key)
{
    for (size_t i = 0; i < p->n_networks; i++)
        if (!strcmp(p->networks[i].key, key))
            return (ssize_t)i;
    return -1;
}

/* Whether network a's cluster is b's or inside it. */
static bool within(const struct graph *g, ssize_t a, ssize_t b)
{
    for (; a >= 0; a = g->parent[a])
        if (a == b)
            return true;
    return false;
}

static void graph_layout(struct graph *g)
{
    const struct compose_project *p = g->p;
    size_t nn = p->n_networks, ns = p->n_services;
    g->member = xcalloc(nn * ns + 1, sizeof(*g->member));
    g->count = xcalloc(nn + 1, sizeof(*g->count));
    g->parent = xcalloc(nn + 1, sizeof(*g->parent));
    g->home = xcalloc(ns + 1, sizeof(*g->home));
    for (size_t s = 0; s < ns; s++)
        for (size_t k = 0; k < p->services[s].n_networks; k++) {
            ssize_t n = network_index(p, p->services[s].networks[k].key);
            if (n >= 0 && !g->member[(size_t)n * ns + s]) {
                g->member[(size_t)n * ns + s] = true;
                g->count[n]++;
            }
        }
    /* A network nests in the smallest other one holding all its services; between two with the
     * same services, the later in the first, so that nesting never loops. */
    for (size_t a = 0; a < nn; a++) {
        g->parent[a] = -1;
        for (size_t b = 0; b < nn && g->count[a]; b++) {
            if (b == a || g->count[b] < g->count[a] || (g->count[b] == g->count[a] && b > a))
                continue;
            bool superset = true;
            for (size_t s = 0; s < ns && superset; s++)
                superset = !on(g, a, s) || on(g, b, s);
            if (superset && (g->parent[a] < 0 || g->count[b] < g->count[g->parent[a]]))
                g->parent[a] = (ssize_t)b;
        }
    }
    /* A service goes in the innermost of its networks whose enclosing clusters hold most of its
     * other networks. */
    for (size_t s = 0; s < ns; s++) {
        size_t best_cover = 0;
        g->home[s] = -1;
        for (size_t n = 0; n < nn; n++) {
            if (!on(g, n, s))
                continue;
            size_t cover = 0;
            for (size_t m = 0; m < nn; m++)
                cover += on(g, m, s) && within(g, (ssize_t)n, (ssize_t)m);
            if (cover > best_cover ||
                (cover == best_cover && g->home[s] >= 0 && g->count[n] < g->count[g->home[s]])) {
                best_cover = cover;
                g->home[s] = (ssize_t)n;
            }
        }
    }
}

static void graph_release(struct graph *g)
{
    free(g->edges);
    free(g->member);
    free(g->count);
    free(g->parent);
    free(g->home);
}

/* The words on an edge: its condition, and what else depends_on says. */
static char *edge_label(const struct sched_edge *e)
{
    return xasprintf("%s%s%s", compose_condition_name(e->condition),
                     e->required ? "" : ", optional", e->restart ? ", restart" : "");
}

/* ---- text: services in the order they start, then the networks ----------------------------- */

static void print_text(const struct graph *g)
{
    const struct compose_project *p = g->p;
    size_t ns = p->n_services;
    /* Kahn's algorithm, the lowest index first among the ready: the scheduler's own order. */
    size_t *waiting = xcalloc(ns + 1, sizeof(*waiting));
    bool *done = xcalloc(ns + 1, sizeof(*done));
    for (size_t i = 0; i < g->n_edges; i++)
        waiting[g->edges[i].from]++;
    printf("services (in start order; \"a <- b (condition)\": a starts after b):\n");
    for (size_t round = 0; round < ns; round++) {
        size_t s = 0;
        while (s < ns && (done[s] || waiting[s]))
            s++;
        if (s == ns)
            break; /* cannot happen: sched_graph_edges() refuses cycles */
        done[s] = true;
        printf("  %s", p->services[s].name);
        const char *sep = " <- ";
        for (size_t i = 0; i < g->n_edges; i++) {
            if (g->edges[i].to == s)
                waiting[g->edges[i].from]--;
            if (g->edges[i].from != s)
                continue;
            char *label = edge_label(&g->edges[i]);
            printf("%s%s (%s)", sep, p->services[g->edges[i].to].name, label);
            free(label);
            sep = ", ";
        }
        printf("\n");
    }
    if (p->n_networks)
        printf("networks:\n");
    for (size_t n = 0; n < p->n_networks; n++) {
        printf("  %s:", p->networks[n].key);
        const char *sep = " ";
        for (size_t s = 0; s < ns; s++)
            if (on(g, n, s)) {
                printf("%s%s", sep, p->services[s].name);
                sep = ", ";
            }
        printf("%s\n", g->count[n] ? "" : " (no service)");
    }
    free(waiting);
    free(done);
}

/* ---- dot (Graphviz) ------------------------------------------------------------------------ */

/* Service and network names are [a-zA-Z0-9._-] once loaded; quoting keeps dot's keywords
 * ("node", "graph") and leading digits harmless. */
static void dot_cluster(const struct graph *g, size_t n, int depth)
{
    const struct compose_project *p = g->p;
    printf("%*ssubgraph \"cluster_%s\" {\n", depth * 2, "", p->networks[n].key);
    printf("%*s  label=\"network %s\"; style=\"rounded,dashed\"; color=\"#5d6d7e\"; "
           "fontcolor=\"#5d6d7e\";\n",
           depth * 2, "", p->networks[n].key);
    /* A node of its own, so that an empty network still shows and dotted ties have an end. */
    printf("%*s  \"network:%s\" [shape=point, style=invis, width=0.01, height=0.01];\n", depth * 2,
           "", p->networks[n].key);
    for (size_t s = 0; s < p->n_services; s++)
        if (g->home[s] == (ssize_t)n)
            printf("%*s  \"%s\";\n", depth * 2, "", p->services[s].name);
    for (size_t c = 0; c < p->n_networks; c++)
        if (g->parent[c] == (ssize_t)n)
            dot_cluster(g, c, depth + 1);
    printf("%*s}\n", depth * 2, "");
}

static void print_dot(const struct graph *g)
{
    const struct compose_project *p = g->p;
    printf("digraph \"%s\" {\n", p->name);
    printf("  graph [compound=true, rankdir=BT, fontname=\"Helvetica\", labelloc=t, "
           "label=\"%s: an arrow points to what a service waits for\"];\n",
           p->name);
    printf("  node [shape=box, style=\"rounded,filled\", fillcolor=\"#eaf2f8\", "
           "fontname=\"Helvetica\"];\n");
    printf("  edge [fontname=\"Helvetica\", fontsize=10];\n");
    for (size_t s = 0; s < p->n_services; s++)
        if (g->home[s] < 0)
            printf("  \"%s\";\n", p->services[s].name);
    for (size_t n = 0; n < p->n_networks; n++)
        if (g->parent[n] < 0)
            dot_cluster(g, n, 1);
    for (size_t i = 0; i < g->n_edges; i++) {
        const struct sched_edge *e = &g->edges[i];
        char *label = edge_label(e);
        printf("  \"%s\" -> \"%s\" [label=\"%s\"%s];\n", p->services[e->from].name,
               p->services[e->to].name, label, e->required ? "" : ", style=dashed");
        free(label);
    }
    for (size_t s = 0; s < p->n_services; s++)
        for (size_t n = 0; n < p->n_networks; n++)
            if (on(g, n, s) && !within(g, g->home[s], (ssize_t)n))
                printf("  \"%s\" -> \"network:%s\" [lhead=\"cluster_%s\", style=dotted, "
                       "arrowhead=none, color=\"#5d6d7e\"];\n",
                       p->services[s].name, p->networks[n].key, p->networks[n].key);
    printf("}\n");
}

/* ---- Mermaid ------------------------------------------------------------------------------- */

/* Mermaid ids are letters and digits: s<index> and n<index>, the names in labels. */
static void mermaid_cluster(const struct graph *g, size_t n, int depth)
{
    const struct compose_project *p = g->p;
    printf("%*ssubgraph n%zu[\"network %s\"]\n", depth * 2, "", n, p->networks[n].key);
    for (size_t s = 0; s < p->n_services; s++)
        if (g->home[s] == (ssize_t)n)
            printf("%*s  s%zu[\"%s\"]\n", depth * 2, "", s, p->services[s].name);
    for (size_t c = 0; c < p->n_networks; c++)
        if (g->parent[c] == (ssize_t)n)
            mermaid_cluster(g, c, depth + 1);
    printf("%*send\n", depth * 2, "");
}

static void print_mermaid(const struct graph *g)
{
    const struct compose_project *p = g->p;
    printf("flowchart BT\n");
    for (size_t s = 0; s < p->n_services; s++)
        if (g->home[s] < 0)
            printf("  s%zu[\"%s\"]\n", s, p->services[s].name);
    for (size_t n = 0; n < p->n_networks; n++)
        if (g->parent[n] < 0 && g->count[n])
            mermaid_cluster(g, n, 1);
    for (size_t i = 0; i < g->n_edges; i++) {
        const struct sched_edge *e = &g->edges[i];
        char *label = edge_label(e);
        printf("  s%zu %s|\"%s\"| s%zu\n", e->from, e->required ? "-->" : "-.->", label, e->to);
        free(label);
    }
    for (size_t s = 0; s < p->n_services; s++)
        for (size_t n = 0; n < p->n_networks; n++)
            if (on(g, n, s) && !within(g, g->home[s], (ssize_t)n))
                printf("  s%zu -.- n%zu\n", s, n);
}

static void usage(FILE *out)
{
    fprintf(out, "Usage:  ccompose graph [OPTIONS]\n\n"
                 "Print the dependency graph of the services, networks as clusters\n\n"
                 "Options:\n"
                 "      --format string   Format the output. Values: [text | dot | mermaid]\n"
                 "                        (default \"text\")\n");
}

static int graph_run(struct cli_context *ctx, int argc, char **argv)
{
    static const struct option options[] = {
        {"format", required_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    enum graph_format format = GRAPH_TEXT;
    int c;
    while ((c = cli_getopt_long(argc, argv, "h", options, NULL)) != -1) {
        switch (c) {
        case 'f':
            if (!strcmp(optarg, "text")) {
                format = GRAPH_TEXT;
            } else if (!strcmp(optarg, "dot")) {
                format = GRAPH_DOT;
            } else if (!strcmp(optarg, "mermaid")) {
                format = GRAPH_MERMAID;
            } else {
                fprintf(stderr, "error: --format takes text, dot or mermaid, not '%s'\n", optarg);
                return CLI_EXIT_USAGE;
            }
            break;
        case 'h':
            usage(stdout);
            return CLI_EXIT_OK;
        default:
            return CLI_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "error: 'graph' takes no arguments\nSee 'ccompose graph --help'.\n");
        return CLI_EXIT_USAGE;
    }
    struct compose_project *p = NULL;
    int code = cli_project_load(ctx, NULL, 0, &p);
    if (code)
        return code;
    struct graph g = {.p = p};
    char **warnings = NULL;
    size_t n_warnings = 0;
    struct cc_error err = CC_ERROR_INIT;
    if (sched_graph_edges(p, &g.edges, &g.n_edges, &warnings, &n_warnings, &err) < 0) {
        cli_error_print(&err);
        code = cli_exit_for_error(&err);
        goto out;
    }
    for (size_t i = 0; i < n_warnings; i++)
        fprintf(stderr, "warning: %s\n", warnings[i]);
    graph_layout(&g);
    if (format == GRAPH_DOT)
        print_dot(&g);
    else if (format == GRAPH_MERMAID)
        print_mermaid(&g);
    else
        print_text(&g);
out:
    for (size_t i = 0; i < n_warnings; i++)
        free(warnings[i]);
    free(warnings);
    cc_error_release(&err);
    graph_release(&g);
    compose_project_free(p);
    return code;
}

const struct cli_command cli_cmd_graph = {
    .name = "graph",
    .summary = "Print the dependency graph of the services",
    .run = graph_run,
};
