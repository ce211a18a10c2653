/* `ccompose ls [-a] [-q] [--filter name=...] [--format table|json]`: the compose projects on the
 * engine, found from their containers' labels (com.docker.compose.project, on containers that
 * carry a config hash, as docker compose looks for them), with a status counting the containers
 * in each state ("exited(1), running(2)") and the config files they were made from. Works on
 * the engine alone: no compose file is read. */
#include <getopt.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/run.h"
#include "common/buf.h"

#define LABEL_PROJECT      "com.docker.compose.project"
#define LABEL_CONFIG_HASH  "com.docker.compose.config-hash"
#define LABEL_CONFIG_FILES "com.docker.compose.project.config_files"

/* Whether name matches one of the --filter name= values: equal, or the value as a regular
 * expression found in it (docker's filters.Match). None given: all match. */
static bool name_matches(const char *name, const char *const *pats, size_t n)
{
    if (n == 0)
        return true;
    for (size_t i = 0; i < n; i++) {
        if (!strcmp(pats[i], name))
            return true;
        regex_t re;
        if (regcomp(&re, pats[i], REG_EXTENDED | REG_NOSUB) != 0)
            continue;
        bool hit = regexec(&re, name, 0, NULL, 0) == 0;
        regfree(&re);
        if (hit)
            return true;
    }
    return false;
}

