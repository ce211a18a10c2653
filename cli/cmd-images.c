/* `ccompose images [--format table|json] [-q] [SERVICE...]`: the images of the project's
 * containers (stopped and one-off ones too), one row a container as docker compose v2 prints
 * them: CONTAINER REPOSITORY TAG IMAGE ID SIZE, or a JSON array. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/run.h"

static int by_name(const void *a, const void *b)
{
    const struct sched_observed_container *const *x = a, *const *y = b;
    return strcmp((*x)->name, (*y)->name);
}

/* The reference the container was made from: the list's Image when it names one; the scheduler
 * creates from the image ID, so then the service's image (from the model), else the image's first
 * tag. NULL when there is none. Borrowed from its arguments, or new in *owned. */
static const char *reference(const struct cli_view *v, const struct sched_observed_container *ct,
                             json_t *inspect, char **owned)
{
    const char *image = json_string_value(json_object_get(ct->summary, "Image"));
    if (image && strncmp(image, "sha256:", 7) != 0)
        return image;
    const struct compose_service *s =
        v->model && ct->service ? compose_project_service(v->model, ct->service) : NULL;
    if (s)
        return s->image ? s->image : (*owned = xasprintf("%s-%s", v->project, s->name));
    return json_string_value(json_array_get(json_object_get(inspect, "RepoTags"), 0));
}

/* Repository and tag as docker shows them: "busybox" and "latest" for docker.io/library/busybox
 * (no tag means latest; a digest alone, no tag). new. */
static void split_reference(const char *ref, char **ret_repo, char **ret_tag)
{
    if (!ref) {
        *ret_repo = xstrdup("");
        *ret_tag = xstrdup("");
        return;
    }
    static const char *const prefixes[] = {"docker.io/library/", "docker.io/",
                                           "index.docker.io/library/", "index.docker.io/"};
    for (size_t i = 0; i < CC_ARRAY_LEN(prefixes); i++)
        if (!strncmp(ref, prefixes[i], strlen(prefixes[i]))) {
            ref += strlen(prefixes[i]);
            break;
        }
    size_t len = strcspn(ref, "@");
    bool digest = ref[len] == '@';
    const char *slash = memrchr(ref, '/', len);
    const char *colon = memrchr(ref, ':', len);
    if (colon && (!slash || colon > slash)) {
        *ret_repo = xstrndup(ref, (size_t)(colon - ref));
        *ret_tag = xstrndup(colon + 1, len - (size_t)(colon + 1 - ref));
    } else {
        *ret_repo = xstrndup(ref, len);
        *ret_tag = xstrdup(digest ? "" : "latest");
    }
}

/* "74.8MB", "4.26MB", "512B": decimal units, three significant digits (go-units' HumanSize). */
static char *human_size(double size)
{
    static const char *const units[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"};
    size_t u = 0;
    while (size >= 1000.0 && u + 1 < CC_ARRAY_LEN(units)) {
        size /= 1000.0;
        u++;
    }
    return xasprintf("%.3g%s", size, units[u]);
}

static void usage(FILE *out)
{
    fprintf(out, "Usage:  ccompose images [OPTIONS] [SERVICE...]\n\n"
                 "List images used by the created containers\n\n"
                 "Options:\n"
                 "      --format string   Format the output. Values: [table | json]\n"
                 "                        (default \"table\")\n"
                 "  -q, --quiet           Only display IDs\n");
}

static int images_run(struct cli_context *ctx, int argc, char **argv)
{
    enum { OPT_FORMAT = 256 };
    static const struct option options[] = {
        {"format", required_argument, NULL, OPT_FORMAT},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    bool quiet = false, as_json = false;
    int c;
    while ((c = cli_getopt_long(argc, argv, "qh", options, NULL)) != -1) {
        switch (c) {
        case OPT_FORMAT:
            if (cli_parse_format(optarg, &as_json) < 0)
                return CLI_EXIT_USAGE;
            break;
        case 'q':
            quiet = true;
            break;
        default:
            return cli_usage_exit(c, usage);
        }
    }
    struct cli_view v;
    struct sched_observed_container **cts = NULL;
    json_t *rows = json_array();
    int code = cli_view_open(ctx, argv + optind, argc - optind, &v);
    if (code)
        goto out;
    size_t n = 0;
    cts = cli_select_containers(&v, v.services, v.n_services, true, true, NULL, &n);
    qsort(cts, n, sizeof(*cts), by_name);
    for (size_t i = 0; i < n && !code; i++) {
        struct cli_call w = {0};
        const char *image = cts[i]->image_id
                                ? cts[i]->image_id
                                : json_string_value(json_object_get(cts[i]->summary, "Image"));
        code = cli_call_run(ctx->loop, engine_image_inspect(v.c, image, cli_call_done, &w, &w.err),
                            &w);
        if (!code) {
            char *owned = NULL, *repo, *tag;
            split_reference(reference(&v, cts[i], w.result, &owned), &repo, &tag);
            const char *id = json_string_value(json_object_get(w.result, "Id"));
            json_array_append_new(
                rows, json_pack("{s:s, s:s, s:s, s:s, s:I}", "ID", id ? id : "", "ContainerName",
                                cts[i]->name, "Repository", repo, "Tag", tag, "Size",
                                json_integer_value(json_object_get(w.result, "Size"))));
            free(owned);
            free(repo);
            free(tag);
        }
        cli_call_release(&w);
    }
    if (code)
        goto out;
    size_t i;
    json_t *row;
    if (quiet) {
        /* Each image once, without "sha256:". */
        json_t *seen = json_object();
        json_array_foreach(rows, i, row)
        {
            const char *id = json_string_value(json_object_get(row, "ID"));
            const char *colon = strchr(id, ':');
            id = colon ? colon + 1 : id;
            if (!json_object_get(seen, id))
                printf("%s\n", id);
            json_object_set_new(seen, id, json_true());
        }
        json_decref(seen);
    } else if (as_json) {
        char *s = json_dumps(rows, JSON_COMPACT | JSON_PRESERVE_ORDER);
        printf("%s\n", s);
        free(s);
    } else {
        struct cli_table t;
        cli_table_init(&t, 5);
        cli_table_add(&t, "CONTAINER", "REPOSITORY", "TAG", "IMAGE ID", "SIZE");
        json_array_foreach(rows, i, row)
        {
            const char *repo = json_string_value(json_object_get(row, "Repository"));
            const char *tag = json_string_value(json_object_get(row, "Tag"));
            const char *id = json_string_value(json_object_get(row, "ID"));
            if (!strncmp(id, "sha256:", 7))
                id += 7;
            char *short_id = xstrndup(id, 12);
            char *size = human_size((double)json_integer_value(json_object_get(row, "Size")));
            cli_table_add(&t, json_string_value(json_object_get(row, "ContainerName")),
                          *repo ? repo : "<none>", *tag ? tag : "<none>", short_id, size);
            free(short_id);
            free(size);
        }
        cli_table_print(&t, stdout, 20, 3);
        cli_table_release(&t);
    }
out:
    json_decref(rows);
    free(cts);
    cli_view_release(ctx, &v);
    return code;
}

const struct cli_command cli_cmd_images = {
    .name = "images",
    .summary = "List images used by the created containers",
    .run = images_run,
};
