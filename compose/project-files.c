/* Which compose files a project is made of when no -f is given: the default names looked up from
 * the working directory upwards, the override file beside the one found, and COMPOSE_FILE. */
#include "compose/parse.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/util.h"

/* compose-go's order of preference; note .yml before .yaml for the docker-compose names. */
static const char *const compose_names[] = {"compose.yaml", "compose.yml", "docker-compose.yml",
                                            "docker-compose.yaml"};
static const char *const override_names[] = {"compose.override.yml", "compose.override.yaml",
                                             "docker-compose.override.yml",
                                             "docker-compose.override.yaml"};

/* The first of names present in dir, as an arena path, or NULL. Like compose-go, anything stat()
 * finds counts. */
static const char *first_present(struct arena *a, const char *dir, const char *const *names,
                                 size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const char *path = parse_path_join(a, dir, names[i]);
        struct stat st;
        if (stat(path, &st) == 0)
            return path;
    }
    return NULL;
}

static const char *absolute_dir(struct arena *a, const char *workdir)
{
    if (workdir[0] == '/')
        return parse_path_clean(a, workdir);
    char *cwd = getcwd(NULL, 0);
    if (!cwd)
        return NULL;
    const char *r = parse_path_join(a, cwd, workdir);
    free(cwd);
    return r;
}

int parse_find_compose_files(struct arena *a, const char *workdir, const char ***ret, size_t *ret_n,
                             struct cc_error *reterr)
{
    const char *dir = absolute_dir(a, workdir);
    if (!dir) {
        cc_error_set(reterr, CC_ERR_IO, "cannot find the current directory: %s", strerror(errno));
        cc_error_hint(reterr, "run from an existing directory, or pass --project-directory");
        return -1;
    }
    for (;;) {
        const char *found = first_present(a, dir, compose_names, CC_ARRAY_LEN(compose_names));
        if (found) {
            const char **files = arena_alloc(a, 3 * sizeof(*files));
            files[0] = found;
            files[1] = first_present(a, dir, override_names, CC_ARRAY_LEN(override_names));
            *ret = files;
            *ret_n = files[1] ? 2 : 1;
            return 0;
        }
        if (strcmp(dir, "/") == 0)
            break;
        dir = parse_path_join(a, dir, "..");
    }
    cc_error_set(reterr, CC_ERR_NOT_FOUND,
                 "no configuration file provided: not found in '%s' or its parents", workdir);
    cc_error_hint(reterr, "create compose.yaml, run from the directory holding it, or name the "
                          "file with -f");
    return -1;
}

int parse_compose_file_env(struct arena *a, const char *value, const char *separator,
                           const char *workdir, const char ***ret, size_t *ret_n,
                           struct cc_error *reterr)
{
    if (!separator || !*separator)
        separator = ":";
    size_t seplen = strlen(separator);
    size_t cap = 1;
    for (const char *p = value; (p = strstr(p, separator)); p += seplen)
        cap++;
    const char **files = arena_alloc(a, (cap + 1) * sizeof(*files));
    size_t n = 0;
    for (const char *p = value;;) {
        const char *e = strstr(p, separator);
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len > 0) {
            const char *f = arena_strndup(a, p, len);
            files[n++] = strcmp(f, "-") == 0 ? f : parse_path_join(a, workdir, f);
        }
        if (!e)
            break;
        p = e + seplen;
    }
    if (n == 0) {
        cc_error_set(reterr, CC_ERR_INVALID_CONFIG, "COMPOSE_FILE '%s' names no file", value);
        cc_error_hint(reterr, "list files separated by '%s', or unset COMPOSE_FILE", separator);
        return -1;
    }
    files[n] = NULL;
    *ret = files;
    *ret_n = n;
    return 0;
}