static int by_key(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* {"Name", "Status", "ConfigFiles"} for a project from its containers (an array). new. */
static json_t *project_view(const char *name, json_t *containers)
{
    json_t *counts = json_object(), *files = json_array();
    bool files_known = true;
    size_t i;
    json_t *ct;
    json_array_foreach(containers, i, ct)
    {
        const char *state = json_string_value(json_object_get(ct, "State"));
        state = state ? state : "";
        json_object_set_new(counts, state,
                            json_integer(json_integer_value(json_object_get(counts, state)) + 1));
        const char *list =
            json_string_value(json_object_get(json_object_get(ct, "Labels"), LABEL_CONFIG_FILES));
        if (!list) {
            files_known = false;
            continue;
        }
        for (const char *f = list; *f;) {
            size_t len = strcspn(f, ",");
            bool seen = false;
            size_t k;
            json_t *have;
            json_array_foreach(files, k, have) seen |=
                strlen(json_string_value(have)) == len && !strncmp(json_string_value(have), f, len);
            if (!seen)
                json_array_append_new(files, json_stringn(f, len));
            f += len + (f[len] == ',');
        }
    }
    /* States in alphabetical order, as docker compose sorts them. */
    size_t n = json_object_size(counts), at = 0;
    const char **keys = xcalloc(n + 1, sizeof(*keys));
    const char *key;
    json_t *count;
    json_object_foreach(counts, key, count) keys[at++] = key;
    qsort(keys, n, sizeof(*keys), by_key);
    struct buf status = BUF_INIT, config = BUF_INIT;
    buf_adds(&status, "");
    buf_adds(&config, "");
    for (size_t k = 0; k < n; k++)
        buf_printf(&status, "%s%s(%lld)", k ? ", " : "", keys[k],
                   (long long)json_integer_value(json_object_get(counts, keys[k])));
    json_array_foreach(files, i, ct)
        buf_printf(&config, "%s%s", i ? "," : "", json_string_value(ct));
    json_t *view = json_pack("{s:s, s:s, s:s}", "Name", name, "Status", buf_str(&status),
                             "ConfigFiles", files_known ? buf_str(&config) : "N/A");
    buf_release(&status);
    buf_release(&config);
    free(keys);
    json_decref(counts);
    json_decref(files);
    return view;
}

static void usage(FILE *out)
{
    fprintf(out, "Usage:  ccompose ls [OPTIONS]\n\n"
                 "List running compose projects\n\n"
                 "Options:\n"
                 "  -a, --all             Show all stopped Compose projects\n"
                 "      --filter filter   Filter output based on conditions provided\n"
                 "      --format string   Format the output. Values: [table | json]\n"
                 "                        (default \"table\")\n"
                 "  -q, --quiet           Only display project names\n");
}

static int ls_run(struct cli_context *ctx, int argc, char **argv)
{
    enum { OPT_FILTER = 256, OPT_FORMAT };
    static const struct option options[] = {
        {"all", no_argument, NULL, 'a'},
        {"quiet", no_argument, NULL, 'q'},
        {"filter", required_argument, NULL, OPT_FILTER},
        {"format", required_argument, NULL, OPT_FORMAT},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    bool all = false, quiet = false, as_json = false;
    const char **names = NULL;
    size_t n_names = 0;
    struct engine_client *client = NULL;
    struct cli_call w = {0};
    json_t *filters = NULL, *projects = NULL, *views = NULL;
    int c, code = CLI_EXIT_USAGE;
    while ((c = cli_getopt_long(argc, argv, "aqh", options, NULL)) != -1) {
        switch (c) {
        case 'a':
            all = true;
            break;
        case 'q':
            quiet = true;
            break;
        case OPT_FILTER:
            if (!strchr(optarg, '=')) {
                fprintf(stderr, "error: bad format of filter '%s' (expected name=value)\n", optarg);
                goto out;
            }
            if (strncmp(optarg, "name=", 5) != 0) {
                fprintf(stderr, "error: invalid filter '%.*s': ls filters by name only\n",
                        (int)strcspn(optarg, "="), optarg);
                goto out;
            }
            names = xrealloc(names, (n_names + 1) * sizeof(*names));
            names[n_names++] = optarg + 5;
            break;
        case OPT_FORMAT:
            if (cli_parse_format(optarg, &as_json) < 0)
                goto out;
            break;
        case 'h':
            usage(stdout);
            code = CLI_EXIT_OK;
            goto out;
        default:
            usage(stderr);
            goto out;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "error: ls takes no arguments\n");
        goto out;
    }
    if ((code = cli_engine_open(ctx, &client)))
        goto out;
    filters = json_pack("{s:[s, s]}", "label", LABEL_PROJECT, LABEL_CONFIG_HASH);
    if ((code = cli_call_run(ctx->loop,
                             engine_container_list(client, all, filters, cli_call_done, &w, &w.err),
                             &w)))
        goto out;
    /* Containers by project; the names sorted. */
    projects = json_object();
    size_t i;
    json_t *ct;
    json_array_foreach(w.result, i, ct)
    {
        const char *p =
            json_string_value(json_object_get(json_object_get(ct, "Labels"), LABEL_PROJECT));
        if (!p)
            continue;
        json_t *list = json_object_get(projects, p);
        if (!list)
            json_object_set_new(projects, p, list = json_array());
        json_array_append(list, ct);
    }
    size_t n = json_object_size(projects), at = 0;
    const char **keys = xcalloc(n + 1, sizeof(*keys));
    const char *key;
    json_t *list;
    json_object_foreach(projects, key, list) keys[at++] = key;
    qsort(keys, n, sizeof(*keys), by_key);
    views = json_array();
    for (size_t k = 0; k < n; k++)
        if (name_matches(keys[k], names, n_names))
            json_array_append_new(views, project_view(keys[k], json_object_get(projects, keys[k])));
    free(keys);
    json_t *view;
    if (quiet) {
        json_array_foreach(views, i, view)
            printf("%s\n", json_string_value(json_object_get(view, "Name")));
    } else if (as_json) {
        char *s = json_dumps(views, JSON_COMPACT);
        printf("%s\n", s);
        free(s);
    } else {
        struct cli_table t;
        cli_table_init(&t, 3);
        cli_table_add(&t, "NAME", "STATUS", "CONFIG FILES");
        json_array_foreach(views, i, view)
            cli_table_add(&t, json_string_value(json_object_get(view, "Name")),
                          json_string_value(json_object_get(view, "Status")),
                          json_string_value(json_object_get(view, "ConfigFiles")));
        cli_table_print(&t, stdout, 20, 3);
        cli_table_release(&t);
    }
out:
    json_decref(views);
    json_decref(projects);
    json_decref(filters);
    cli_call_release(&w);
    engine_client_free(client);
    uv_run(ctx->loop, UV_RUN_DEFAULT);
    free(names);
    return code;
}

const struct cli_command cli_cmd_ls = {
    .name = "ls",
    .summary = "List running compose projects",
    .run = ls_run,
};
