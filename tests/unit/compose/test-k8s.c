/* `convert --format k8s`: the manifests read back with the project's own YAML reader, object by
 * object; values that look like numbers or booleans stay strings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/* p's manifests read back (in the test arena), expecting n documents. */
static const struct cnode_file *manifests(const struct compose_project *p, size_t n)
{
    char *text = NULL;
    struct cc_error err = CC_ERROR_INIT;
    if (compose_project_k8s(p, &text, &err) != 0)
        fail_msg("no manifests: %s", err.message);
    struct cnode_file *f;
    if (cnode_load_buffer(&A, "k8s.yaml", text, strlen(text), &f, &err) != 0)
        fail_msg("the manifests do not read back: %s\n%s", err.message, text);
    if (f->ndocs != n)
        fail_msg("%zu documents, wanted %zu:\n%s", f->ndocs, n, text);
    free(text);
    return f;
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

    /* Services in name order: agent (DaemonSet, Service), built (Deployment), web (both). */
    const struct cnode_file *f = manifests(p, 5);
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

    compose_project_free(p);
}

/* Volumes, secrets, configs and networks: a claim per named volume (none for an external one,
 * whose claim the pod names), the Secret's data in base64 and the ConfigMap's as text, each
 * mounted at its target; with two networks, a NetworkPolicy per network selecting the pods that
 * carry its label, and one opening the published ports. */
