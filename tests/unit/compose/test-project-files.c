/* Finding compose files in a directory tree made and removed by the test, and COMPOSE_FILE. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "compose/parse.h"

struct tree {
    char root[64];
    char made[16][256]; /* every path created, removed in reverse */
    int n;
};

static const char *tree_path(struct tree *t, const char *rel)
{
    assert_true(t->n < 16);
    char root[sizeof(t->root)];
    memcpy(root, t->root, sizeof(root));
    snprintf(t->made[t->n], sizeof(t->made[0]), "%s/%s", root, rel);
    return t->made[t->n++];
}

static void tree_dir(struct tree *t, const char *rel)
{
    assert_int_equal(mkdir(tree_path(t, rel), 0700), 0);
}

static void tree_file(struct tree *t, const char *rel)
{
    FILE *f = fopen(tree_path(t, rel), "w");
    assert_non_null(f);
    fputs("services: {}\n", f);
    fclose(f);
}

static int tree_setup(void **state)
{
    struct tree *t = calloc(1, sizeof(*t));
    strcpy(t->root, "/tmp/ccompose-files-XXXXXX");
    if (!mkdtemp(t->root))
        return -1;
    *state = t;
    return 0;
}

static int tree_teardown(void **state)
{
    struct tree *t = *state;
    for (int i = t->n - 1; i >= 0; i--)
        remove(t->made[i]);
    int rc = rmdir(t->root);
    free(t);
    return rc;
}

static void test_find_in_parents_with_override(void **state)
{
    struct tree *t = *state;
    tree_dir(t, "proj");
    tree_dir(t, "proj/a");
    tree_dir(t, "proj/a/b");
    tree_file(t, "proj/docker-compose.yaml");
    tree_file(t, "proj/docker-compose.yml");
    tree_file(t, "proj/compose.override.yaml");
    tree_file(t, "proj/docker-compose.override.yml");
    struct arena a = ARENA_INIT;
    const char **files;
    size_t n;
    char start[128];
    snprintf(start, sizeof(start), "%s/proj/a/b/", t->root);
    assert_int_equal(parse_find_compose_files(&a, start, &files, &n, NULL), 0);
    assert_int_equal(n, 2);
    char want[160];
    /* docker-compose.yml is preferred to docker-compose.yaml, and the override need not share
     * the main file's family. */
    snprintf(want, sizeof(want), "%s/proj/docker-compose.yml", t->root);
    assert_string_equal(files[0], want);
    snprintf(want, sizeof(want), "%s/proj/compose.override.yaml", t->root);
    assert_string_equal(files[1], want);
    assert_null(files[2]);

    /* A nearer directory wins, and compose.yaml over everything; no override there. */
    tree_file(t, "proj/a/compose.yml");
    tree_file(t, "proj/a/compose.yaml");
    assert_int_equal(parse_find_compose_files(&a, start, &files, &n, NULL), 0);
    assert_int_equal(n, 1);
    snprintf(want, sizeof(want), "%s/proj/a/compose.yaml", t->root);
    assert_string_equal(files[0], want);
    assert_null(files[1]);
    arena_release(&a);
}

static void test_find_relative_workdir(void **state)
{
    struct tree *t = *state;
    tree_dir(t, "rel");
    tree_file(t, "rel/compose.yml");
    tree_file(t, "rel/compose.override.yml");
    char *cwd = getcwd(NULL, 0);
    assert_int_equal(chdir(t->root), 0);
    struct arena a = ARENA_INIT;
    const char **files;
    size_t n;
    int rc = parse_find_compose_files(&a, "rel/./", &files, &n, NULL);
    assert_int_equal(chdir(cwd), 0);
    free(cwd);
    assert_int_equal(rc, 0);
    assert_int_equal(n, 2);
    char want[160];
    snprintf(want, sizeof(want), "%s/rel/compose.override.yml", t->root);
    assert_string_equal(files[1], want);
    arena_release(&a);
}

static void test_find_none(void **state)
{
    struct tree *t = *state;
    tree_dir(t, "empty");
    struct arena a = ARENA_INIT;
    struct cc_error err = CC_ERROR_INIT;
    const char **files = NULL;
    size_t n = 7;
    const char *dir = t->made[t->n - 1];
    /* /tmp and / hold no compose file on a test machine; if one did, this test would say so. */
    assert_int_equal(parse_find_compose_files(&a, dir, &files, &n, &err), -1);
    assert_null(files);
    assert_int_equal(n, 7);
    assert_int_equal(err.kind, CC_ERR_NOT_FOUND);
    char want[200];
    snprintf(want, sizeof(want), "no configuration file provided: not found in '%s' or its parents",
             dir);
    assert_string_equal(err.message, want);
    assert_string_equal(err.hint, "create compose.yaml, run from the directory holding it, or name "
                                  "the file with -f");
    cc_error_release(&err);
    arena_release(&a);
}

static void test_compose_file_env(void **state)
{
    (void)state;
    struct arena a = ARENA_INIT;
    const char **files;
    size_t n;
    assert_int_equal(parse_compose_file_env(&a, "a.yml:/abs/b.yml::sub/../c.yml:-", NULL, "/w",
                                            &files, &n, NULL),
                     0);
    assert_int_equal(n, 4);
    assert_string_equal(files[0], "/w/a.yml");
    assert_string_equal(files[1], "/abs/b.yml");
    assert_string_equal(files[2], "/w/c.yml");
    assert_string_equal(files[3], "-");
    assert_null(files[4]);
    assert_int_equal(parse_compose_file_env(&a, "x.yml;y:z.yml", ";", "/w", &files, &n, NULL), 0);
    assert_int_equal(n, 2);
    assert_string_equal(files[1], "/w/y:z.yml");
    struct cc_error err = CC_ERROR_INIT;
    assert_int_equal(parse_compose_file_env(&a, "::", "", "/w", &files, &n, &err), -1);
    assert_string_equal(err.message, "COMPOSE_FILE '::' names no file");
    assert_string_equal(err.hint, "list files separated by ':', or unset COMPOSE_FILE");
    cc_error_release(&err);
    arena_release(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_find_in_parents_with_override, tree_setup,
                                        tree_teardown),
        cmocka_unit_test_setup_teardown(test_find_relative_workdir, tree_setup, tree_teardown),
        cmocka_unit_test_setup_teardown(test_find_none, tree_setup, tree_teardown),
        cmocka_unit_test(test_compose_file_env),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
