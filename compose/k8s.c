/* `ccompose convert --format k8s`: the model as Kubernetes manifests (docs/scale-out.md), one YAML
 * document per object: first the project's PersistentVolumeClaims (named volumes), Secrets,
 * ConfigMaps and NetworkPolicies (networks, when there are several), then per service a
 * Deployment (a DaemonSet for deploy.mode: global) and, when it has ports, a Service. The objects
 * are built as JSON trees and written through libyaml's emitter, so the output is YAML by
 * construction; strings that would read back as something else (numbers, booleans, null) are
 * quoted. */
#include <ctype.h>
#include <string.h>
#include <jansson.h>
#include <stdlib.h>
#include <yaml.h>

#include "common/buf.h"
#include "compose/compose.h"

/* What a claim asks for when the volume does not say (kompose's default and its label). */
#define K8S_STORAGE_DEFAULT "100Mi"
#define K8S_STORAGE_LABEL   "kompose.volume.size"
/* The pod label that puts a pod on a network: NetworkPolicies select by it. */
#define K8S_NETWORK_LABEL "ccompose.network/"

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
                ports,
                json_pack("{s:I, s:s}", "containerPort", (json_int_t)t, "protocol",
                          s->ports[i].protocol && !strcmp(s->ports[i].protocol, "udp") ? "UDP"
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

/* The top-level secret (kind 0) or config (kind 1) key; NULL when absent. */
static const struct compose_file_def *file_def(const struct compose_project *p, int kind,
                                               const char *key)
{
    const struct compose_file_def *defs = kind ? p->configs : p->secrets;
    size_t n = kind ? p->n_configs : p->n_secrets;
    for (size_t i = 0; i < n; i++)
        if (!strcmp(defs[i].key, key))
            return &defs[i];
    return NULL;
}

/* Appends the pod volume {name, <source>} unless the pod has one of that name already (a volume
 * mounted twice is declared once). Steals source. */
static void pod_volume(json_t *volumes, const char *name, const char *kind, json_t *source)
{
    size_t i;
    json_t *v;
    json_array_foreach(volumes, i,
                       v) if (!strcmp(json_string_value(json_object_get(v, "name")), name))
    {
        json_decref(source);
        return;
    }
    json_array_append_new(volumes, json_pack("{s:s, s:o}", "name", name, kind, source));
}

static void volume_mount(json_t *mounts, const char *name, const char *path, const char *sub,
                         bool read_only)
{
    json_t *m = json_pack("{s:s, s:s}", "name", name, "mountPath", path);
    if (sub)
        json_object_set_new(m, "subPath", json_string(sub));
    if (read_only)
        json_object_set_new(m, "readOnly", json_true());
    json_array_append_new(mounts, m);
}

/* The volumes of s in the pod (volumes) and its container (mounts): a named volume is its
 * PersistentVolumeClaim (an external one's must exist under its name), a bind mount a hostPath,
 * an anonymous volume or tmpfs an emptyDir (in memory for tmpfs), and each secret and config its
 * Secret or ConfigMap, the one key mounted at the target. Returns whether a claim is mounted. */
static bool storage(const struct compose_project *p, const struct compose_service *s,
                    json_t *volumes, json_t *mounts)
{
    bool claims = false;
    for (size_t i = 0; i < s->n_volumes; i++) {
        const struct compose_mount *m = &s->volumes[i];
        const struct compose_volume *v = m->type == COMPOSE_MOUNT_VOLUME && m->source
                                             ? compose_project_volume(p, m->source)
                                             : NULL;
        char *name = NULL;
        if (v) {
            name = k8s_name(v->external ? v->name : v->key);
            pod_volume(volumes, name, "persistentVolumeClaim",
                       json_pack("{s:s}", "claimName", name));
            claims = true;
        } else if (m->type == COMPOSE_MOUNT_BIND) {
            name = xasprintf("bind-%zu", i);
            pod_volume(volumes, name, "hostPath", json_pack("{s:s}", "path", m->source));
        } else if (m->type == COMPOSE_MOUNT_VOLUME || m->type == COMPOSE_MOUNT_TMPFS) {
            name = xasprintf("%s-%zu", m->type == COMPOSE_MOUNT_TMPFS ? "tmpfs" : "anon", i);
            pod_volume(volumes, name, "emptyDir",
                       m->type == COMPOSE_MOUNT_TMPFS ? json_pack("{s:s}", "medium", "Memory")
                                                      : json_object());
        } else {
            continue; /* npipe, cluster and image mounts have no counterpart */
        }
        volume_mount(mounts, name, m->target, m->subpath, m->read_only);
        free(name);
    }
    for (size_t i = 0; i < s->tmpfs.n; i++) {
        char *name = xasprintf("tmpfs-short-%zu", i);
        char *path = xstrndup(s->tmpfs.v[i], strcspn(s->tmpfs.v[i], ":"));
        pod_volume(volumes, name, "emptyDir", json_pack("{s:s}", "medium", "Memory"));
        volume_mount(mounts, name, path, NULL, false);
        free(path);
        free(name);
    }
    for (int kind = 0; kind < 2; kind++) {
        const struct compose_file_ref *refs = kind ? s->configs : s->secrets;
        size_t n = kind ? s->n_configs : s->n_secrets;
        for (size_t i = 0; i < n; i++) {
            const struct compose_file_def *d = file_def(p, kind, refs[i].source);
            if (!d)
                continue;
            char *object = k8s_name(d->external ? d->name : d->key);
            char *name = xasprintf("%s-%s", kind ? "config" : "secret", object);
            json_t *src = kind ? json_pack("{s:s}", "name", object)
                               : json_pack("{s:s}", "secretName", object);
            if (refs[i].mode != COMPOSE_UNSET)
                json_object_set_new(src, "defaultMode", json_integer(refs[i].mode));
            pod_volume(volumes, name, kind ? "configMap" : "secret", src);
            /* The object's one key is its own name (file_objects()); an external one must have it
             * too. */
            volume_mount(mounts, name, refs[i].target, object, true);
            free(name);
            free(object);
        }
    }
    return claims;
}

/* The Deployment (or DaemonSet) of s; networks: whether pods carry their networks' labels. */
static json_t *workload(const struct compose_project *p, const struct compose_service *s,
                        const char *name, json_t *labels, bool networks)
{
    /* A service that is only built gets the name `build` tags it with: "<project>-<service>". */
    char *image = s->image ? xstrdup(s->image) : xasprintf("%s-%s", p->name, s->name);
    bool global = s->deploy.mode && !strcmp(s->deploy.mode, "global");
    json_t *c = container(s, name, image);
    free(image);
    json_t *volumes = json_array(), *mounts = json_array();
    bool claims = storage(p, s, volumes, mounts);
    json_t *pod = json_pack("{s:[o]}", "containers", c);
    if (json_array_size(mounts))
        json_object_set(c, "volumeMounts", mounts);
    if (json_array_size(volumes))
        json_object_set(pod, "volumes", volumes);
    json_decref(mounts);
    json_decref(volumes);
    json_t *pod_labels = json_deep_copy(labels);
    for (size_t i = 0; networks && !s->network_mode && i < s->n_networks; i++) {
        char *net = k8s_name(s->networks[i].key);
        char *key = xasprintf(K8S_NETWORK_LABEL "%s", net);
        json_object_set_new(pod_labels, key, json_string("true"));
        free(key);
        free(net);
    }
    json_t *spec = json_pack("{s:{s:O}, s:{s:{s:o}, s:o}}", "selector", "matchLabels", labels,
                             "template", "metadata", "labels", pod_labels, "spec", pod);
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
        } else if (claims) {
            /* A claim is ReadWriteOnce: a new pod on another node could not mount it while the
             * old one runs, so the old pods go first (as kompose does). */
            json_object_set_new(spec, "strategy", json_pack("{s:s}", "type", "Recreate"));
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

/* The metadata of a project-level object: its name and the project's label. */
static json_t *metadata(const char *name, const char *part)
{
    return json_pack("{s:s, s:{s:s}}", "name", name, "labels", "app.kubernetes.io/part-of", part);
}

/* Whether some service mounts volume key / uses secret or config key. */
static bool volume_used(const struct compose_project *p, const char *key)
{
    for (size_t i = 0; i < p->n_services; i++)
        for (size_t k = 0; k < p->services[i].n_volumes; k++) {
            const struct compose_mount *m = &p->services[i].volumes[k];
            if (m->type == COMPOSE_MOUNT_VOLUME && m->source && !strcmp(m->source, key))
                return true;
        }
    return false;
}

static bool file_def_used(const struct compose_project *p, int kind, const char *key)
{
    for (size_t i = 0; i < p->n_services; i++) {
        const struct compose_service *s = &p->services[i];
        const struct compose_file_ref *refs = kind ? s->configs : s->secrets;
        size_t n = kind ? s->n_configs : s->n_secrets;
        for (size_t k = 0; k < n; k++)
            if (!strcmp(refs[k].source, key))
                return true;
    }
    return false;
}

/* A PersistentVolumeClaim per named volume a service mounts (external ones exist already):
 * ReadWriteOnce, the size of the volume's kompose.volume.size label, else 100Mi. */
static void claims(const struct compose_project *p, const char *part, json_t *docs)
{
    for (size_t i = 0; i < p->n_volumes; i++) {
        const struct compose_volume *v = &p->volumes[i];
        if (v->external || !volume_used(p, v->key))
            continue;
        const char *size = K8S_STORAGE_DEFAULT;
        for (size_t k = 0; k < v->labels.n; k++)
            if (!strcmp(v->labels.v[k].key, K8S_STORAGE_LABEL) && v->labels.v[k].value)
                size = v->labels.v[k].value;
        char *name = k8s_name(v->key);
        json_array_append_new(docs,
                              json_pack("{s:s, s:s, s:o, s:{s:[s], s:{s:{s:s}}}}", "apiVersion",
                                        "v1", "kind", "PersistentVolumeClaim", "metadata",
                                        metadata(name, part), "spec", "accessModes",
                                        "ReadWriteOnce", "resources", "requests", "storage", size));
        free(name);
    }
}

/* A Secret (data, base64) or ConfigMap (data as text; binaryData when it is not UTF-8) per secret
 * or config a service uses, read from its file, variable or content; external ones exist
 * already. Its one key is the object's name, which the pods mount (storage()). */
static int file_objects(const struct compose_project *p, int kind, const char *part, json_t *docs,
                        struct cc_error *reterr)
{
    const struct compose_file_def *defs = kind ? p->configs : p->secrets;
    size_t n = kind ? p->n_configs : p->n_secrets;
    for (size_t i = 0; i < n; i++) {
        const struct compose_file_def *d = &defs[i];
        if (d->external || !file_def_used(p, kind, d->key))
            continue;
        struct buf data = BUF_INIT, b64 = BUF_INIT;
        if (compose_file_def_data(d, NULL, &data, reterr) < 0) {
            buf_release(&data);
            return -1;
        }
        char *name = k8s_name(d->key);
        json_t *text = kind && !memchr(buf_str(&data), '\0', data.len)
                           ? json_stringn(buf_str(&data), data.len)
                           : NULL;
        if (!text)
            buf_add_base64(&b64, data.data, data.len);
        json_t *obj = json_pack("{s:s, s:s, s:o}", "apiVersion", "v1", "kind",
                                kind ? "ConfigMap" : "Secret", "metadata", metadata(name, part));
        if (!kind)
            json_object_set_new(obj, "type", json_string("Opaque"));
        json_object_set_new(obj, text || !kind ? "data" : "binaryData",
                            json_pack("{s:o}", name, text ? text : json_string(buf_str(&b64))));
        json_array_append_new(docs, obj);
        free(name);
        buf_release(&b64);
        buf_release(&data);
    }
    return 0;
}

/* With several networks, a NetworkPolicy per network: pods that carry its label take
 * connections from each other only, as containers on separate networks cannot reach each other.
 * Since a pod under a policy refuses everything no policy allows, a service with published ports
 * gets one more, letting anyone reach those ports (as the host's port would). With one network
 * every pod may talk to every other, as in the namespace without policies: none is written. */
static bool policies(const struct compose_project *p, const char *part, json_t *docs)
{
    size_t used = 0;
    for (size_t i = 0; i < p->n_networks; i++)
        used += p->networks[i].used;
    if (used < 2)
        return false;
    for (size_t i = 0; i < p->n_networks; i++) {
        if (!p->networks[i].used)
            continue;
        char *name = k8s_name(p->networks[i].key);
        char *label = xasprintf(K8S_NETWORK_LABEL "%s", name);
        json_t *select = json_pack("{s:{s:s}}", "matchLabels", label, "true");
        json_array_append_new(docs, json_pack("{s:s, s:s, s:o, s:{s:O, s:[s], s:[{s:[{s:O}]}]}}",
                                              "apiVersion", "networking.k8s.io/v1", "kind",
                                              "NetworkPolicy", "metadata", metadata(name, part),
                                              "spec", "podSelector", select, "policyTypes",
                                              "Ingress", "ingress", "from", "podSelector", select));
        json_decref(select);
        free(label);
        free(name);
    }
    for (size_t i = 0; i < p->n_services; i++) {
        const struct compose_service *s = &p->services[i];
        json_t *ports = json_array();
        for (size_t k = 0; k < s->n_ports; k++)
            for (uint32_t t = s->ports[k].target;
                 s->ports[k].published && t <= s->ports[k].target_end; t++)
                json_array_append_new(
                    ports, json_pack("{s:I, s:s}", "port", (json_int_t)t, "protocol",
                                     s->ports[k].protocol && !strcmp(s->ports[k].protocol, "udp")
                                         ? "UDP"
                                         : "TCP"));
        if (!json_array_size(ports)) {
            json_decref(ports);
            continue;
        }
        char *svc = k8s_name(s->name);
        char *name = xasprintf("%.53s-published", svc);
        json_array_append_new(docs,
                              json_pack("{s:s, s:s, s:o, s:{s:{s:{s:s}}, s:[s], s:[{s:o}]}}",
                                        "apiVersion", "networking.k8s.io/v1", "kind",
                                        "NetworkPolicy", "metadata", metadata(name, part), "spec",
                                        "podSelector", "matchLabels", "app.kubernetes.io/name", svc,
                                        "policyTypes", "Ingress", "ingress", "ports", ports));
        free(name);
        free(svc);
    }
    return true;
}

/* Whether a string must be quoted to read back as a string (YAML 1.1/1.2 core schemas). */
static bool needs_quotes(const char *s)
{
    static const char *const words[] = {"",     "~",    "null",  "Null",  "NULL",  "true",
                                        "True", "TRUE", "false", "False", "FALSE", "yes",
                                        "Yes",  "YES",  "no",    "No",    "NO",    "on",
                                        "On",   "ON",   "off",   "Off",   "OFF"};
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
        json_array_foreach(v, i, x) if (emit(em, x) < 0) return -1;
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
    yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)text, (int)strlen(text), !quote, 1,
                                 quote ? YAML_DOUBLE_QUOTED_SCALAR_STYLE : YAML_ANY_SCALAR_STYLE);
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
    char *part = k8s_name(p->name);
    claims(p, part, docs);
    if (file_objects(p, 0, part, docs, reterr) < 0 || file_objects(p, 1, part, docs, reterr) < 0) {
        free(part);
        json_decref(docs);
        return -1;
    }
    bool networks = policies(p, part, docs);
    for (size_t i = 0; i < p->n_services; i++) {
        const struct compose_service *s = &p->services[i];
        char *name = k8s_name(s->name);
        json_t *labels = json_pack("{s:s, s:s}", "app.kubernetes.io/name", name,
                                   "app.kubernetes.io/part-of", part);
        json_array_append_new(docs, workload(p, s, name, labels, networks));
        json_t *svc = k8s_service(s, name, labels);
        if (svc)
            json_array_append_new(docs, svc);
        json_decref(labels);
        free(name);
    }
    free(part);
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
