/* Registry credentials from a Docker config file: the auths entry of the image's registry (keys
 * with a scheme and a path, docker.io's index URL), user:password and identity tokens, and the
 * X-Registry-Auth value they make (base64url JSON). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scheduler/images.h"

static char dir[] = "/tmp/ccut-auth-XXXXXX";

static int setup(void **state)
{
    (void)state;
    assert_non_null(mkdtemp(dir));
    char *path = xasprintf("%s/config.json", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    /* "dXNlcjpwYTpzcw==" is base64("user:pa:ss"). */
    fputs("{\"auths\": {\"http://127.0.0.1:5000/v2/\": {\"auth\": \"dXNlcjpwYTpzcw==\"},\n"
          "  \"https://index.docker.io/v1/\": {\"identitytoken\": \"tok\"},\n"
          "  \"bad.example\": {\"auth\": \"bm9jb2xvbg==\"}}}\n",
          f);
    fclose(f);
    free(path);
    setenv("DOCKER_CONFIG", dir, 1);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char *path = xasprintf("%s/config.json", dir);
    unlink(path);
    free(path);
    rmdir(dir);
    unsetenv("DOCKER_CONFIG");
    return 0;
}

/* The header's JSON (new). */
static json_t *decode(const char *b64url)
{
    char *b = xstrdup(b64url);
    for (char *p = b; *p; p++)
        *p = *p == '-' ? '+' : *p == '_' ? '/' : *p;
    size_t n = strlen(b);
    unsigned char *plain = xcalloc(1, n + 1);
    assert_true(EVP_DecodeBlock(plain, (unsigned char *)b, (int)n) > 0);
    json_t *j = json_loads((char *)plain, JSON_DISABLE_EOF_CHECK, NULL);
    assert_non_null(j);
    free(plain);
    free(b);
    return j;
}

static void test_user_password(void **state)
{
    (void)state;
    char *a = sched_registry_auth("127.0.0.1:5000/team/app:1");
    assert_non_null(a);
    json_t *j = decode(a);
    assert_string_equal(json_string_value(json_object_get(j, "username")), "user");
    assert_string_equal(json_string_value(json_object_get(j, "password")), "pa:ss");
    assert_string_equal(json_string_value(json_object_get(j, "serveraddress")), "127.0.0.1:5000");
    json_decref(j);
    free(a);
}

static void test_docker_hub_token(void **state)
{
    (void)state;
    char *a = sched_registry_auth("library/busybox:latest");
    assert_non_null(a);
    json_t *j = decode(a);
    assert_string_equal(json_string_value(json_object_get(j, "identitytoken")), "tok");
    assert_string_equal(json_string_value(json_object_get(j, "serveraddress")), "docker.io");
    json_decref(j);
    free(a);
}

static void test_none(void **state)
{
    (void)state;
    assert_null(sched_registry_auth("127.0.0.1:5001/app")); /* another port */
    assert_null(sched_registry_auth("bad.example/app:1"));  /* no ':' in the decoded value */
    setenv("DOCKER_CONFIG", "/nonexistent-ccut", 1);
    assert_null(sched_registry_auth("127.0.0.1:5000/team/app:1"));
    setenv("DOCKER_CONFIG", dir, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_user_password),
        cmocka_unit_test(test_docker_hub_token),
        cmocka_unit_test(test_none),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
