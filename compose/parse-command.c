/* command: and entrypoint: given as one string, split into words as compose-go splits them with
 * go-shellwords (no variable expansion, no command substitution). */
#include "compose/parse.h"

#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/util.h"

enum word_state { WORD_NONE = 0, WORD_PLAIN, WORD_QUOTED };

/* fmt names `what` first, then the command s. */
static int command_error(struct cc_error *reterr, const char *hint, const char *fmt, const char *s,
                         const char *what)
{
    cc_error_set(reterr, CC_ERR_INVALID_CONFIG, fmt, what, s);
    cc_error_hint(reterr, "%s", hint);
    return -1;
}

static int is_word_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int parse_command_line(struct arena *a, const char *s, const char ***ret, size_t *ret_n,
                       struct cc_error *reterr)
{
    struct buf word = BUF_INIT;
    char **words = NULL;
    size_t n = 0, cap = 0;
    int escaped = 0, dq = 0, sq = 0, bq = 0, dl = 0, rc = -1;
    enum word_state got = WORD_NONE;

    for (const char *p = s;; p++) {
        char c = *p;
        if (c == '\0' || (is_word_space(c) && !(sq || dq || bq || dl) && !escaped)) {
            if (got != WORD_NONE) {
                cc_grow((void **)&words, &cap, n + 1, sizeof(*words));
                words[n++] = arena_strdup(a, buf_str(&word));
                buf_reset(&word);
                got = WORD_NONE;
            }
            if (c == '\0')
                break;
            continue;
        }
        if (escaped) {
            escaped = 0;
            got = WORD_PLAIN;
            /* Inside `...` and $(...) the backslash is kept for the shell that never runs. */
            if (bq || dl)
                buf_addc(&word, '\\');
            else if (c == 't')
                c = '\t';
            else if (c == 'n')
                c = '\n';
            buf_addc(&word, c);
            continue;
        }
        if (c == '\\') {
            if (sq)
                buf_addc(&word, c);
            else
                escaped = 1;
            continue;
        }
        if (is_word_space(c)) {
            buf_addc(&word, c);
            continue;
        }
        int unquoted = !(sq || dq || bq || dl);
        if (c == '`' && !sq && !dq && !dl) {
            bq = !bq;
        } else if (c == ')' && !sq && !dq && !bq) {
            if (!dl) {
                command_error(reterr, "quote the ')' or escape it with '\\'",
                              "unexpected '%s' in command '%s'", s, ")");
                goto out;
            }
            dl = 0;
        } else if (c == '(' && !sq && !dq && !bq) {
            size_t l = word.len;
            if (dl || l == 0 || word.data[l - 1] != '$' || (l > 1 && word.data[l - 2] == '\\')) {
                command_error(reterr, "quote the '(' or escape it with '\\'",
                              "unexpected '%s' in command '%s'", s, "(");
                goto out;
            }
            dl = 1;
        } else if (c == '"' && !sq && !dl && !bq) {
            if (dq)
                got = WORD_QUOTED;
            dq = !dq;
            continue;
        } else if (c == '\'' && !dq && !dl && !bq) {
            if (sq)
                got = WORD_QUOTED;
            sq = !sq;
            continue;
        } else if (strchr(";&|<>", c) && unquoted) {
            /* go-shellwords stops at an operator and compose silently drops the rest of the
             * command; saying so is kinder than running half of it. */
            char op[2] = {c, '\0'};
            command_error(reterr,
                          "compose runs the command without a shell: quote the character, or "
                          "write the command as [\"sh\", \"-c\", \"...\"]",
                          "shell operator '%s' in command '%s'", s, op);
            goto out;
        }
        got = WORD_PLAIN;
        buf_addc(&word, c);
    }
    if (escaped || sq || dq || bq || dl) {
        const char *what = escaped ? "\\" : sq ? "'" : dq ? "\"" : bq ? "`" : "$(";
        command_error(reterr,
                      escaped ? "remove the trailing backslash or escape it as '\\\\'"
                              : "close what was opened, or escape the character with '\\'",
                      escaped ? "command ends with a lone '%s': '%s'"
                              : "unterminated '%s' in "
                                "command '%s'",
                      s, what);
        goto out;
    }
    const char **argv = arena_alloc(a, (n + 1) * sizeof(*argv));
    for (size_t i = 0; i < n; i++)
        argv[i] = words[i];
    argv[n] = NULL;
    *ret = argv;
    *ret_n = n;
    rc = 0;
out:
    free(words);
    buf_release(&word);
    return rc;
}
