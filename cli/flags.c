/* Flag parsing shared by every command: getopt_long with docker compose's error words and a
 * "did you mean" for a mistyped flag or command, so that a typo costs one look, not a trip to
 * --help. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "common/util.h"

size_t cli_edit_distance(const char *a, const char *b)
{
    /* Optimal string alignment (Damerau-Levenshtein where a transposition counts once): "stpo"
     * is one step from "stop", as a person sees it. Three rows are enough. */
    size_t la = strlen(a), lb = strlen(b);
    size_t *rows = xcalloc(3 * (lb + 1), sizeof(*rows));
    size_t *prev2 = rows, *prev = rows + lb + 1, *cur = rows + 2 * (lb + 1);
    for (size_t j = 0; j <= lb; j++)
        prev[j] = j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t cost = a[i - 1] != b[j - 1];
            size_t d = prev[j] + 1;
            if (cur[j - 1] + 1 < d)
                d = cur[j - 1] + 1;
            if (prev[j - 1] + cost < d)
                d = prev[j - 1] + cost;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                prev2[j - 2] + 1 < d)
                d = prev2[j - 2] + 1;
            cur[j] = d;
        }
        size_t *t = prev2;
        prev2 = prev;
        prev = cur;
        cur = t;
    }
    size_t d = prev[lb];
    free(rows);
    return d;
}

const char *cli_closest(const char *word, const char *const *candidates, size_t n)
{
    /* As cobra does for docker compose: two edits at most, or the start of a name ("res" for
     * "restart"); but never more edits than the word has letters left ("xy" is not "ps"). */
    size_t len = strlen(word), best_d = (size_t)-1;
    const char *best = NULL;
    for (size_t i = 0; i < n; i++) {
        size_t d = cli_edit_distance(word, candidates[i]);
        if (len >= 2 && !strncmp(candidates[i], word, len))
            d = 1;
        if (d <= 2 && d < len && d < best_d) {
            best_d = d;
            best = candidates[i];
        }
    }
    return best;
}

/* The closest long option to the mistyped --name (without dashes, without "=value"). */
static const char *closest_long(const char *name, const struct option *longopts)
{
    size_t n = 0;
    while (longopts && longopts[n].name)
        n++;
    const char **names = xcalloc(n + 1, sizeof(*names));
    for (size_t i = 0; i < n; i++)
        names[i] = longopts[i].name;
    const char *best = cli_closest(name, names, n);
    free(names);
    return best;
}

static const char *long_name_of(int val, const struct option *longopts)
{
    for (size_t i = 0; longopts && longopts[i].name; i++)
        if (longopts[i].val == val)
            return longopts[i].name;
    return NULL;
}

/* cmd names the command for the hint line (NULL: the global flags). */
static int getopt_for(const char *cmd, int argc, char *const argv[], const char *shorts,
                      const struct option *longopts, int *longindex)
{
    int saved_opterr = opterr, at = optind ? optind : 1;
    opterr = 0;
    int c = getopt_long(argc, argv, shorts, longopts, longindex);
    opterr = saved_opterr;
    if (c != '?' && c != ':')
        return c;
    /* getopt moved past the offending word, unless it sits inside a cluster of short flags. */
    const char *word = optind > at && optind <= argc ? argv[optind - 1] : argv[at];
    const char *lname = optopt ? long_name_of(optopt, longopts) : NULL;
    if (optopt && !strncmp(word, "--", 2) && lname && strchr(word, '=')) {
        fprintf(stderr, "error: flag --%s takes no value\n", lname);
    } else if (optopt && !strncmp(word, "--", 2) && lname) {
        fprintf(stderr, "error: flag needs an argument: --%s\n", lname);
    } else if (optopt && optopt != ':' && strchr(shorts, optopt)) {
        fprintf(stderr, "error: flag needs an argument: '%c' in -%c\n", optopt, optopt);
    } else if (optopt) {
        fprintf(stderr, "error: unknown shorthand flag: '%c' in %s\n", optopt, word);
    } else if (!strncmp(word, "--", 2)) {
        size_t len = strcspn(word + 2, "=");
        char *name = xstrndup(word + 2, len);
        /* Unknown, or the start of several names (glibc takes an unambiguous prefix). */
        fprintf(stderr, "error: unknown flag: --%s\n", name);
        const char *best = closest_long(name, longopts);
        if (best)
            fprintf(stderr, "did you mean --%s?\n", best);
        free(name);
    } else {
        fprintf(stderr, "error: unknown flag: %s\n", word);
    }
    if (cmd)
        fprintf(stderr, "See 'ccompose %s --help'.\n", cmd);
    else
        fprintf(stderr, "See 'ccompose --help'.\n");
    return '?';
}

int cli_getopt_long(int argc, char *const argv[], const char *shorts, const struct option *longopts,
                    int *longindex)
{
    return getopt_for(argv[0], argc, argv, shorts, longopts, longindex);
}

int cli_getopt_as(const char *cmd, int argc, char *const argv[], const char *shorts,
                  const struct option *longopts, int *longindex)
{
    return getopt_for(cmd, argc, argv, shorts, longopts, longindex);
}

int cli_usage_exit(int opt, void (*usage)(FILE *out))
{
    usage(opt == 'h' ? stdout : stderr);
    return opt == 'h' ? CLI_EXIT_OK : CLI_EXIT_USAGE;
}

int cli_bool_flag_parse(int argc, char *const argv[], const char *name, bool *ret,
                        void (*usage)(FILE *out))
{
    const struct option options[] = {
        {name, no_argument, NULL, 'b'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    while ((c = cli_getopt_long(argc, argv, "h", options, NULL)) != -1) {
        if (c == 'b') {
            *ret = true;
        } else if (c == 'h') {
            usage(stdout);
            return CLI_EXIT_OK;
        } else {
            return CLI_EXIT_USAGE;
        }
    }
    return -1;
}
