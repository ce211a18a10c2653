/* `ccompose graph`: the edges of each format, parsed back, are the project's dependencies with
 * their conditions; networks are clusters (nested when one's services are all on another); the
 * dot output renders with Graphviz; a cycle is refused. No engine is needed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "tests/lib/cli-test.h"
#include "tests/lib/compose-test.h"

static char *dir;

static const char *const mixed =
    "services:\n"
    "  app:\n"
    "    image: busybox\n"
    "    depends_on:\n"
    "      db: {condition: service_healthy, restart: true}\n"
    "      migrate: {condition: service_completed_successfully}\n"
    "      cache: {condition: service_started, required: false}\n"
    "    links: [log]\n"
    "    networks: [front, back]\n"
    "  db:\n"
    "    image: busybox\n"
    "    networks: [back]\n"
    "  migrate:\n"
    "    image: busybox\n"
    "    networks: [back]\n"
    "  cache:\n"
    "    image: busybox\n"
    "    networks: [side]\n"
    "  log:\n"
    "    image: busybox\n"
    "    networks: [side, front]\n"
    "  sidecar:\n"
    "    image: busybox\n"
    "    network_mode: service:app\n"
    "networks:\n"
    "  front: {}\n"
    "  back: {}\n"
    "  side: {}\n"
    "  unused: {}\n";

static int setup(void **state)
{
    (void)state;
    dir = ct_tmpdir();
    ct_put(dir, "mixed/compose.yaml", mixed);
    ct_put(dir, "cycle/compose.yaml",
           "services:\n"
           "  a: {image: busybox, depends_on: [b]}\n"
           "  b: {image: busybox, depends_on: [a]}\n");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    ct_rmdir(dir);
    free(dir);
    return 0;
}

/* Runs `ccompose -f FILE graph --format FORMAT`; returns its stdout (new), asserting exit 0. */
static char *graph(const char *file, const char *format)
{
    struct cb_result r;
    cb_run(&r, NULL, "-f", file, "graph", "--format", format, NULL);
    cb_assert_status(&r, 0);
    char *out = xstrdup(r.out.data ? r.out.data : "");
    cb_result_release(&r);
    return out;
}

/* The dot edges between services, "from -> to: label" one a line, in output order (new). */
static char *dot_edges(const char *dot)
{
    struct buf b = BUF_INIT;
    for (const char *l = dot; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
        char from[64], to[64], label[128];
        if (sscanf(l, " \"%63[^\"]\" -> \"%63[^\"]\" [label=\"%127[^\"]\"", from, to, label) == 3)
            buf_printf(&b, "%s -> %s: %s\n", from, to, label);
    }
    return b.data ? b.data : xstrdup("");
}

static void test_voting_app_text(void **state)
{
    (void)state;
    char *out = graph("examples/voting-app/compose.yaml", "text");
    cb_assert_contains(out, "  worker <- redis (service_healthy), db (service_healthy)\n");
    cb_assert_contains(out, "  vote <- redis (service_healthy)\n");
    cb_assert_contains(out, "  result <- db (service_healthy)\n");
    cb_assert_contains(out, "  back-tier: db, redis, result, vote, worker\n");
    cb_assert_contains(out, "  front-tier: result, vote\n");
    /* Start order: a service's line comes after the lines of what it waits for. */
    assert_true(strstr(out, "  db\n") < strstr(out, "  worker <-"));
    assert_true(strstr(out, "  redis\n") < strstr(out, "  vote <-"));
    free(out);
}

static void test_voting_app_dot_renders(void **state)
{
    (void)state;
    char *out = graph("examples/voting-app/compose.yaml", "dot");
    char *edges = dot_edges(out);
    assert_string_equal(edges, "result -> db: service_healthy\n"
                               "vote -> redis: service_healthy\n"
                               "worker -> redis: service_healthy\n"
                               "worker -> db: service_healthy\n");
    /* front-tier's services are all on back-tier: its cluster is inside back-tier's. */
    const char *back = strstr(out, "subgraph \"cluster_back-tier\" {");
    const char *front = strstr(out, "subgraph \"cluster_front-tier\" {");
    assert_non_null(back);
    assert_non_null(front);
    assert_true(back < front);
    assert_true(strstr(front, "\"vote\";") && strstr(front, "\"result\";"));
    assert_true(strstr(back, "\"worker\";") < front);

    /* Graphviz reads it without a warning and draws every service. */
    char *path = xasprintf("%s/voting.dot", dir);
    ct_put(dir, "voting.dot", out);
    const char *argv[] = {"/usr/bin/dot", "-Tsvg", path, NULL};
    char *svg = NULL, *err = NULL;
    int rc = ct_run(".", argv, NULL, &svg, &err);
    if (rc != 0 || (err && *err))
        fail_msg("dot -Tsvg exited %d:\n%s", rc, err ? err : "");
    cb_assert_contains(svg, "<svg");
    static const char *const services[] = {"db", "redis", "result", "vote", "worker"};
    for (size_t i = 0; i < CC_ARRAY_LEN(services); i++) {
        char *text = xasprintf(">%s</text>", services[i]);
        cb_assert_contains(svg, text);
        free(text);
    }
    free(svg);
    free(err);
    free(path);
    free(edges);
    free(out);
}

