/* `ccompose convert --format k8s`: the model as Kubernetes manifests (docs/scale-out.md), one YAML
 * document per object: per service a Deployment (a DaemonSet for deploy.mode: global) and, when
 * it has ports, a Service. The objects are built as JSON trees and written through libyaml's
 * emitter, so the output is YAML by construction; strings that would read back as something else
 * (numbers, booleans, null) are quoted. */
#include <ctype.h>
#include <string.h>
#include <jansson.h>
#include <stdlib.h>
#include <yaml.h>

#include "common/buf.h"
#include "compose/compose.h"

/* A Kubernetes object name (RFC 1123 label): lower case, '-' for anything else, at most 63. */
static char *k8s_name(const char *s)
{
    struct buf b = BUF_INIT;
    for (const char *p = s; *p && b.len < 63; p++)
        buf_addc(&b, isalnum((unsigned char)*p) ? (char)tolower((unsigned char)*p) : '-');
    char *r = buf_detach(&b);
    for (size_t n = strlen(r); n && r[n - 1] == '-'; n--)
        r[n - 1] = '\0';
    return r;
}

static json_t *strv_json(const struct compose_strv *sv)
{
    json_t *a = json_array();
    for (size_t i = 0; i < sv->n; i++)
        json_array_append_new(a, json_string(sv->v[i]));
    return a;
}

/* Seconds, rounded up, of a duration in ns (Kubernetes probes count whole seconds). */
static json_int_t seconds(int64_t ns)
{
    return (json_int_t)((ns + 999999999) / 1000000000);
}

/* readinessProbe (exec) from the health check; NULL without one. */
static json_t *probe(const struct compose_healthcheck *h)
{
    if (!h->set || h->disable || h->test.n < 2)
        return NULL;
    json_t *cmd;
    if (!strcmp(h->test.v[0], "CMD-SHELL")) {
        cmd = json_pack("[s, s, s]", "/bin/sh", "-c", h->test.v[1]);
    } else {
        cmd = json_array();
        for (size_t i = 1; i < h->test.n; i++)
            json_array_append_new(cmd, json_string(h->test.v[i]));
    }
    json_t *pr = json_pack("{s:{s:o}}", "exec", "command", cmd);
    if (h->interval != COMPOSE_UNSET)
        json_object_set_new(pr, "periodSeconds", json_integer(seconds(h->interval)));
    if (h->timeout != COMPOSE_UNSET)
        json_object_set_new(pr, "timeoutSeconds", json_integer(seconds(h->timeout)));
    if (h->start_period != COMPOSE_UNSET)
        json_object_set_new(pr, "initialDelaySeconds", json_integer(seconds(h->start_period)));
    if (h->retries != COMPOSE_UNSET)
        json_object_set_new(pr, "failureThreshold", json_integer(h->retries));
    return pr;
}

static json_t *resources(const struct compose_resources *r)
{
    json_t *o = json_object();
    if (r->cpus > 0) {
        char *c = xasprintf("%lldm", (long long)(r->cpus * 1000 + 0.5));
        json_object_set_new(o, "cpu", json_string(c));
        free(c);
    }
    if (r->memory != COMPOSE_UNSET) {
        char *m = xasprintf("%lld", (long long)r->memory);
        json_object_set_new(o, "memory", json_string(m));
        free(m);
    }
    return o;
}

static json_t *container(const struct compose_service *s, const char *name, const char *image)
{
    json_t *c = json_pack("{s:s, s:s}", "name", name, "image", image);
    if (s->has_entrypoint)
        json_object_set_new(c, "command", strv_json(&s->entrypoint));
    if (s->has_command)
        json_object_set_new(c, "args", strv_json(&s->command));
    if (s->working_dir)
        json_object_set_new(c, "workingDir", json_string(s->working_dir));
    json_t *env = json_array();
    for (size_t i = 0; i < s->environment.n; i++)
        if (s->environment.v[i].value)
            json_array_append_new(env, json_pack("{s:s, s:s}", "name", s->environment.v[i].key,
                                                 "value", s->environment.v[i].value));
    if (json_array_size(env))
        json_object_set_new(c, "env", env);
    else
        json_decref(env);
    json_t *ports = json_array();
    for (size_t i = 0; i < s->n_ports; i++)
        for (uint32_t t = s->ports[i].target; t <= s->ports[i].target_end; t++)
            json_array_append_new(
                ports, json_pack("{s:I, s:s}", "containerPort", (json_int_t)t, "protocol",
                                 s->ports[i].protocol && !strcmp(s->ports[i].protocol, "udp")
                                     ? "UDP"
                                     : "TCP"));
    if (json_array_size(ports))
        json_object_set_new(c, "ports", ports);
    else
        json_decref(ports);
    json_t *limits = resources(&s->deploy.limits), *requests = resources(&s->deploy.reservations);
    if (json_object_size(limits) || json_object_size(requests)) {
        json_t *r = json_object();
        json_object_set_new(r, "limits", limits);
        json_object_set_new(r, "requests", requests);
        json_object_set_new(c, "resources", r);
    } else {
        json_decref(limits);
        json_decref(requests);
    }
    json_t *pr = probe(&s->healthcheck);
    if (pr)
        json_object_set_new(c, "readinessProbe", pr);
    return c;
}

