/* `ccompose config` as users run it (build/ccompose, CCOMPOSE_BIN): the printed project loads
 * again to the same output, lists, -q, -o, JSON, and invalid files exit 3 with file:line:col on
 * stderr. No engine is needed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/lib/compose-test.h"

static const char *bin(void)
{
    const char *b = getenv("CCOMPOSE_BIN");
    return b && *b ? b : "build/ccompose";
}

static char *dir;

static int setup(void **state)
{
    (void)state;
    dir = ct_tmpdir();
    ct_put(dir, "compose.yaml",
           "services:\n"
           "  web:\n"
           "    image: nginx:${TAG:-1.25}\n"
           "    ports: ['8080:80']\n"
           "    volumes: [./html:/usr/share/nginx/html:ro, data:/data]\n"
           "    depends_on: [db]\n"
           "    env_file: web.env\n"
           "  db:\n"
           "    image: postgres\n"
           "    healthcheck: {test: pg_isready, interval: 2s}\n"
           "  tools:\n"
           "    build: ./tools\n"
           "    profiles: [debug]\n"
           "volumes:\n"
           "  data:\n");
    ct_put(dir, "compose.override.yaml",
           "services:\n  db:\n    environment: {POSTGRES_PASSWORD: x}\n");
    ct_put(dir, "over.yaml", "services:\n  web:\n    imag: y\n");
    ct_put(dir, "web.env", "GREETING=hello\n");
    ct_put(dir, ".env", "TAG=1.27\n");
    ct_put(dir, "bad.yaml",
           "services:\n"
           "  web:\n"
           "    image: x\n"
           "    depends_on: [nope]\n"
           "    restart: sometimes\n");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    ct_rmdir(dir);
    free(dir);
    return 0;
}

static void test_round_trip(void **state)
{
    (void)state;
    char *out, *err, *out2, *err2;
    const char *argv[] = {bin(), "config", NULL};
    assert_int_equal(ct_run(dir, argv, NULL, &out, &err), 0);
    assert_non_null(strstr(out, "name: ccompose-test-"));
    assert_non_null(strstr(out, "image: nginx:1.27\n"));
    assert_non_null(strstr(out, "GREETING: hello\n"));
    assert_non_null(strstr(out, "POSTGRES_PASSWORD: x\n"));
    assert_null(strstr(out, "tools:"));
    char *html = xasprintf("source: %s/html\n", dir);
    assert_non_null(strstr(out, html));
    free(html);
    /* The output, read back from stdin, prints the same. */
    const char *again[] = {bin(), "-f", "-", "config", NULL};
    int rc = ct_run(dir, again, out, &out2, &err2);
    if (rc != 0)
        print_message("%s", err2);
    assert_int_equal(rc, 0);
    assert_string_equal(out, out2);
    free(out);
    free(err);
    free(out2);
    free(err2);
}

static void test_lists_and_quiet(void **state)
{
    (void)state;
    char *out;
    const char *services[] = {bin(), "config", "--services", NULL};
    assert_int_equal(ct_run(dir, services, NULL, &out, NULL), 0);
    assert_string_equal(out, "db\nweb\n");
    free(out);
    const char *profiles[] = {bin(), "config", "--profiles", NULL};
    assert_int_equal(ct_run(dir, profiles, NULL, &out, NULL), 0);
    assert_string_equal(out, "debug\n");
    free(out);
    const char *images[] = {bin(), "--profile", "debug", "config", "--images", NULL};
    assert_int_equal(ct_run(dir, images, NULL, &out, NULL), 0);
    assert_non_null(strstr(out, "nginx:1.27\n"));
    assert_non_null(strstr(out, "-tools\n"));
    free(out);
    const char *volumes[] = {bin(), "config", "--volumes", NULL};
    assert_int_equal(ct_run(dir, volumes, NULL, &out, NULL), 0);
    assert_string_equal(out, "data\n");
    free(out);
    /* Named services come with their dependencies. */
    const char *named[] = {bin(), "config", "--services", "web", NULL};
    assert_int_equal(ct_run(dir, named, NULL, &out, NULL), 0);
    assert_string_equal(out, "db\nweb\n");
    free(out);
    const char *only_db[] = {bin(), "config", "--services", "db", NULL};
    assert_int_equal(ct_run(dir, only_db, NULL, &out, NULL), 0);
    assert_string_equal(out, "db\n");
    free(out);
    const char *quiet[] = {bin(), "config", "-q", NULL};
    assert_int_equal(ct_run(dir, quiet, NULL, &out, NULL), 0);
    assert_string_equal(out, "");
    free(out);
}