/* README's picture (docs/images/voting-graph.svg) is the voting app's graph as it is now. */
static void test_readme_picture(void **state)
{
    (void)state;
    char *text = NULL;
    const char *argv[] = {"/bin/cat", "docs/images/voting-graph.svg", NULL};
    assert_int_equal(ct_run(".", argv, NULL, &text, NULL), 0);
    size_t n = 0;
    for (const char *p = text; (p = strstr(p, ">service_healthy</text>")); p++)
        n++;
    assert_int_equal(n, 4);
    cb_assert_contains(text, ">network front&#45;tier</text>");
    cb_assert_contains(text, ">network back&#45;tier</text>");
    free(text);
}

static void test_conditions_and_clusters(void **state)
{
    (void)state;
    char *file = xasprintf("%s/mixed/compose.yaml", dir);
    char *out = graph(file, "dot");
    char *edges = dot_edges(out);
    /* depends_on's conditions and flags; links and network_mode are implied depends_on entries,
     * "started" with restart as docker compose implies them. */
    assert_string_equal(edges, "app -> db: service_healthy, restart\n"
                               "app -> migrate: service_completed_successfully\n"
                               "app -> cache: service_started, optional\n"
                               "app -> log: service_started, restart\n"
                               "sidecar -> app: service_started, restart\n");
    cb_assert_contains(out, "\"app\" -> \"cache\" [label=\"service_started, optional\", "
                            "style=dashed];");
    /* app is on front and back, which do not nest: drawn in one, tied to the other. */
    cb_assert_contains(out, "lhead=\"cluster_");
    /* sidecar shares app's network stack: in no cluster; an unused network still shows. */
    const char *first_cluster = strstr(out, "subgraph ");
    assert_true(strstr(out, "  \"sidecar\";\n") < first_cluster);
    cb_assert_contains(out, "subgraph \"cluster_unused\" {");
    char *path = xasprintf("%s/mixed.dot", dir);
    ct_put(dir, "mixed.dot", out);
    const char *argv[] = {"/usr/bin/dot", "-Tsvg", "-o", "/dev/null", path, NULL};
    char *err = NULL;
    int rc = ct_run(".", argv, NULL, NULL, &err);
    if (rc != 0 || (err && *err))
        fail_msg("dot -Tsvg exited %d:\n%s", rc, err ? err : "");
    free(err);
    free(path);
    free(edges);
    free(out);

    /* Mermaid: the same edges by index (services sorted: app cache db log migrate sidecar). */
    out = graph(file, "mermaid");
    assert_true(!strncmp(out, "flowchart BT\n", 13));
    cb_assert_contains(out, "  s0 -->|\"service_healthy, restart\"| s2\n");
    cb_assert_contains(out, "  s0 -->|\"service_completed_successfully\"| s4\n");
    cb_assert_contains(out, "  s0 -.->|\"service_started, optional\"| s1\n");
    cb_assert_contains(out, "  s0 -->|\"service_started, restart\"| s3\n");
    cb_assert_contains(out, "  s5 -->|\"service_started, restart\"| s0\n");
    size_t opened = 0, closed = 0;
    for (const char *p = out; (p = strstr(p, "subgraph ")); p++)
        opened++;
    for (const char *p = out; (p = strstr(p, "end\n")); p++)
        closed++;
    assert_int_equal(opened, closed);
    assert_true(opened >= 3);
    free(out);
    free(file);
}

static void test_refusals(void **state)
{
    (void)state;
    char *file = xasprintf("%s/cycle/compose.yaml", dir);
    struct cb_result r;
    cb_run(&r, NULL, "-f", file, "graph", NULL);
    cb_assert_status(&r, 3);
    cb_assert_contains(r.err.data, "dependency cycle: ");
    cb_result_release(&r);
    cb_run(&r, NULL, "-f", file, "graph", "--format", "png", NULL);
    cb_assert_status(&r, 2);
    cb_assert_contains(r.err.data, "--format takes text, dot or mermaid, not 'png'");
    cb_result_release(&r);
    free(file);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_voting_app_text),
        cmocka_unit_test(test_voting_app_dot_renders),
        cmocka_unit_test(test_readme_picture),
        cmocka_unit_test(test_conditions_and_clusters),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