/* The Deployment (or DaemonSet) of s. */
static json_t *workload(const struct compose_project *p, const struct compose_service *s,
                        const char *name, json_t *labels)
{
    /* A service that is only built gets the name `build` tags it with: "<project>-<service>". */
    char *image = s->image ? xstrdup(s->image) : xasprintf("%s-%s", p->name, s->name);
    bool global = s->deploy.mode && !strcmp(s->deploy.mode, "global");
    json_t *spec = json_pack(
        "{s:{s:O}, s:{s:{s:O}, s:{s:[o]}}}", "selector", "matchLabels", labels, "template",
        "metadata", "labels", labels, "spec", "containers", container(s, name, image));
    free(image);
    if (!global) {
        int replicas = s->deploy.replicas != COMPOSE_UNSET ? s->deploy.replicas
                       : s->scale != COMPOSE_UNSET         ? s->scale
                                                           : 1;
        json_object_set_new(spec, "replicas", json_integer(replicas));
        const struct compose_update_config *u = &s->deploy.update_config;
        if (u->set) {
            /* parallelism tasks at a time: stopped first (unavailable) or started first (surge). */
            int n = u->parallelism != COMPOSE_UNSET && u->parallelism > 0 ? u->parallelism : 1;
            bool start_first = u->order && !strcmp(u->order, "start-first");
            json_object_set_new(spec, "strategy",
                                json_pack("{s:s, s:{s:i, s:i}}", "type", "RollingUpdate",
                                          "rollingUpdate", "maxSurge", start_first ? n : 0,
                                          "maxUnavailable", start_first ? 0 : n));
        }
    }
    return json_pack("{s:s, s:s, s:{s:s, s:O}, s:o}", "apiVersion", "apps/v1", "kind",
                     global ? "DaemonSet" : "Deployment", "metadata", "name", name, "labels",
                     labels, "spec", spec);
}

/* The Service of s: the service's name resolves to it as in compose. Published ports make it a
 * LoadBalancer listening on the published port; otherwise ClusterIP on the target port. NULL
 * without ports. */
static json_t *k8s_service(const struct compose_service *s, const char *name, json_t *labels)
{
    json_t *ports = json_array();
    bool published = false;
    for (size_t i = 0; i < s->n_ports; i++) {
        const struct compose_port *pt = &s->ports[i];
        long pub = pt->published ? strtol(pt->published, NULL, 10) : 0;
        for (uint32_t t = pt->target; t <= pt->target_end; t++) {
            long port = pub > 0 ? pub + (long)(t - pt->target) : (long)t;
            published = published || pub > 0;
            char *pname = xasprintf("%s-%u", pt->protocol ? pt->protocol : "tcp", t);
            json_array_append_new(
                ports, json_pack("{s:s, s:I, s:I, s:s}", "name", pname, "port", (json_int_t)port,
                                 "targetPort", (json_int_t)t, "protocol",
                                 pt->protocol && !strcmp(pt->protocol, "udp") ? "UDP" : "TCP"));
            free(pname);
        }
    }
    if (!json_array_size(ports)) {
        json_decref(ports);
        return NULL;
    }
    return json_pack("{s:s, s:s, s:{s:s, s:O}, s:{s:s, s:O, s:o}}", "apiVersion", "v1", "kind",
                     "Service", "metadata", "name", name, "labels", labels, "spec", "type",
                     published ? "LoadBalancer" : "ClusterIP", "selector", labels, "ports", ports);
}

