/* Assembly on real files in a temporary directory: discovery (parents, override), COMPOSE_FILE,
 * project name precedence, .env against the environment, profiles, path resolution, extends in
 * the same and another file, include, and errors with their exact file:line:col. Every test
 * passes its own environ: nothing depends on the runner's environment. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/buf.h"
#include "compose/assemble-internal.h"

static char dir[256];

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static int setup(void **state)
{
    (void)state;
    strcpy(dir, "/tmp/ccompose-load-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    return nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Writes dir/rel, making its directories. */
static void put(const char *rel, const char *text)
{
    char *path = xasprintf("%s/%s", dir, rel);
    for (char *p = path + strlen(dir) + 1; (p = strchr(p, '/')); p++) {
        *p = '\0';
        mkdir(path, 0755);
        *p = '/';
    }
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    free(path);
}

static char *at(const char *rel)
{
    return xasprintf("%s/%s", dir, rel);
}

struct run {
    struct compose_project *p;
    struct compose_load_ctx ctx;
    struct compose_diag diag;
    struct asm_vars vars;
    struct cnode *root;
    struct cc_error err;
    int rc;
};

static void run(struct run *r, struct compose_load_options *o)
{
    memset(r, 0, sizeof(*r));
    r->p = xcalloc(1, sizeof(*r->p));
    arena_init(&r->p->arena);
    compose_diag_init(&r->diag);
    cc_error_init(&r->err);
    static const char *const empty_env[] = {NULL};
    if (!o->environ)
        o->environ = empty_env;
    r->ctx = (struct compose_load_ctx){.project = r->p, .opts = o, .diag = &r->diag};
    r->rc = compose_assemble(&r->ctx, &r->vars, &r->root, &r->err);
}

static void done(struct run *r)
{
    compose_project_free(r->p);
    compose_diag_release(&r->diag);
    asm_vars_release(&r->vars);
    cc_error_release(&r->err);
}

static void dump(struct buf *b, const struct cnode *n)
{
    if (n->kind == CNODE_SCALAR) {
        buf_adds(b, cnode_is_null(n) ? "~" : n->value);
    } else if (n->kind == CNODE_MAPPING) {
        buf_adds(b, "{");
        for (size_t i = 0; i < n->npairs; i++) {
            buf_printf(b, "%s%s: ", i ? ", " : "", n->pairs[i].key->value);
            dump(b, n->pairs[i].value);
        }
        buf_adds(b, "}");
    } else {
        buf_adds(b, "[");
        for (size_t i = 0; i < n->nitems; i++) {
            buf_adds(b, i ? ", " : "");
            dump(b, n->items[i]);
        }
        buf_adds(b, "]");
    }
}

/* Checks the rendering of key under root, with every occurrence of the temp dir shown as "@". */
static void expect(const struct run *r, const char *key, const char *want)
{
    assert_int_equal(r->rc, 0);
    struct buf b = BUF_INIT, out = BUF_INIT;
    const struct cnode *n = r->root;
    char *path = xstrdup(key);
    for (char *save, *k = strtok_r(path, ".", &save); k; k = strtok_r(NULL, ".", &save))
        n = cnode_get(n, k);
    assert_non_null(n);
    dump(&b, n);
    const char *s = buf_str(&b);
    for (const char *m; (m = strstr(s, dir)); s = m + strlen(dir)) {
        buf_add(&out, s, (size_t)(m - s));
        buf_addc(&out, '@');
    }
    buf_adds(&out, s);
    assert_string_equal(buf_str(&out), want);
    buf_release(&b);
    buf_release(&out);
    free(path);
}

