/* `ccompose stack` as a user runs it, on the private swarm (tests/swarm/private-swarm.sh): the
 * binary ($CCOMPOSE_BIN) deploys compose files, lists, updates with an override file, prunes and
 * removes; what it says and its exit codes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/lib/registry.h"
#include "tests/lib/swarm-test.h"

/* One user of the throwaway registry: ccit / ccit-secret (bcrypt cost 4, fast). */
#define HTPASSWD "ccit:$2b$04$IfNa6NUSxyTnM9fHhN0FcOuVezarbZTb5ljoRgR/K34tiN5QHGN3W"
#define HTAUTH   "Y2NpdDpjY2l0LXNlY3JldA==" /* base64("ccit:ccit-secret") */

static char dir[] = "/tmp/ccompose-cli-stack-XXXXXX";

static void write_file(const char *name, const char *text)
{
    char *path = xasprintf("%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    free(path);
}

/* Runs `ccompose ARGS` (a shell fragment) in dir; returns its exit code, its output in *out (new,
 * stdout and stderr together). */
static int ccompose(char **out, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *args = xvasprintf(fmt, ap);
    va_end(ap);
    const char *bin = getenv("CCOMPOSE_BIN");
    char *cmd = xasprintf("cd %s && %s %s 2>&1", dir, bin ? bin : "ccompose", args);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    struct buf b = BUF_INIT;
    char chunk[4096];
    size_t got;
    while ((got = fread(chunk, 1, sizeof(chunk), p)) > 0)
        buf_add(&b, chunk, got);
    int status = pclose(p);
    free(cmd);
    free(args);
    *out = buf_detach(&b);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

#define EXPECT_RUN(code, out, ...)                                                                 \
    do {                                                                                           \
        int rc_ = ccompose(&(out), __VA_ARGS__);                                                   \
        if (rc_ != (code))                                                                         \
            fail_msg("exit %d, wanted %d:\n%s", rc_, (code), (out));                               \
    } while (0)

#define IDLE "[\"sh\", \"-c\", \"trap 'exit 0' TERM; sleep 3600 & wait\"]"

/* The start of a test: a fresh directory, the stack's name tl_unique(what) and its two services'
 * names (all new, freed by test_done). */
static char *test_begin(const char *what, char **web, char **worker)
{
    strcpy(dir, "/tmp/ccompose-cli-stack-XXXXXX");
    assert_non_null(mkdtemp(dir));
    char *stack = tl_unique(what);
    *web = xasprintf("%s_web", stack);
    *worker = xasprintf("%s_worker", stack);
    return stack;
}

/* The end of a test: frees its names and removes its directory. */
static void test_done(char *stack, char *web, char *worker)
{
    free(worker);
    free(web);
    free(stack);
    char *rm = xasprintf("rm -rf %s", dir);
    assert_int_equal(system(rm), 0);
    free(rm);
}

static void test_cli_stack(void **state)
{
    (void)state;
    /* Stack names have no '-' in docker's examples, but any project name works. */
    char *web, *worker, *stack = test_begin("cli", &web, &worker);
    write_file("compose.yaml", "services:\n"
                               "  web:\n"
                               "    image: " TEST_IMAGE "\n"
                               "    command: " IDLE "\n"
                               "    environment: {COLOR: red}\n"
                               "    deploy: {replicas: 2, labels: {owner: team}}\n"
                               "    stop_grace_period: 2s\n"
                               "    depends_on: [worker]\n"
                               "  worker:\n"
                               "    image: " TEST_IMAGE "\n"
                               "    command: " IDLE "\n"
                               "    stop_grace_period: 2s\n");
    write_file("blue.yaml", "services:\n"
                            "  web:\n"
                            "    environment: {COLOR: blue}\n");
    write_file("only-web.yaml", "services:\n"
                                "  web:\n"
                                "    image: " TEST_IMAGE "\n"
                                "    command: " IDLE "\n"
                                "    environment: {COLOR: blue}\n"
                                "    deploy: {replicas: 2}\n");
    write_file("bad.yaml", "services:\n"
                           "  web:\n"
                           "    image: " TEST_IMAGE "\n"
                           "    deploy: {mode: global, replicas: 2}\n");
    char *out;

    EXPECT_RUN(0, out, "stack deploy -c compose.yaml --resolve-image never --detach=false %s",
               stack);
    assert_non_null(strstr(out, "services.web.depends_on: not supported in swarm mode"));
    char *needle = xasprintf("Service %s  Running  2/2 tasks running", web);
    assert_non_null(strstr(out, needle));
    free(needle);
    free(out);
    struct tl_env env;
    tl_env_init(&env);
    assert_int_equal(sw_running(&env, web), 2);
    json_t *ins = sw_service(&env, web);
    json_int_t v1 = json_integer_value(tl_json_at(ins, "Version/Index"));
    assert_string_equal(json_string_value(tl_json_at(ins, "Spec/Labels/owner")), "team");
    json_decref(ins);

    EXPECT_RUN(0, out, "stack ls");
    assert_non_null(strstr(out, "NAME"));
    assert_non_null(strstr(out, stack));
    free(out);
    EXPECT_RUN(0, out, "stack services %s", stack);
    needle = xasprintf("%s ", web);
    assert_non_null(strstr(out, needle));
    free(needle);
    assert_non_null(strstr(out, "2/2"));
    free(out);
    EXPECT_RUN(0, out, "stack ps %s", stack);
    needle = xasprintf("%s.1", web);
    assert_non_null(strstr(out, needle));
    free(needle);
    assert_non_null(strstr(out, "running"));
    free(out);

    /* An override file changes the environment: the service is updated, its version moves. */
    EXPECT_RUN(0, out, "stack deploy -c compose.yaml -c blue.yaml --resolve-image never --wait %s",
               stack);
    needle = xasprintf("Service %s  Updated", web);
    assert_non_null(strstr(out, needle));
    free(needle);
    free(out);
    ins = sw_service(&env, web);
    assert_true(json_integer_value(tl_json_at(ins, "Version/Index")) > v1);
    assert_string_equal(json_string_value(json_array_get(
                            tl_json_at(ins, "Spec/TaskTemplate/ContainerSpec/Env"), 0)),
                        "COLOR=blue");
    json_decref(ins);

    /* --prune removes worker, which the file no longer has. */
    EXPECT_RUN(0, out, "stack deploy -c only-web.yaml --prune --resolve-image never %s", stack);
    needle = xasprintf("Service %s  Removed", worker);
    assert_non_null(strstr(out, needle));
    free(needle);
    free(out);
    assert_null(sw_service(&env, worker));

    /* Invalid for swarm: exit 3, the key named, nothing changed. */
    EXPECT_RUN(3, out, "stack deploy -c bad.yaml --resolve-image never %s", stack);
    assert_non_null(strstr(out, "replicas cannot be used with the global mode"));
    free(out);
    EXPECT_RUN(2, out, "stack deploy %s", stack);
    free(out);

    EXPECT_RUN(0, out, "stack rm %s", stack);
    free(out);
    assert_null(sw_service(&env, web));
    EXPECT_RUN(0, out, "stack services %s", stack);
    assert_null(strstr(out, web));
    free(out);
    EXPECT_RUN(1, out, "stack rm %s", stack);
    assert_non_null(strstr(out, "nothing found in stack"));
    free(out);

    tl_env_release(&env);
    test_done(stack, web, worker);
}

/* Counts the lines of text. */
static size_t lines(const char *text)
{
    size_t n = 0;
    for (const char *p = text; (p = strchr(p, '\n')); p++)
        n++;
    return n;
}

/* Runs `ccompose ARGS`, args and want each a format taking the stack's name once (or not at
 * all); expects exit 0 and exactly want on the output. */
static void expect_out(const char *stack, const char *want, const char *args)
{
    char *cmd = xasprintf(args, stack), *text = xasprintf(want, stack), *out;
    EXPECT_RUN(0, out, "%s", cmd);
    if (strcmp(out, text))
        fail_msg("ccompose %s printed:\n%s\nwanted:\n%s", cmd, out, text);
    free(out);
    free(text);
    free(cmd);
}

/* A compose file from stdin (-c -); ls, services and ps with -q, --filter and --format. */
static void test_cli_stack_listing(void **state)
{
    (void)state;
    char *web, *worker, *stack = test_begin("list", &web, &worker);
    char *out, *needle;
    write_file("stdin.yaml", "services:\n"
                             "  web:\n"
                             "    image: " TEST_IMAGE "\n"
                             "    command: " IDLE "\n"
                             "    deploy: {replicas: 2, labels: {owner: team}}\n"
                             "    stop_grace_period: 2s\n"
                             "  worker:\n"
                             "    image: " TEST_IMAGE "\n"
                             "    command: " IDLE "\n"
                             "    deploy: {mode: global}\n"
                             "    stop_grace_period: 2s\n");
    EXPECT_RUN(0, out, "stack deploy -c - --resolve-image never --wait %s <stdin.yaml", stack);
    free(out);
    struct tl_env env;
    tl_env_init(&env);
    assert_int_equal(sw_running(&env, web), 2);
    json_t *ins = sw_service(&env, web);
    const char *web_id = json_string_value(json_object_get(ins, "ID"));

    EXPECT_RUN(0, out, "stack services -q %s", stack);
    assert_int_equal(lines(out), 2);
    assert_non_null(strstr(out, web_id));
    assert_null(strstr(out, "NAME"));
    free(out);
    /* name by prefix, with or without the stack's part; mode; label as key or key=value. */
    static const char *const only_web[] = {"name=web", "name=%s_we", "label=owner",
                                           "label=owner=team", "mode=replicated"};
    for (size_t i = 0; i < sizeof(only_web) / sizeof(*only_web); i++) {
        char *f = xasprintf(only_web[i], stack);
        char *args = xasprintf("stack services --filter %s --format '{{.Name}}' %%s", f);
        expect_out(stack, "%s_web\n", args);
        free(args);
        free(f);
    }
    expect_out(stack, "%s_worker global\n",
               "stack services -f mode=global --format '{{.Name}} {{.Mode}}' %s");
    expect_out(stack, "", "stack services -f label=owner=other -q %s");
    /* A plain template keeps its tab; a table template gets headings and aligned columns. */
    expect_out(stack, "%s_web\t2/2\n",
               "stack services -f name=web --format '{{.Name}}\\t{{.Replicas}}' %s");
    EXPECT_RUN(0, out, "stack services --format 'table {{.Name}}\\t{{.Mode}}' %s", stack);
    assert_int_equal(strncmp(out, "NAME", 4), 0);
    assert_non_null(strstr(out, "MODE\n"));
    assert_int_equal(lines(out), 3);
    free(out);
    EXPECT_RUN(0, out, "stack services --format json -f name=web %s", stack);
    json_error_t jerr;
    json_t *row = json_loads(out, 0, &jerr);
    if (!row)
        fail_msg("not JSON: %s (%s)", out, jerr.text);
    assert_string_equal(json_string_value(json_object_get(row, "Name")), web);
    assert_string_equal(json_string_value(json_object_get(row, "Replicas")), "2/2");
    assert_string_equal(json_string_value(json_object_get(row, "Mode")), "replicated");
    assert_string_equal(json_string_value(json_object_get(row, "ID")), web_id);
    json_decref(row);
    free(out);
    expect_out(stack, "\"%s_web\"\n", "stack services --format '{{json .Name}}' -f name=web %s");
    /* A misspelt field or filter is an error, not an empty column. */
    EXPECT_RUN(2, out, "stack services --format '{{.Nmae}}' %s", stack);
    assert_non_null(strstr(out, "{{.Nmae}}"));
    free(out);
    EXPECT_RUN(2, out, "stack services --filter colour=red %s", stack);
    assert_non_null(strstr(out, "invalid filter 'colour=red'"));
    free(out);

    EXPECT_RUN(0, out, "stack ps -q %s", stack);
    assert_int_equal(lines(out), 3);
    free(out);
    EXPECT_RUN(0, out, "stack ps -f name=web -f desired-state=running --format '{{.Name}}' %s",
               stack);
    needle = xasprintf("%s.1\n", web);
    assert_non_null(strstr(out, needle));
    assert_int_equal(lines(out), 2);
    free(needle);
    free(out);
    expect_out(stack, "", "stack ps -f desired-state=shutdown -q %s");
    /* A task's labels are its service's (deploy.labels), as the engine filters them. */
    EXPECT_RUN(0, out, "stack ps -f label=owner=team --format '{{.Name}}' %s", stack);
    assert_int_equal(lines(out), 2);
    assert_null(strstr(out, worker));
    free(out);
    expect_out(stack, "", "stack ps -f label=owner=other -q %s");
    /* IDs are cut to 12 characters, as docker does, unless --no-trunc. */
    EXPECT_RUN(0, out, "stack ps -q -f name=worker %s", stack);
    assert_int_equal(strlen(out), 13);
    char *full;
    EXPECT_RUN(0, full, "stack ps -q --no-trunc --no-resolve -f name=worker %s", stack);
    assert_int_equal(strlen(full), 26);
    assert_int_equal(strncmp(out, full, 12), 0);
    free(full);
    free(out);
    EXPECT_RUN(2, out, "stack services --no-trunc %s", stack);
    free(out);
    EXPECT_RUN(0, out, "stack ps --format 'table {{.Name}}\\t{{.CurrentState}}' -f name=worker %s",
               stack);
    assert_non_null(strstr(out, "CURRENT STATE\n"));
    assert_non_null(strstr(out, "running\n"));
    free(out);
    EXPECT_RUN(0, out, "stack ls --format '{{.Name}}: {{.Services}}'");
    needle = xasprintf("%s: 2\n", stack);
    assert_non_null(strstr(out, needle));
    free(needle);
    free(out);
    EXPECT_RUN(2, out, "stack ls -q");
    free(out);

    json_decref(ins);
    EXPECT_RUN(0, out, "stack rm %s", stack);
    free(out);
    tl_env_release(&env);
    test_done(stack, web, worker);
}

/* The element of the array (borrowed) whose member key is the string want, or NULL. */
static json_t *find_by(json_t *array, const char *key, const char *want)
{
    size_t i;
    json_t *e;
    json_array_foreach(array, i, e)
    {
        const char *v = json_string_value(tl_json_at(e, key));
        if (v && !strcmp(v, want))
            return e;
    }
    return NULL;
}

/* Ports as the swarm takes them: the short form publishes through the ingress network (the
 * service gets a virtual IP there, its tasks an attachment to it), the long form's mode: host on
 * each task's node, at a port the engine picks. `stack services` shows the ingress port only, as
 * docker does; `stack ps` each task's host port. That the ingress port answers is not checked: the
 * routing mesh needs IPVS, which this machine's kernel lacks (docs/stack.md). */
static void test_cli_stack_ports(void **state)
{
    (void)state;
    char *web, *worker, *stack = test_begin("ports", &web, &worker);
    /* Private swarm, but the host's ports: away from the control-plane ports private-swarm.sh
     * takes (20000-29999) and from the engine's ephemeral range. */
    int published = 30000 + getpid() % 2000;
    char *yaml = xasprintf("services:\n"
                           "  web:\n"
                           "    image: " TEST_IMAGE "\n"
                           "    command: " IDLE "\n"
                           "    ports:\n"
                           "      - \"%d:80\"\n"
                           "      - {target: 81, mode: host}\n"
                           "    stop_grace_period: 2s\n",
                           published);
    write_file("compose.yaml", yaml);
    char *out;
    EXPECT_RUN(0, out, "stack deploy -c compose.yaml --resolve-image never --wait %s", stack);
    free(out);
    struct tl_env env;
    tl_env_init(&env);

    /* The engine's view, not only the spec sent: the published port is allocated on ingress. */
    json_t *ins = sw_service(&env, web);
    json_t *ports = tl_json_at(ins, "Endpoint/Ports");
    assert_int_equal(json_array_size(ports), 2);
    json_t *ing = find_by(ports, "PublishMode", "ingress");
    assert_non_null(ing);
    assert_int_equal(json_integer_value(json_object_get(ing, "PublishedPort")), published);
    assert_int_equal(json_integer_value(json_object_get(ing, "TargetPort")), 80);
    assert_string_equal(json_string_value(json_object_get(ing, "Protocol")), "tcp");
    json_t *host = find_by(ports, "PublishMode", "host");
    assert_non_null(host);
    assert_int_equal(json_integer_value(json_object_get(host, "TargetPort")), 81);
    assert_string_equal(json_string_value(tl_json_at(ins, "Spec/EndpointSpec/Mode")), "vip");

    json_t *nf = json_pack("{s:[s]}", "name", "ingress");
    json_t *nets = sw_list(&env, engine_network_list, nf);
    json_t *ingress = find_by(nets, "Name", "ingress");
    assert_non_null(ingress);
    const char *ingress_id = json_string_value(json_object_get(ingress, "Id"));
    assert_non_null(find_by(tl_json_at(ins, "Endpoint/VirtualIPs"), "NetworkID", ingress_id));
    json_t *tasks = sw_tasks(&env, web);
    assert_int_equal(json_array_size(tasks), 1);
    json_t *task = json_array_get(tasks, 0);
    assert_non_null(
        find_by(json_object_get(task, "NetworksAttachments"), "Network/ID", ingress_id));
    json_t *tp = find_by(tl_json_at(task, "Status/PortStatus/Ports"), "PublishMode", "host");
    assert_non_null(tp);
    assert_int_equal(json_integer_value(json_object_get(tp, "TargetPort")), 81);
    json_int_t host_port = json_integer_value(json_object_get(tp, "PublishedPort"));
    assert_true(host_port > 0);

    char *want = xasprintf("*:%d->80/tcp\n", published);
    expect_out(stack, want, "stack services --format '{{.Ports}}' %s");
    free(want);
    /* Each binding of the task's port: one, or two where docker-proxy also listens on IPv6. */
    want = xasprintf("*:%lld->81/tcp", (long long)host_port);
    EXPECT_RUN(0, out, "stack ps --format '{{.Ports}}' %s", stack);
    char *twice = xasprintf("%s,%s\n", want, want);
    if (strncmp(out, want, strlen(want)) ||
        (strcmp(out + strlen(want), "\n") && strcmp(out, twice)))
        fail_msg("stack ps printed the ports %s, wanted %s (once or twice)", out, want);
    free(twice);
    free(out);
    free(want);

    json_decref(tasks);
    json_decref(nets);
    json_decref(nf);
    json_decref(ins);
    EXPECT_RUN(0, out, "stack rm %s", stack);
    free(out);
    tl_env_release(&env);
    free(yaml);
    test_done(stack, web, worker);
}

/* The state and error of each task of the stack, one "NAME STATE ERROR" line each (new). */
static char *task_states(const char *stack)
{
    char *out;
    EXPECT_RUN(0, out, "stack ps --no-trunc --format '{{.Name}} {{.CurrentState}} {{.Error}}' %s",
               stack);
    return out;
}

/* Placement on one node, as the managers do it on many: max_replicas_per_node leaves the tasks
 * above the limit pending, a constraint no node meets leaves its task pending until a node is
 * labelled to meet it (without a redeploy); and two tasks of one node share its named volume. */
static void test_cli_stack_placement(void **state)
{
    (void)state;
    char *web, *worker, *stack = test_begin("place", &web, &worker);
    write_file(
        "compose.yaml",
        "services:\n"
        "  capped:\n"
        "    image: " TEST_IMAGE "\n"
        "    command: " IDLE "\n"
        "    stop_grace_period: 1s\n"
        "    deploy: {replicas: 3, placement: {max_replicas_per_node: 2}}\n"
        "  pinned:\n"
        "    image: " TEST_IMAGE "\n"
        "    command: " IDLE "\n"
        "    stop_grace_period: 1s\n"
        "    deploy: {placement: {constraints: [node.labels.ccit-zone==b]}}\n"
        "  shared:\n"
        "    image: " TEST_IMAGE "\n"
        "    command: [\"sh\", \"-c\", \"hostname >>/data/who; trap 'exit 0' TERM; sleep 3600 & "
        "wait\"]\n"
        "    stop_grace_period: 1s\n"
        "    volumes: [data:/data]\n"
        "    deploy: {replicas: 2}\n"
        "volumes:\n"
        "  data:\n");
    char *out;
    EXPECT_RUN(0, out, "stack deploy -c compose.yaml --resolve-image never %s", stack);
    free(out);
    struct tl_env env;
    tl_env_init(&env);
    char *capped = xasprintf("%s_capped", stack), *pinned = xasprintf("%s_pinned", stack);
    char *shared = xasprintf("%s_shared", stack);
    sw_wait_running(&env, shared, 2, 120);
    /* Two run; the third waits for a node that has room, with the scheduler's reason. */
    bool settled = false;
    for (int i = 0; i < 240 && !settled; i++) {
        out = task_states(stack);
        settled = sw_running(&env, capped) == 2 &&
                  strstr(out, "pending no suitable node (max replicas per node limit exceed)") &&
                  strstr(out, "pending no suitable node (scheduling constraints not satisfied");
        if (!settled) {
            free(out);
            sw_pause(&env, 500);
        }
    }
    if (!settled)
        fail_msg("wanted 2 capped tasks running, one capped and the pinned one pending:\n%s", out);
    free(out);
    assert_int_equal(sw_running(&env, pinned), 0);

    /* One node, one local volume: both tasks wrote to the same file. */
    char *cmd =
        xasprintf("docker exec $(docker ps -q --filter label=com.docker.swarm.service.name=%s "
                  "| head -n 1) cat /data/who",
                  shared);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char line[256];
    size_t who = 0;
    while (fgets(line, sizeof(line), p))
        who++;
    assert_int_equal(pclose(p), 0);
    assert_int_equal(who, 2);
    free(cmd);

    /* The node meets the constraint: the pending task is placed, no deploy needed. */
    const char *node = "$(docker info -f {{.Swarm.NodeID}})";
    char *label = xasprintf("docker node update --label-add ccit-zone=b %s >/dev/null", node);
    assert_int_equal(system(label), 0);
    free(label);
    sw_wait_running(&env, pinned, 1, 120);
    label = xasprintf("docker node update --label-rm ccit-zone %s >/dev/null", node);
    assert_int_equal(system(label), 0);
    free(label);

    EXPECT_RUN(0, out, "stack rm %s", stack);
    free(out);
    /* The volume stays, as with docker; it is free once the agent has removed the containers,
     * a few seconds after the tasks are gone. */
    char *rmv = xasprintf("for i in $(seq 120); do docker volume rm %s_data >/dev/null 2>&1 && "
                          "exit 0; sleep 0.5; done; exit 1",
                          stack);
    assert_int_equal(system(rmv), 0);
    free(rmv);
    free(shared);
    free(pinned);
    free(capped);
    tl_env_release(&env);
    test_done(stack, web, worker);
}

/* --with-registry-auth: an image only in a registry with basic auth, and not on the node. Without
 * the flag the node cannot pull it (the task fails); with it, the credentials of
 * $DOCKER_CONFIG/config.json travel with the service and the task runs. */
static void test_cli_stack_registry_auth(void **state)
{
    (void)state;
    char *web, *worker, *stack = test_begin("auth", &web, &worker);
    struct tl_registry reg;
    tl_registry_start_auth(&reg, HTPASSWD);
    char *image = xasprintf("%s/%s/app:1", reg.addr, stack);
    char *cfg = xasprintf("{\"auths\": {\"http://%s\": {\"auth\": \"" HTAUTH "\"}}}\n", reg.addr);
    write_file("config.json", cfg);
    char *yaml = xasprintf("services:\n  web:\n    image: %s\n    command: " IDLE "\n"
                           "    stop_grace_period: 2s\n",
                           image);
    write_file("compose.yaml", yaml);
    /* Into the registry with the docker CLI, then off the node. */
    char *push = xasprintf("cd %s && export DOCKER_CONFIG=%s && docker tag " TEST_IMAGE " %s && "
                           "docker push %s >/dev/null && docker rmi %s >/dev/null",
                           dir, dir, image, image, image);
    assert_int_equal(system(push), 0);
    char *out;
    EXPECT_RUN(0, out, "stack deploy -c compose.yaml --resolve-image never %s", stack);
    free(out);
    /* No credentials on the node: the task fails, with the pull's error. */
    bool failed = false;
    for (int i = 0; i < 120 && !failed; i++) {
        EXPECT_RUN(0, out, "stack ps --format '{{.CurrentState}} {{.Error}}' %s", stack);
        failed = strstr(out, "failed ") || strstr(out, "rejected ");
        free(out);
        if (!failed)
            usleep(500 * 1000);
    }
    assert_true(failed);
    setenv("DOCKER_CONFIG", dir, 1);
    EXPECT_RUN(0, out,
               "stack deploy -c compose.yaml --with-registry-auth --resolve-image never --wait "
               "--wait-timeout 120 %s",
               stack);
    unsetenv("DOCKER_CONFIG");
    free(out);
    expect_out(stack, "1/1\n", "stack services --format '{{.Replicas}}' %s");
    EXPECT_RUN(0, out, "stack rm %s", stack);
    free(out);
    char *rmi = xasprintf("docker rmi %s >/dev/null 2>&1", image);
    assert_int_equal(system(rmi), 0);
    tl_registry_stop(&reg);
    free(rmi);
    free(push);
    free(yaml);
    free(cfg);
    free(image);
    test_done(stack, web, worker);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cli_stack),
        cmocka_unit_test(test_cli_stack_listing),
        cmocka_unit_test(test_cli_stack_ports),
        cmocka_unit_test(test_cli_stack_placement),
        cmocka_unit_test(test_cli_stack_registry_auth),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