static void test_json_and_output_file(void **state)
{
    (void)state;
    char *out;
    char *file = xasprintf("%s/out.json", dir);
    const char *argv[] = {bin(), "config", "--format", "json", "-o", file, NULL};
    assert_int_equal(ct_run(dir, argv, NULL, &out, NULL), 0);
    assert_string_equal(out, "");
    free(out);
    FILE *f = fopen(file, "r");
    assert_non_null(f);
    char head[32] = {0};
    assert_true(fread(head, 1, sizeof(head) - 1, f) > 0);
    fclose(f);
    assert_true(strncmp(head, "{\n  \"name\": ", 12) == 0);
    free(file);
}

static void test_no_interpolate(void **state)
{
    (void)state;
    char *out, *err;
    const char *argv[] = {bin(), "config", "--no-interpolate", NULL};
    assert_int_equal(ct_run(dir, argv, NULL, &out, &err), 0);
    assert_non_null(strstr(out, "image: nginx:${TAG:-1.25}\n"));
    assert_non_null(strstr(out, "POSTGRES_PASSWORD: x\n")); /* the override is merged */
    free(out);
    free(err);
}

/* `stack config`: only the -c files, merged in order and interpolated unless
 * --skip-interpolation; no file is an error. */
static void test_stack_config(void **state)
{
    (void)state;
    char *out, *err;
    const char *one[] = {bin(), "stack", "config", "-c", "compose.yaml", NULL};
    assert_int_equal(ct_run(dir, one, NULL, &out, &err), 0);
    assert_non_null(strstr(out, "image: nginx:1.27\n"));
    assert_null(strstr(out, "POSTGRES_PASSWORD")); /* the override is not a -c file */
    free(out);
    free(err);
    const char *two[] = {bin(), "stack", "config", "-c", "compose.yaml", "--compose-file",
                         "compose.override.yaml", "--skip-interpolation", NULL};
    assert_int_equal(ct_run(dir, two, NULL, &out, &err), 0);
    assert_non_null(strstr(out, "image: nginx:${TAG:-1.25}\n"));
    assert_non_null(strstr(out, "POSTGRES_PASSWORD: x\n"));
    free(out);
    free(err);
    const char *none[] = {bin(), "stack", "config", NULL};
    assert_int_equal(ct_run(dir, none, NULL, &out, &err), 2);
    assert_non_null(strstr(err, "stack config needs -c FILE"));
    free(out);
    free(err);
}

static void test_no_path_resolution(void **state)
{
    (void)state;
    char *out;
    const char *argv[] = {bin(), "config", "--no-path-resolution", NULL};
    assert_int_equal(ct_run(dir, argv, NULL, &out, NULL), 0);
    assert_non_null(strstr(out, "source: ./html\n"));
    free(out);
}

static void test_invalid_exits_3(void **state)
{
    (void)state;
    char *out, *err;
    const char *argv[] = {bin(), "-f", "bad.yaml", "config", NULL};
    assert_int_equal(ct_run(dir, argv, NULL, &out, &err), 3);
    assert_string_equal(out, "");
    assert_non_null(strstr(err, "bad.yaml:4:18: error: 'nope' in services.web.depends_on is not "
                                "a service\n"));
    assert_non_null(strstr(err, "bad.yaml:5:14: error: 'services.web.restart' is not a restart "
                                "policy: 'sometimes'\n"));
    assert_true(strstr(err, "bad.yaml:4:18") < strstr(err, "bad.yaml:5:14"));
    free(out);
    free(err);
    /* Errors of several files come file by file, in load order. */
    const char *two[] = {bin(), "-f", "over.yaml", "-f", "bad.yaml", "config", NULL};
    assert_int_equal(ct_run(dir, two, NULL, &out, &err), 3);
    assert_non_null(strstr(err, "over.yaml:3:5: error: unknown key 'imag'"));
    assert_true(strstr(err, "over.yaml:3:5") < strstr(err, "bad.yaml:4:18"));
    free(out);
    free(err);
    const char *missing[] = {bin(), "-f", "nothere.yaml", "config", NULL};
    assert_int_equal(ct_run(dir, missing, NULL, &out, &err), 3);
    free(out);
    free(err);
    const char *usage[] = {bin(), "config", "--format", "toml", NULL};
    assert_int_equal(ct_run(dir, usage, NULL, &out, &err), 2);
    free(out);
    free(err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),           cmocka_unit_test(test_lists_and_quiet),
        cmocka_unit_test(test_json_and_output_file), cmocka_unit_test(test_no_interpolate),
        cmocka_unit_test(test_no_path_resolution), cmocka_unit_test(test_stack_config),
        cmocka_unit_test(test_invalid_exits_3),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