static void test_discovery_parents_and_override(void **state)
{
    (void)state;
    put("My App/compose.yaml", "services: {web: {image: a}}\n");
    put("My App/docker-compose.yml", "services: {other: {image: x}}\n");
    put("My App/compose.override.yml", "services: {web: {image: b}}\n");
    put("My App/sub/deeper/.keep", "");
    char *wd = at("My App/sub/deeper");
    struct compose_load_options o = {.working_dir = wd};
    struct run r;
    run(&r, &o);
    expect(&r, "services", "{web: {image: b}}");
    assert_string_equal(r.p->name, "myapp");
    char *pd = at("My App");
    assert_string_equal(r.p->working_dir, pd);
    assert_int_equal(r.p->config_files.n, 2);
    char *f0 = at("My App/compose.yaml"), *f1 = at("My App/compose.override.yml");
    assert_string_equal(r.p->config_files.v[0], f0);
    assert_string_equal(r.p->config_files.v[1], f1);
    done(&r);
    free(wd), free(pd), free(f0), free(f1);
}

static void test_not_found(void **state)
{
    (void)state;
    put("empty/.keep", "");
    char *wd = at("empty");
    struct compose_load_options o = {.working_dir = wd};
    struct run r;
    run(&r, &o);
    assert_int_equal(r.rc, -1);
    assert_int_equal(r.err.kind, CC_ERR_NOT_FOUND);
    assert_non_null(r.err.hint);
    done(&r);
    free(wd);
}

static void test_compose_file_env(void **state)
{
    (void)state;
    put("a.yml", "services: {web: {image: a, ports: ['80:80']}}\n");
    put("b.yml", "services: {web: {ports: ['443:443']}}\n");
    put("compose.yaml", "services: {ignored: {image: x}}\n");
    const char *env[] = {"COMPOSE_FILE=a.yml;b.yml", "COMPOSE_PATH_SEPARATOR=;", NULL};
    struct compose_load_options o = {.working_dir = dir, .environ = env};
    struct run r;
    run(&r, &o);
    expect(&r, "services", "{web: {image: a, ports: [80:80, 443:443]}}");
    done(&r);
    /* COMPOSE_FILE from .env is honoured too. */
    put(".env", "COMPOSE_FILE=b.yml:a.yml\n");
    struct compose_load_options o2 = {.working_dir = dir};
    run(&r, &o2);
    expect(&r, "services", "{web: {ports: [443:443, 80:80], image: a}}");
    done(&r);
}

static void test_project_name_precedence(void **state)
{
    (void)state;
    put("Proj_1/compose.yaml", "name: ${N:-from-file}\nservices: {web: {image: a}}\n");
    char *wd = at("Proj_1");
    const char *files[] = {"compose.yaml"};
    struct compose_load_options o = {.working_dir = wd, .files = files, .n_files = 1};
    struct run r;
    run(&r, &o);
    assert_string_equal(r.p->name, "from-file");
    done(&r);

    const char *env[] = {"N=interp", NULL};
    o.environ = env;
    run(&r, &o);
    assert_string_equal(r.p->name, "interp");
    assert_string_equal(asm_vars_get(&r.vars, "COMPOSE_PROJECT_NAME"), "interp");
    done(&r);

    put("Proj_1/.env", "COMPOSE_PROJECT_NAME=dotenv\n");
    o.environ = NULL;
    run(&r, &o);
    assert_string_equal(r.p->name, "dotenv");
    done(&r);

    o.project_name = "flag";
    run(&r, &o);
    assert_string_equal(r.p->name, "flag");
    done(&r);

    /* An explicit invalid name is rejected with the rule, where it was written. */
    put("Proj_1/.env", "");
    o.project_name = NULL;
    const char *bad[] = {"N=Bad Name", NULL};
    o.environ = bad;
    run(&r, &o);
    assert_int_equal(r.rc, -1);
    assert_string_equal(r.err.message,
                        "invalid project name 'Bad Name': it must contain only characters from "
                        "[a-z0-9_-] and start with [a-z0-9]");
    assert_string_equal(r.err.file, "compose.yaml");
    assert_int_equal(r.err.line, 1);
    assert_int_equal(r.err.col, 7);
    done(&r);

    /* Without any, the directory's base name, normalised. */
    put("Proj_1/compose.yaml", "services: {web: {image: a}}\n");
    o.environ = NULL;
    run(&r, &o);
    assert_string_equal(r.p->name, "proj_1");
    done(&r);
    free(wd);
}

