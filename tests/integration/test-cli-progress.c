/* The progress display on a real terminal: ccompose runs inside tmux (a pseudo-terminal of a
 * chosen width) and the screen it leaves is read back with capture-pane and compared with the
 * expected one at two widths. On the screen each resource has one line (redrawn in place: one
 * header, no line twice), every line exactly fills the width (nothing wraps), and the states show
 * even where the names must be cut. Elapsed times vary, so they are compared as "<t>". Ctrl-C
 * typed at an attached up stops it gracefully (exit 130). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/lib/cli-test.h"
#include "tests/lib/compose-test.h"
#include "tests/lib/sched-test.h"

#define SLEEPER "[\"sh\", \"-c\", \"trap 'exit 0' TERM; sleep 3600 & wait\"]"

/* Starts `ccompose ARGS` in a tmux pane width columns wide, on server sock. */
static void start_in_tmux(struct st_dir *f, const char *sock, int width, const char *args)
{
    char *abs = cb_bin_path();
    assert_int_equal(cb_sh("cd %s && tmux -L %s new-session -d -x %d -y 24 "
                           "'%s -p %s %s; echo EXIT=$?; sleep 600'",
                           f->dir, sock, width, abs, f->project, args),
                     0);
    free(abs);
}

/* The pane once it shows needle (120 s at most), new; fails the test otherwise. */
static char *pane_until(const char *sock, const char *needle)
{
    char *text = NULL;
    for (int i = 0; i < 2400 && !(text && strstr(text, needle)); i++) {
        free(text);
        usleep(50 * 1000);
        text = cb_tmux_pane(sock, true);
    }
    if (!strstr(text, needle)) {
        cb_sh("tmux -L %s kill-server", sock);
        fail_msg("'%s' did not show in 120 s:\n%s", needle, text);
    }
    return text;
}

/* Runs `ccompose ARGS` in a tmux pane width columns wide until it exits; the screen it leaves
 * (new). */
static char *screen_of(struct st_dir *f, int width, const char *args)
{
    /* A server of its own each time: the last one may still be going away. */
    static int runs;
    char *sock = xasprintf("ccit-pg-%d-%d", (int)getpid(), ++runs);
    start_in_tmux(f, sock, width, args);
    char *text = pane_until(sock, "EXIT=");
    cb_sh("tmux -L %s kill-server", sock);
    free(sock);
    return text;
}

static size_t columns(const char *s, size_t n)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        c += ((unsigned char)s[i] & 0xC0) != 0x80;
    return c;
}

/* The screen's lines up to "EXIT=", each checked to fill width exactly (the header excepted) and
 * to end in an elapsed time, which becomes "<t>"; as one string. *long_times: some elapsed time
 * took five characters (10 s or more), which moves where names are cut. new. */
static char *normalised(const char *screen, int width, bool *long_times)
{
    struct buf out = BUF_INIT;
    *long_times = false;
    for (const char *line = screen; *line;) {
        size_t n = strcspn(line, "\n");
        size_t len = n;
        while (len > 0 && line[len - 1] == ' ')
            len--;
        if (!strncmp(line, "EXIT=", 5)) {
            buf_add(&out, line, n);
            buf_adds(&out, "\n");
            break;
        }
        if (strncmp(line, "[+]", 3) != 0 && len > 0) {
            if ((int)columns(line, len) != width)
                fail_msg("a line of %zu columns on a %d-column terminal: '%.*s'\n%s",
                         columns(line, len), width, (int)len, line, screen);
            size_t t = len;
            while (t > 0 && line[t - 1] != ' ')
                t--;
            if (len - t < 4 || line[len - 1] != 's')
                fail_msg("no elapsed time at the end of '%.*s'", (int)len, line);
            *long_times |= len - t > 4;
            size_t keep = t;
            while (keep > 0 && line[keep - 1] == ' ')
                keep--;
            buf_add(&out, line, keep);
            buf_adds(&out, " <t>\n");
        } else if (len > 0) {
            buf_add(&out, line, len);
            buf_adds(&out, "\n");
        }
        line += n + (line[n] == '\n');
    }
    return buf_detach(&out);
}

