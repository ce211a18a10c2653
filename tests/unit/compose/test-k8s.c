/* `convert --format k8s`: the manifests read back with the project's own YAML reader, object by
 * object; values that look like numbers or booleans stay strings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "compose/compose.h"
#include "compose/node.h"
#include "tests/lib/model-builder.h"

static struct arena A;

/* The node at a '/'-separated path of mapping keys ("spec/replicas") and sequence indexes; "~1"
 * in a key is a '/', as in JSON pointers. */
static const struct cnode *at(const struct cnode *n, const char *path)
{
    char *copy = xstrdup(path);
    for (char *save, *k = strtok_r(copy, "/", &save); k && n; k = strtok_r(NULL, "/", &save)) {
        for (char *t; (t = strstr(k, "~1"));)
            memmove(t + 1, t + 2, strlen(t + 2) + 1), *t = '/';
        n = n->kind == CNODE_SEQUENCE ? ((size_t)atoi(k) < n->nitems ? n->items[atoi(k)] : NULL)
                                      : cnode_get(n, k);
    }
    free(copy);
    if (!n)
        fail_msg("no %s", path);
    return n;
}

static const char *val(const struct cnode *n, const char *path)
{
    const struct cnode *v = at(n, path);
    assert_int_equal(v->kind, CNODE_SCALAR);
    return v->value;
}

static void test_k8s_manifests(void **state)
{
    (void)state;
    struct compose_project *p = mb_project_new("My_App", "/srv/app");
    struct compose_service *web = mb_service_add(p, "web_1", "nginx:1.25");
    web->deploy.replicas = 3;
    web->deploy.update_config.set = true;
    web->deploy.update_config.parallelism = 2;
    web->deploy.update_config.order = "start-first";
    web->deploy.limits.cpus = 0.5;
    web->deploy.limits.memory = 268435456;
    mb_kv_set(p, &web->environment, "PORT", "8080");
    mb_kv_set(p, &web->environment, "DEBUG", "true");
    mb_kv_set(p, &web->environment, "UNSET", NULL);
    mb_entrypoint(p, web, "/docker-entrypoint.sh", NULL);
    mb_command(p, web, "nginx", "-g", "daemon off;", NULL);
    mb_port_add(p, web, 80, "8080", NULL, NULL);
    web->healthcheck.set = true;
    mb_strv_set(p, &web->healthcheck.test, "CMD-SHELL", "curl -f localhost || exit 1", NULL);
    web->healthcheck.interval = 3000000000;
    web->healthcheck.retries = 4;
    struct compose_service *agent = mb_service_add(p, "agent", "busybox");
    agent->deploy.mode = "global";
    mb_port_add(p, agent, 9100, NULL, NULL, NULL);
    struct compose_service *built = mb_service_add(p, "built", NULL);
    built->build = arena_alloc(&p->arena, sizeof(*built->build));
    memset(built->build, 0, sizeof(*built->build));
    mb_project_done(p);

    char *text = NULL;
    struct cc_error err = CC_ERROR_INIT;
    assert_int_equal(compose_project_k8s(p, &text, &err), 0);
    struct cnode_file *f;
    if (cnode_load_buffer(&A, "k8s.yaml", text, strlen(text), &f, &err) != 0)
        fail_msg("the manifests do not read back: %s\n%s", err.message, text);
    /* Services in name order: agent (DaemonSet, Service), built (Deployment), web (both). */
    assert_int_equal(f->ndocs, 5);
    const struct cnode *ds = f->docs[0], *agent_svc = f->docs[1], *b = f->docs[2];
    const struct cnode *dep = f->docs[3], *svc = f->docs[4];

    assert_string_equal(val(ds, "kind"), "DaemonSet");
    assert_null(cnode_get(at(ds, "spec"), "replicas"));
    assert_string_equal(val(agent_svc, "spec/type"), "ClusterIP");
    assert_string_equal(val(agent_svc, "spec/ports/0/port"), "9100");
    assert_string_equal(val(b, "spec/template/spec/containers/0/image"), "My_App-built");

    assert_string_equal(val(dep, "apiVersion"), "apps/v1");
    assert_string_equal(val(dep, "kind"), "Deployment");
    assert_string_equal(val(dep, "metadata/name"), "web-1");
    assert_string_equal(val(dep, "metadata/labels/app.kubernetes.io~1part-of"), "my-app");
    assert_string_equal(val(dep, "spec/replicas"), "3");
    assert_int_equal(at(dep, "spec/replicas")->style, CNODE_PLAIN);
    assert_string_equal(val(dep, "spec/strategy/rollingUpdate/maxSurge"), "2");
    assert_string_equal(val(dep, "spec/strategy/rollingUpdate/maxUnavailable"), "0");
    const struct cnode *c = at(dep, "spec/template/spec/containers/0");
    assert_string_equal(val(c, "image"), "nginx:1.25");
    assert_string_equal(val(c, "command/0"), "/docker-entrypoint.sh");
    assert_string_equal(val(c, "args/2"), "daemon off;");
    /* Environment values are strings: "8080" and "true" are quoted; a key without value is left
     * out, as for containers. */
    assert_int_equal(at(c, "env")->nitems, 2);
    assert_string_equal(val(c, "env/0/name"), "PORT");
    assert_string_equal(val(c, "env/0/value"), "8080");
    assert_int_not_equal(at(c, "env/0/value")->style, CNODE_PLAIN);
    assert_string_equal(val(c, "env/1/value"), "true");
    assert_int_not_equal(at(c, "env/1/value")->style, CNODE_PLAIN);
    assert_string_equal(val(c, "ports/0/containerPort"), "80");
    assert_string_equal(val(c, "resources/limits/cpu"), "500m");
    assert_string_equal(val(c, "resources/limits/memory"), "268435456");
    assert_string_equal(val(c, "readinessProbe/exec/command/0"), "/bin/sh");
    assert_string_equal(val(c, "readinessProbe/exec/command/2"), "curl -f localhost || exit 1");
    assert_string_equal(val(c, "readinessProbe/periodSeconds"), "3");
    assert_string_equal(val(c, "readinessProbe/failureThreshold"), "4");

    assert_string_equal(val(svc, "kind"), "Service");
    assert_string_equal(val(svc, "spec/type"), "LoadBalancer");
    assert_string_equal(val(svc, "spec/ports/0/port"), "8080");
    assert_string_equal(val(svc, "spec/ports/0/targetPort"), "80");
    assert_string_equal(val(svc, "spec/selector/app.kubernetes.io~1name"), "web-1");

    free(text);
    compose_project_free(p);
}

int main(void)
{
    arena_init(&A);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_k8s_manifests),
    };
    int r = cmocka_run_group_tests(tests, NULL, NULL);
    arena_release(&A);
    return r;
}