static void test_env_precedence_and_profiles(void **state)
{
    (void)state;
    put("compose.yaml", "services: {web: {image: \"img:${TAG}\", user: $WHO}}\n");
    put(".env", "TAG=fromdotenv\nWHO=dotenv\nCOMPOSE_PROFILES=debug, tools\n");
    put("other.env", "TAG=fromflag\n");
    const char *env[] = {"WHO=shell", NULL};
    struct compose_load_options o = {.working_dir = dir, .environ = env};
    struct run r;
    run(&r, &o);
    expect(&r, "services.web", "{image: img:fromdotenv, user: shell}");
    assert_int_equal(r.p->profiles.n, 2);
    assert_string_equal(r.p->profiles.v[0], "debug");
    assert_string_equal(r.p->profiles.v[1], "tools");
    done(&r);

    /* --env-file replaces .env; --profile replaces COMPOSE_PROFILES. */
    const char *envf[] = {"other.env"};
    const char *prof[] = {"x"};
    o.env_files = envf;
    o.n_env_files = 1;
    o.profiles = prof;
    o.n_profiles = 1;
    run(&r, &o);
    expect(&r, "services.web", "{image: img:fromflag, user: shell}");
    assert_int_equal(r.p->profiles.n, 1);
    assert_string_equal(r.p->profiles.v[0], "x");
    assert_int_equal(r.diag.n_warnings, 0);
    done(&r);

    /* A missing --env-file is an error; an unset variable is a warning. */
    const char *missing[] = {"nope.env"};
    o.env_files = missing;
    run(&r, &o);
    assert_int_equal(r.rc, -1);
    assert_int_equal(r.err.kind, CC_ERR_NOT_FOUND);
    done(&r);
    o.env_files = NULL;
    o.n_env_files = 0;
    put(".env", "");
    run(&r, &o);
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.diag.n_warnings, 1);
    assert_string_equal(r.diag.warnings[0].message,
                        "The \"TAG\" variable is not set. Defaulting to a blank string.");
    char *f = at("compose.yaml");
    assert_string_equal(r.diag.warnings[0].file, f);
    assert_int_equal(r.diag.warnings[0].line, 1);
    /* A quoted scalar: the warning points at the scalar. */
    assert_int_equal(r.diag.warnings[0].col, 25);
    done(&r);
    free(f);
}

/* What cli applies to its environment before a command: the COMPOSE_* variables of the
 * environment and of .env (the environment winning), or of --env-file instead of .env. */
static void test_env_compose_vars(void **state)
{
    (void)state;
    put("sub/.env", "COMPOSE_PROGRESS=json\nCOMPOSE_IGNORE_ORPHANS=${FLAG:-true}\nOTHER=x\n"
                    "COMPOSE_ANSI=never\n");
    put("sub/compose.yaml", "services: {web: {image: img}}\n");
    put("flag.env", "COMPOSE_PROFILES=debug\n");
    const char *env[] = {"COMPOSE_ANSI=always", "HOME=/root", NULL};
    const char *files[] = {"sub/compose.yaml"};
    struct compose_load_options o = {
        .working_dir = dir, .files = files, .n_files = 1, .environ = env};
    char **vars = NULL;
    size_t n = 0;
    struct cc_error err = CC_ERROR_INIT;
    assert_int_equal(compose_env_compose_vars(&o, &vars, &n, &err), 0);
    struct buf b = BUF_INIT;
    for (size_t i = 0; i < n; i++) {
        buf_printf(&b, "%s;", vars[i]);
        free(vars[i]);
    }
    free(vars);
    assert_string_equal(buf_str(&b),
                        "COMPOSE_ANSI=always;COMPOSE_PROGRESS=json;COMPOSE_IGNORE_ORPHANS=true;");
    buf_reset(&b);

    const char *envf[] = {"flag.env"};
    o.env_files = envf;
    o.n_env_files = 1;
    assert_int_equal(compose_env_compose_vars(&o, &vars, &n, &err), 0);
    for (size_t i = 0; i < n; i++) {
        buf_printf(&b, "%s;", vars[i]);
        free(vars[i]);
    }
    free(vars);
    assert_string_equal(buf_str(&b), "COMPOSE_ANSI=always;COMPOSE_PROFILES=debug;");
    buf_release(&b);

    const char *missing[] = {"nope.env"};
    o.env_files = missing;
    assert_int_equal(compose_env_compose_vars(&o, &vars, &n, &err), -1);
    assert_int_equal(err.kind, CC_ERR_NOT_FOUND);
    cc_error_release(&err);
}

