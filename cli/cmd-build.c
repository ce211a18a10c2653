/* `ccompose build [SERVICE...]`: builds the images of the services that have a build section
 * (all, or the named ones), --parallel N at once, through sched_ensure_images in build mode. */
#include <getopt.h>
#include <stdlib.h>

#include "cli/commands.h"
#include "cli/run.h"
#include "scheduler/images.h"

static void usage(FILE *out)
{
    fprintf(out, "Usage:  ccompose build [OPTIONS] [SERVICE...]\n\n"
                 "Build or rebuild services\n\n"
                 "Options:\n"
                 "      --build-arg stringArray   Set build-time variables for services\n"
                 "      --no-cache                Do not use cache when building the image\n"
                 "      --parallel int            Builds at once (default 4)\n"
                 "      --pull                    Always attempt to pull a newer version of\n"
                 "                                the image\n"
                 "  -q, --quiet                   Don't print anything to STDOUT\n"
                 "      --with-dependencies       Also build dependencies (transitively)\n");
}

enum { OPT_BUILD_ARG = 256, OPT_NO_CACHE, OPT_PARALLEL, OPT_PULL, OPT_WITH_DEPS };

static int build_run(struct cli_context *ctx, int argc, char **argv)
{
    static const struct option options[] = {
        {"build-arg", required_argument, NULL, OPT_BUILD_ARG},
        {"no-cache", no_argument, NULL, OPT_NO_CACHE},
        {"parallel", required_argument, NULL, OPT_PARALLEL},
        {"pull", no_argument, NULL, OPT_PULL},
        {"quiet", no_argument, NULL, 'q'},
        {"with-dependencies", no_argument, NULL, OPT_WITH_DEPS},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct sched_build_options bo = {0};
    struct sched_ensure_options eo = {.mode = SCHED_ENSURE_BUILD, .build_opts = &bo};
    const char **args = NULL;
    bool quiet = false;
    int c, code = CLI_EXIT_USAGE;
    while ((c = cli_getopt_long(argc, argv, "qh", options, NULL)) != -1) {
        switch (c) {
        case OPT_BUILD_ARG:
            args = xrealloc(args, (bo.n_build_args + 1) * sizeof(*args));
            args[bo.n_build_args++] = optarg;
            bo.build_args = args;
            break;
        case OPT_NO_CACHE:
            bo.no_cache = true;
            break;
        case OPT_PARALLEL:
            if (cli_parse_count("--parallel", optarg, 1024, &eo.parallel) < 0)
                goto out;
            break;
        case OPT_PULL:
            bo.pull = true;
            break;
        case 'q':
            quiet = true;
            break;
        case OPT_WITH_DEPS:
            eo.include_deps = true;
            break;
        case 'h':
            usage(stdout);
            code = CLI_EXIT_OK;
            goto out;
        default:
            goto out;
        }
    }
    code = cli_images_run(ctx, argv + optind, argc - optind, &eo, quiet);
out:
    free(args);
    return code;
}

const struct cli_command cli_cmd_build = {
    .name = "build",
    .summary = "Build or rebuild services",
    .run = build_run,
    .no_dry_run = true,
};