static void test_two_widths(void **state)
{
    struct st_dir *f = *state;
    if (cb_sh("command -v tmux >/dev/null") != 0)
        skip();
    /* A name of fixed length, so that the expected screens are fixed too. */
    free(f->project);
    f->project = xasprintf("ccit-pg%05d", (int)getpid() % 100000);
    ct_put(f->dir, "compose.yaml",
           "services:\n"
           "  db:\n"
           "    image: " TEST_IMAGE "\n"
           "    command: " SLEEPER "\n"
           "    stop_grace_period: 2s\n"
           "  web:\n"
           "    image: " TEST_IMAGE "\n"
           "    depends_on: [db]\n"
           "    command: " SLEEPER "\n");
    const char *p = f->project;
    bool long_times;

    /* 100 columns: everything fits. */
    char *screen = screen_of(f, 100, "up -d");
    char *got = normalised(screen, 100, &long_times);
    char *want = xasprintf("[+] Running 3/3\n"
                           " \u2714 Network %s_default  Created <t>\n"
                           " \u2714 Container %s-db-1  Started <t>\n"
                           " \u2714 Container %s-web-1  Started <t>\n"
                           "EXIT=0\n",
                           p, p, p);
    if (strcmp(got, want))
        fail_msg("at 100 columns, expected\n%s\ngot\n%s\nscreen:\n%s", want, got, screen);
    free(screen);
    free(got);
    free(want);

    /* 44 columns: db's line just fits; web's name is cut, its state still shows. */
    screen = screen_of(f, 44, "up -d --force-recreate -t 5");
    got = normalised(screen, 44, &long_times);
    want = xasprintf("[+] Running 2/2\n"
                     " \u2714 Container %s-db-1  Started <t>\n"
                     " \u2714 Container %s-web\u2026  Started <t>\n"
                     "EXIT=0\n",
                     p, p);
    if (!long_times && strcmp(got, want))
        fail_msg("at 44 columns, expected\n%s\ngot\n%s\nscreen:\n%s", want, got, screen);
    /* Whatever the times: one header, each container once, started. */
    const char *header = strstr(got, "[+] Running 2/2\n");
    assert_non_null(header);
    assert_null(strstr(header + 1, "[+]"));
    int lines = 0;
    for (const char *at = got; (at = strstr(at, " Container ")); at++, lines++) {
        const char *eol = strchr(at, '\n');
        if (eol - at < 13 || strncmp(eol - 13, "  Started <t>", 13))
            fail_msg("no state at the end of a line:\n%s", got);
    }
    assert_int_equal(lines, 2);
    free(screen);
    free(got);
    free(want);
}

/* Ctrl-C typed at an attached up: "Gracefully stopping...", the containers stopped, exit 130. */
static void test_ctrl_c_stops_attached_up(void **state)
{
    struct st_dir *f = *state;
    if (cb_sh("command -v tmux >/dev/null") != 0)
        skip();
    ct_put(f->dir, "compose.yaml",
           "services:\n"
           "  web:\n"
           "    image: " TEST_IMAGE "\n"
           "    command: [\"sh\", \"-c\", \"echo web is up; trap 'exit 0' TERM; sleep 3600 & "
           "wait\"]\n");
    char *sock = xasprintf("ccit-pgc-%d", (int)getpid());
    start_in_tmux(f, sock, 100, "up");
    free(pane_until(sock, "web-1  | web is up"));
    cb_sh("tmux -L %s send-keys C-c", sock);
    char *text = pane_until(sock, "EXIT=");
    cb_sh("tmux -L %s kill-server", sock);
    if (!strstr(text, "Gracefully stopping... (press Ctrl+C again to force)") ||
        !strstr(text, "EXIT=130"))
        fail_msg("%s", text);
    char *name = xasprintf("%s-web-1", f->project);
    char *status = st_state(&f->env, name, "Status");
    assert_string_equal(status, "exited");
    free(status);
    free(name);
    free(text);
    free(sock);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_two_widths, st_dir_setup, st_dir_teardown),
        cmocka_unit_test_setup_teardown(test_ctrl_c_stops_attached_up, st_dir_setup,
                                        st_dir_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, tl_group_teardown);
}