static void test_paths(void **state)
{
    (void)state;
    put("proj/compose.yaml",
        "services:\n"
        "  web:\n"
        "    build: ./app\n"
        "    env_file: [web.env, {path: ../shared.env, required: false}]\n"
        "    volumes: [./data:/data:ro, ~/cache:/c, named:/n, /abs:/abs, {type: bind, source: "
        "src, target: /s}]\n"
        "  remote:\n"
        "    build: {context: 'https://github.com/x/y.git', dockerfile: D}\n"
        "secrets: {s: {file: ./s.txt}}\n"
        "configs: {c: {file: /etc/c}}\n");
    const char *files[] = {"proj/compose.yaml"};
    const char *env[] = {"HOME=/home/me", NULL};
    struct compose_load_options o = {
        .working_dir = dir, .files = files, .n_files = 1, .environ = env};
    struct run r;
    run(&r, &o);
    expect(&r, "services.web",
           "{build: @/proj/app, env_file: [@/proj/web.env, {path: @/shared.env, required: "
           "false}], volumes: [@/proj/data:/data:ro, /home/me/cache:/c, named:/n, /abs:/abs, "
           "{type: bind, source: @/proj/src, target: /s}]}");
    expect(&r, "services.remote", "{build: {context: https://github.com/x/y.git, dockerfile: D}}");
    expect(&r, "secrets", "{s: {file: @/proj/s.txt}}");
    expect(&r, "configs", "{c: {file: /etc/c}}");
    done(&r);
    o.no_normalize = true;
    run(&r, &o);
    expect(&r, "services.web.build", "./app");
    done(&r);
}

static void test_extends(void **state)
{
    (void)state;
    put("compose.yaml", "services:\n"
                        "  web:\n"
                        "    extends: base\n"
                        "    environment: {B: 2}\n"
                        "  base:\n"
                        "    image: a\n"
                        "    environment: [A=1]\n"
                        "  api:\n"
                        "    extends: {file: lib/common.yaml, service: svc}\n"
                        "    ports: ['81:81']\n");
    put("lib/common.yaml", "services:\n"
                           "  svc:\n"
                           "    extends: root\n"
                           "    build: .\n"
                           "    volumes: [./conf:/conf]\n"
                           "    depends_on: [db]\n"
                           "  root:\n"
                           "    image: r\n"
                           "    ports: ['80:80']\n");
    struct compose_load_options o = {.working_dir = dir};
    struct run r;
    run(&r, &o);
    expect(&r, "services.web", "{image: a, environment: {A: 1, B: 2}}");
    expect(&r, "services.api",
           "{image: r, ports: [80:80, 81:81], build: @/lib, volumes: [@/lib/conf:/conf], "
           "depends_on: [db]}");
    done(&r);
}