/* Whether a string must be quoted to read back as a string (YAML 1.1/1.2 core schemas). */
static bool needs_quotes(const char *s)
{
    static const char *const words[] = {"", "~", "null", "Null", "NULL", "true", "True", "TRUE",
                                        "false", "False", "FALSE", "yes", "Yes", "YES", "no",
                                        "No", "NO", "on", "On", "ON", "off", "Off", "OFF"};
    for (size_t i = 0; i < sizeof(words) / sizeof(*words); i++)
        if (!strcmp(s, words[i]))
            return true;
    char *end;
    (void)strtod(s, &end);
    return *end == '\0' || strchr("0123456789+-.", s[0]);
}

static int emit(yaml_emitter_t *em, json_t *v)
{
    yaml_event_t ev;
    char *text = NULL;
    int ok;
    if (json_is_object(v)) {
        yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE);
        if (!yaml_emitter_emit(em, &ev))
            return -1;
        const char *k;
        json_t *x;
        json_object_foreach(v, k, x)
        {
            json_t *key = json_string(k);
            int r = emit(em, key);
            json_decref(key);
            if (r < 0 || emit(em, x) < 0)
                return -1;
        }
        yaml_mapping_end_event_initialize(&ev);
        return yaml_emitter_emit(em, &ev) ? 0 : -1;
    }
    if (json_is_array(v)) {
        yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_SEQUENCE_STYLE);
        if (!yaml_emitter_emit(em, &ev))
            return -1;
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x)
            if (emit(em, x) < 0)
                return -1;
        yaml_sequence_end_event_initialize(&ev);
        return yaml_emitter_emit(em, &ev) ? 0 : -1;
    }
    bool quote = false;
    if (json_is_string(v)) {
        text = xstrdup(json_string_value(v));
        quote = needs_quotes(text);
    } else if (json_is_integer(v)) {
        text = xasprintf("%lld", (long long)json_integer_value(v));
    } else {
        text = xstrdup(json_is_true(v) ? "true" : json_is_false(v) ? "false" : "null");
    }
    yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)text, (int)strlen(text), !quote,
                                 1, quote ? YAML_DOUBLE_QUOTED_SCALAR_STYLE : YAML_ANY_SCALAR_STYLE);
    ok = yaml_emitter_emit(em, &ev);
    free(text);
    return ok ? 0 : -1;
}

static int write_buf(void *data, unsigned char *buffer, size_t size)
{
    buf_add(data, buffer, size);
    return 1;
}

int compose_project_k8s(const struct compose_project *p, char **ret, struct cc_error *reterr)
{
    json_t *docs = json_array();
    for (size_t i = 0; i < p->n_services; i++) {
        const struct compose_service *s = &p->services[i];
        char *name = k8s_name(s->name);
        char *part = k8s_name(p->name);
        json_t *labels = json_pack("{s:s, s:s}", "app.kubernetes.io/name", name,
                                   "app.kubernetes.io/part-of", part);
        json_array_append_new(docs, workload(p, s, name, labels));
        json_t *svc = k8s_service(s, name, labels);
        if (svc)
            json_array_append_new(docs, svc);
        json_decref(labels);
        free(part);
        free(name);
    }
    struct buf out = BUF_INIT;
    yaml_emitter_t em;
    yaml_event_t ev;
    yaml_emitter_initialize(&em);
    yaml_emitter_set_output(&em, write_buf, &out);
    yaml_emitter_set_unicode(&em, 1);
    yaml_emitter_set_width(&em, -1);
    int ok = 1;
    yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING);
    ok = ok && yaml_emitter_emit(&em, &ev);
    size_t i;
    json_t *d;
    json_array_foreach(docs, i, d)
    {
        yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 0);
        ok = ok && yaml_emitter_emit(&em, &ev) && emit(&em, d) == 0;
        yaml_document_end_event_initialize(&ev, 1);
        ok = ok && yaml_emitter_emit(&em, &ev);
    }
    yaml_stream_end_event_initialize(&ev);
    ok = ok && yaml_emitter_emit(&em, &ev);
    if (!ok)
        cc_error_set(reterr, CC_ERR_FAILED, "cannot write the manifests as YAML: %s",
                     em.problem ? em.problem : "emitter error");
    yaml_emitter_delete(&em);
    json_decref(docs);
    if (!ok) {
        buf_release(&out);
        return -1;
    }
    *ret = buf_detach(&out);
    return 0;
}