static void test_k8s_storage_and_networks(void **state)
{
    (void)state;
    char dir[] = "/tmp/ccompose-k8s-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char *secret_file = xasprintf("%s/db-password.txt", dir);
    FILE *f = fopen(secret_file, "w");
    assert_non_null(f);
    fputs("s3cret", f);
    fclose(f);

    struct compose_project *p = mb_project_new("shop", "/srv/shop");
    struct compose_volume *data = mb_volume_add(p, "db_data");
    mb_kv_set(p, &data->labels, "kompose.volume.size", "2Gi");
    mb_volume_add(p, "unused");
    struct compose_volume *ext = mb_volume_add(p, "archive");
    ext->external = true;
    ext->name = "team-archive";
    mb_secret_add(p, "db_password", secret_file);
    struct compose_file_def *conf = mb_config_add(p, "nginx_conf", NULL);
    conf->content = "listen 80;\n";
    mb_network_add(p, "front");
    mb_network_add(p, "back");

    struct compose_service *db = mb_service_add(p, "db", "postgres:16");
    mb_mount_add(p, db, COMPOSE_MOUNT_VOLUME, "db_data", "/var/lib/postgresql/data");
    mb_mount_add(p, db, COMPOSE_MOUNT_VOLUME, "archive", "/archive")->read_only = true;
    mb_mount_add(p, db, COMPOSE_MOUNT_TMPFS, NULL, "/run/pg");
    mb_service_secret(p, db, "db_password", NULL)->mode = 0400;
    mb_service_network(p, db, "back");
    struct compose_service *web = mb_service_add(p, "web", "nginx:1.25");
    mb_mount_add(p, web, COMPOSE_MOUNT_BIND, "/srv/static", "/usr/share/nginx/html");
    mb_service_config(p, web, "nginx_conf", "/etc/nginx/conf.d/default.conf");
    mb_port_add(p, web, 80, "8080", NULL, NULL);
    mb_service_network(p, web, "front");
    mb_service_network(p, web, "back");
    mb_project_done(p);

    /* claim, Secret, ConfigMap, 2 network policies + web's published one, db's Deployment, web's
     * Deployment and Service. */
    const struct cnode_file *y = manifests(p, 9);
    const struct cnode *pvc = y->docs[0], *sec = y->docs[1], *cm = y->docs[2];
    const struct cnode *np_back = y->docs[3], *np_front = y->docs[4], *np_pub = y->docs[5];
    const struct cnode *db_dep = y->docs[6], *web_dep = y->docs[7];

    assert_string_equal(val(pvc, "kind"), "PersistentVolumeClaim");
    assert_string_equal(val(pvc, "metadata/name"), "db-data");
    assert_string_equal(val(pvc, "metadata/labels/app.kubernetes.io~1part-of"), "shop");
    assert_string_equal(val(pvc, "spec/accessModes/0"), "ReadWriteOnce");
    assert_string_equal(val(pvc, "spec/resources/requests/storage"), "2Gi");

    assert_string_equal(val(sec, "kind"), "Secret");
    assert_string_equal(val(sec, "metadata/name"), "db-password");
    assert_string_equal(val(sec, "type"), "Opaque");
    assert_string_equal(val(sec, "data/db-password"), "czNjcmV0"); /* base64("s3cret") */
    assert_string_equal(val(cm, "kind"), "ConfigMap");
    assert_string_equal(val(cm, "data/nginx-conf"), "listen 80;\n");

    assert_string_equal(val(np_back, "kind"), "NetworkPolicy");
    assert_string_equal(val(np_back, "apiVersion"), "networking.k8s.io/v1");
    assert_string_equal(val(np_back, "metadata/name"), "back");
    assert_string_equal(val(np_back, "spec/podSelector/matchLabels/ccompose.network~1back"),
                        "true");
    assert_string_equal(
        val(np_back, "spec/ingress/0/from/0/podSelector/matchLabels/ccompose.network~1back"),
        "true");
    assert_string_equal(val(np_front, "metadata/name"), "front");
    assert_string_equal(val(np_pub, "metadata/name"), "web-published");
    assert_string_equal(val(np_pub, "spec/podSelector/matchLabels/app.kubernetes.io~1name"), "web");
    assert_string_equal(val(np_pub, "spec/ingress/0/ports/0/port"), "80");

    /* db: the claims (its own and the external one's, by its name), tmpfs in memory, the secret
     * at /run/secrets/db_password with its mode; replaced, not rolled, because of the claim. */
    assert_string_equal(val(db_dep, "spec/strategy/type"), "Recreate");
    assert_string_equal(val(db_dep, "spec/template/metadata/labels/ccompose.network~1back"),
                        "true");
    assert_null(cnode_get(at(db_dep, "spec/template/metadata/labels"), "ccompose.network/front"));
    /* The selector keeps to the service's labels: network labels are the pods' only. */
    assert_null(cnode_get(at(db_dep, "spec/selector/matchLabels"), "ccompose.network/back"));
    const struct cnode *pod = at(db_dep, "spec/template/spec");
    assert_int_equal(at(pod, "volumes")->nitems, 4);
    assert_string_equal(val(pod, "volumes/0/persistentVolumeClaim/claimName"), "db-data");
    assert_string_equal(val(pod, "volumes/1/persistentVolumeClaim/claimName"), "team-archive");
    assert_string_equal(val(pod, "volumes/2/emptyDir/medium"), "Memory");
    assert_string_equal(val(pod, "volumes/3/secret/secretName"), "db-password");
    assert_string_equal(val(pod, "volumes/3/secret/defaultMode"), "256");
    const struct cnode *m = at(pod, "containers/0/volumeMounts");
    assert_int_equal(m->nitems, 4);
    assert_string_equal(val(m, "0/mountPath"), "/var/lib/postgresql/data");
    assert_string_equal(val(m, "0/name"), val(pod, "volumes/0/name"));
    assert_string_equal(val(m, "1/readOnly"), "true");
    assert_string_equal(val(m, "3/mountPath"), "/run/secrets/db_password");
    assert_string_equal(val(m, "3/subPath"), "db-password");
    assert_string_equal(val(m, "3/readOnly"), "true");

    /* web: the bind mount as a hostPath, the config at its target; on both networks. */
    pod = at(web_dep, "spec/template/spec");
    assert_string_equal(val(pod, "volumes/0/hostPath/path"), "/srv/static");
    assert_string_equal(val(pod, "volumes/1/configMap/name"), "nginx-conf");
    assert_string_equal(val(pod, "containers/0/volumeMounts/1/mountPath"),
                        "/etc/nginx/conf.d/default.conf");
    assert_string_equal(val(pod, "containers/0/volumeMounts/1/subPath"), "nginx-conf");
    assert_string_equal(val(web_dep, "spec/template/metadata/labels/ccompose.network~1front"),
                        "true");
    assert_null(cnode_get(at(web_dep, "spec"), "strategy"));

    /* A secret whose file is gone fails the conversion, naming it. */
    unlink(secret_file);
    char *text = NULL;
    struct cc_error err = CC_ERROR_INIT;
    assert_int_equal(compose_project_k8s(p, &text, &err), -1);
    assert_null(text);
    assert_non_null(strstr(err.message, "db-password.txt"));
    cc_error_release(&err);

    compose_project_free(p);
    rmdir(dir);
    free(secret_file);
}

int main(void)
{
    arena_init(&A);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_k8s_manifests),
        cmocka_unit_test(test_k8s_storage_and_networks),
    };
    int r = cmocka_run_group_tests(tests, NULL, NULL);
    arena_release(&A);
    return r;
}