static void test_extends_errors(void **state)
{
    (void)state;
    put("compose.yaml", "services:\n"
                        "  a:\n"
                        "    extends: b\n"
                        "  b:\n"
                        "    extends:\n"
                        "      service: a\n");
    const char *files[] = {"compose.yaml"};
    struct compose_load_options o = {.working_dir = dir, .files = files, .n_files = 1};
    struct run r;
    run(&r, &o);
    assert_int_equal(r.rc, -1);
    assert_string_equal(r.err.message, "extends cycle: a -> b -> a");
    assert_string_equal(r.err.file, "compose.yaml");
    assert_int_equal(r.err.line, 6);
    assert_int_equal(r.err.col, 16);
    done(&r);

    put("compose.yaml", "services:\n"
                        "  a:\n"
                        "    extends: {service: nope}\n");
    run(&r, &o);
    assert_int_equal(r.rc, -1);
    assert_string_equal(r.err.message,
                        "cannot extend service 'nope': no such service in 'compose.yaml'");
    assert_int_equal(r.err.line, 3);
    assert_int_equal(r.err.col, 24);
    done(&r);
}

static void test_include(void **state)
{
    (void)state;
    put("compose.yaml", "include:\n"
                        "  - sub/compose.yaml\n"
                        "  - path: [db/a.yaml, db/b.yaml]\n"
                        "    env_file: db/db.env\n"
                        "services:\n"
                        "  web: {image: web, depends_on: [api, db]}\n");
    put("sub/compose.yaml", "services: {api: {image: \"api:${V}\", build: ./src}}\n"
                            "networks: {back: {}}\n");
    put("sub/.env", "V=subenv\n");
    put("db/a.yaml", "services: {db: {image: \"pg:${PGV}\"}}\n");
    put("db/b.yaml", "services: {db: {environment: [X=1]}}\n");
    put("db/db.env", "PGV=16\n");
    const char *env[] = {"V=parent", NULL};
    struct compose_load_options o = {.working_dir = dir, .environ = env};
    struct run r;
    run(&r, &o);
    expect(&r, "services",
           "{web: {image: web, depends_on: [api, db]}, api: {image: api:parent, build: "
           "@/sub/src}, db: {image: pg:16, environment: [X=1]}}");
    expect(&r, "networks", "{back: {}}");
    assert_null(cnode_get(r.root, "include"));
    done(&r);

    put("compose.yaml", "include: [sub/compose.yaml]\n"
                        "services:\n"
                        "  api: {image: mine}\n");
    const char *files[] = {"compose.yaml"};
    o.files = files;
    o.n_files = 1;
    run(&r, &o);
    assert_int_equal(r.rc, -1);
    char *msg = xasprintf("service 'api' is defined in both 'compose.yaml' and included "
                          "'%s/sub/compose.yaml'",
                          dir);
    assert_string_equal(r.err.message, msg);
    assert_int_equal(r.err.line, 3);
    assert_int_equal(r.err.col, 3);
    free(msg);
    done(&r);

    put("sub/compose.yaml", "include: [../compose.yaml]\n");
    run(&r, &o);
    assert_int_equal(r.rc, -1);
    char *cyc = xasprintf("include cycle: '%s/compose.yaml' -> '%s/sub/compose.yaml' -> "
                          "'%s/compose.yaml'",
                          dir, dir, dir);
    assert_string_equal(r.err.message, cyc);
    free(cyc);
    done(&r);
}

static void test_multi_document_and_stdin(void **state)
{
    (void)state;
    const char *files[] = {"-"};
    struct compose_load_options o = {
        .working_dir = dir,
        .files = files,
        .n_files = 1,
        .stdin_text = "services: {a: {image: x, labels: [k=1]}}\n---\nservices: {a: {labels: "
                      "{k: 2}}}\n",
    };
    struct run r;
    run(&r, &o);
    expect(&r, "services", "{a: {image: x, labels: {k: 2}}}");
    assert_string_equal(r.p->config_files.v[0], "-");
    done(&r);
}

/* A later file's !override and !reset apply to the earlier files, whole file or not (a file's
 * only document once lost its tags on the way, and its ports were appended instead). */
static void test_override_across_files(void **state)
{
    (void)state;
    put("a.yaml", "services: {s: {image: x, user: u, ports: ['127.0.0.1:80:80']}}\n");
    put("b.yaml", "services:\n  s:\n    user: !reset null\n    ports: !override\n"
                  "      - target: 81\n        mode: host\n");
    char *a = at("a.yaml"), *b = at("b.yaml");
    const char *files[] = {a, b};
    struct compose_load_options o = {.working_dir = dir, .files = files, .n_files = 2};
    struct run r;
    run(&r, &o);
    expect(&r, "services", "{s: {image: x, ports: [{target: 81, mode: host}]}}");
    done(&r);
    free(a), free(b);
}

/* Hostile input: a project of more than CNODE_MAX_SERVICES services is refused at the first one
 * too many, in one file and once files are merged; exactly the limit loads. */
static void test_services_limit(void **state)
{
    (void)state;
    struct buf b = BUF_INIT;
    buf_adds(&b, "services:\n");
    for (unsigned i = 0; i < CNODE_MAX_SERVICES; i++)
        buf_printf(&b, "  s%u: {image: busybox}\n", i);
    put("compose.yaml", buf_str(&b));
    const char *files[] = {"compose.yaml", "more.yaml"};
    struct compose_load_options o = {.working_dir = dir, .files = files, .n_files = 1};
    struct run r;
    run(&r, &o);
    assert_int_equal(r.rc, 0);
    done(&r);

    buf_printf(&b, "  one-too-many: {image: busybox}\n");
    put("compose.yaml", buf_str(&b));
    run(&r, &o);
    assert_int_equal(r.rc, -1);
    assert_string_equal(r.err.message, "more than 10000 services, refusing the project");
    assert_string_equal(r.err.hint, "split the application into several projects (-p NAME), or "
                                    "check that the file was not generated wrong");
    assert_string_equal(r.err.file, "compose.yaml");
    assert_int_equal(r.err.line, 10002);
    assert_int_equal(r.err.col, 3);
    done(&r);

    /* Two files under the limit each, over it together: refused at the first service too many,
     * in the file that brought it. */
    buf_reset(&b);
    buf_adds(&b, "services:\n");
    for (unsigned i = 0; i < CNODE_MAX_SERVICES / 2 + 1; i++)
        buf_printf(&b, "  a%u: {image: busybox}\n", i);
    put("compose.yaml", buf_str(&b));
    buf_reset(&b);
    buf_adds(&b, "services:\n");
    for (unsigned i = 0; i < CNODE_MAX_SERVICES / 2; i++)
        buf_printf(&b, "  b%u: {image: busybox}\n", i);
    put("more.yaml", buf_str(&b));
    o.n_files = 2;
    run(&r, &o);
    assert_int_equal(r.rc, -1);
    assert_string_equal(r.err.message, "more than 10000 services, refusing the project");
    assert_string_equal(r.err.file, "more.yaml");
    assert_int_equal(r.err.line, CNODE_MAX_SERVICES / 2 + 1);
    done(&r);
    buf_release(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_discovery_parents_and_override, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_found, setup, teardown),
        cmocka_unit_test_setup_teardown(test_compose_file_env, setup, teardown),
        cmocka_unit_test_setup_teardown(test_project_name_precedence, setup, teardown),
        cmocka_unit_test_setup_teardown(test_env_precedence_and_profiles, setup, teardown),
        cmocka_unit_test_setup_teardown(test_env_compose_vars, setup, teardown),
        cmocka_unit_test_setup_teardown(test_paths, setup, teardown),
        cmocka_unit_test_setup_teardown(test_extends, setup, teardown),
        cmocka_unit_test_setup_teardown(test_extends_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_include, setup, teardown),
        cmocka_unit_test_setup_teardown(test_multi_document_and_stdin, setup, teardown),
        cmocka_unit_test_setup_teardown(test_override_across_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_services_limit, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
