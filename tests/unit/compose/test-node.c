/* The positioned YAML tree: positions, styles, tags, anchors and merge keys, error texts with
 * file:line:col, the limits against hostile input, and scalar resolution. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/buf.h"
#include "compose/node.h"

static struct arena A;

static int setup(void **state)
{
    (void)state;
    arena_init(&A);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    arena_release(&A);
    return 0;
}

static struct cnode *load_ok(const char *yaml)
{
    struct cnode_file *f = NULL;
    struct cc_error e = CC_ERROR_INIT;
    int r = cnode_load_buffer(&A, "compose.yaml", yaml, strlen(yaml), &f, &e);
    if (r < 0)
        fail_msg("%s:%d:%d: %s", e.file, e.line, e.col, e.message);
    cc_error_release(&e);
    assert_int_equal(f->ndocs, 1);
    return f->docs[0];
}

/* Loads yaml that must fail and returns "file:line:col: message | hint" (new). */
static char *load_err(const char *yaml)
{
    struct cnode_file *f = NULL;
    struct cc_error e = CC_ERROR_INIT;
    assert_int_equal(cnode_load_buffer(&A, "compose.yaml", yaml, strlen(yaml), &f, &e), -1);
    assert_int_equal(e.kind, CC_ERR_INVALID_CONFIG);
    char *s = xasprintf("%s:%d:%d: %s | %s", e.file, e.line, e.col, e.message,
                        e.hint ? e.hint : "(no hint)");
    cc_error_release(&e);
    return s;
}

static void assert_err(const char *yaml, const char *expected)
{
    char *s = load_err(yaml);
    assert_string_equal(s, expected);
    free(s);
}

static const char *str(const struct cnode *n)
{
    assert_non_null(n);
    assert_int_equal(n->kind, CNODE_SCALAR);
    return n->value;
}

static void test_positions(void **state)
{
    (void)state;
    struct cnode *root = load_ok("# comment\n"
                                 "services:\n"
                                 "  web:\n"
                                 "    image: nginx:1.27\n"
                                 "    ports:\n"
                                 "      - \"8080:80\"\n"
                                 "      - 443\n");
    assert_int_equal(root->kind, CNODE_MAPPING);
    assert_int_equal(root->line, 2);
    assert_int_equal(root->col, 1);
    struct cnode *web = cnode_get(cnode_get(root, "services"), "web");
    assert_int_equal(web->line, 4);
    assert_int_equal(web->col, 5);
    struct cnode *image = cnode_get(web, "image");
    assert_string_equal(str(image), "nginx:1.27");
    assert_int_equal(image->line, 4);
    assert_int_equal(image->col, 12);
    assert_string_equal(image->file, "compose.yaml");
    assert_ptr_equal(image->file, root->file); /* interned */
    struct cnode *ports = cnode_get(web, "ports");
    assert_int_equal(ports->kind, CNODE_SEQUENCE);
    assert_int_equal(ports->nitems, 2);
    assert_int_equal(ports->items[0]->line, 6);
    assert_int_equal(ports->items[0]->col, 9);
    assert_int_equal(ports->items[0]->style, CNODE_DOUBLE_QUOTED);
    assert_int_equal(ports->items[1]->col, 9);
    assert_int_equal(ports->items[1]->line, 7);
    assert_null(cnode_get(web, "missing"));
    assert_null(cnode_get(image, "x"));
    /* A key's position is the key's, and pairs keep file order. */
    assert_string_equal(str(web->pairs[1].key), "ports");
    assert_int_equal(web->pairs[1].key->line, 5);
}

static void test_styles_and_block_scalars(void **state)
{
    (void)state;
    struct cnode *root = load_ok("plain: a b\n"
                                 "single: 'it''s'\n"
                                 "double: \"tab\\there\"\n"
                                 "literal: |\n"
                                 "  line 1\n"
                                 "  line 2\n"
                                 "\n"
                                 "strip: |-\n"
                                 "  x\n"
                                 "keep: |+\n"
                                 "  y\n"
                                 "\n"
                                 "folded: >\n"
                                 "  a\n"
                                 "  b\n"
                                 "\n"
                                 "  c\n"
                                 "foldstrip: >-\n"
                                 "  z\n"
                                 "nul: \"a\\0b\"\n");
    struct cnode *n = cnode_get(root, "plain");
    assert_int_equal(n->style, CNODE_PLAIN);
    assert_string_equal(n->value, "a b");
    n = cnode_get(root, "single");
    assert_int_equal(n->style, CNODE_SINGLE_QUOTED);
    assert_string_equal(n->value, "it's");
    n = cnode_get(root, "double");
    assert_int_equal(n->style, CNODE_DOUBLE_QUOTED);
    assert_string_equal(n->value, "tab\there");
    n = cnode_get(root, "literal");
    assert_int_equal(n->style, CNODE_LITERAL);
    assert_string_equal(n->value, "line 1\nline 2\n");
    assert_string_equal(str(cnode_get(root, "strip")), "x");
    assert_string_equal(str(cnode_get(root, "keep")), "y\n\n");
    n = cnode_get(root, "folded");
    assert_int_equal(n->style, CNODE_FOLDED);
    assert_string_equal(n->value, "a b\nc\n");
    assert_string_equal(str(cnode_get(root, "foldstrip")), "z");
    n = cnode_get(root, "nul");
    assert_int_equal(n->len, 3);
    assert_memory_equal(n->value, "a\0b", 4);
    /* A value holding a NUL is never resolved as a number or keyword. */
    assert_int_equal(cnode_resolve(n).type, CNODE_TYPE_STRING);
}

static void test_tags_kept(void **state)
{
    (void)state;
    struct cnode *root = load_ok("ports: !reset []\n"
                                 "env: !override\n"
                                 "  A: 1\n"
                                 "n: !!str 12\n"
                                 "plain: 12\n");
    assert_true(cnode_has_tag(cnode_get(root, "ports"), "!reset"));
    assert_true(cnode_has_tag(cnode_get(root, "env"), "!override"));
    assert_false(cnode_has_tag(cnode_get(root, "env"), "!reset"));
    struct cnode *n = cnode_get(root, "n");
    assert_string_equal(n->tag, "tag:yaml.org,2002:str");
    assert_int_equal(cnode_resolve(n).type, CNODE_TYPE_STRING);
    assert_null(cnode_get(root, "plain")->tag);
    assert_int_equal(cnode_resolve(cnode_get(root, "plain")).type, CNODE_TYPE_INT);
}

static void test_anchors_shared(void **state)
{
    (void)state;
    struct cnode *root = load_ok("x-env: &env\n"
                                 "  A: 1\n"
                                 "services:\n"
                                 "  a:\n"
                                 "    environment: *env\n"
                                 "  b:\n"
                                 "    environment: *env\n"
                                 "    image: &img busybox\n"
                                 "    command: [*img]\n");
    struct cnode *env = cnode_get(root, "x-env");
    struct cnode *svcs = cnode_get(root, "services");
    assert_ptr_equal(cnode_get(cnode_get(svcs, "a"), "environment"), env);
    assert_ptr_equal(cnode_get(cnode_get(svcs, "b"), "environment"), env);
    /* The alias is the anchored node: its position is where the anchor was written. */
    assert_int_equal(env->line, 1);
    assert_int_equal(env->col, 8);
    struct cnode *cmd = cnode_get(cnode_get(svcs, "b"), "command");
    assert_string_equal(str(cmd->items[0]), "busybox");
    /* An anchor redefined later names the new node from then on. */
    root = load_ok("a: &x one\nb: *x\nc: &x two\nd: *x\n");
    assert_string_equal(str(cnode_get(root, "b")), "one");
    assert_string_equal(str(cnode_get(root, "d")), "two");
}

static void test_merge_keys(void **state)
{
    (void)state;
    struct cnode *root = load_ok("x-base: &base\n"
                                 "  image: base\n"
                                 "  restart: always\n"
                                 "x-log: &log\n"
                                 "  restart: 'no'\n"
                                 "  logging: json\n"
                                 "services:\n"
                                 "  one:\n"
                                 "    <<: *base\n"
                                 "    image: mine\n"
                                 "  two:\n"
                                 "    name: two\n"
                                 "    <<: [*base, *log]\n"
                                 "  three:\n"
                                 "    <<: [*log, *base]\n");
    struct cnode *svcs = cnode_get(root, "services");
    struct cnode *one = cnode_get(svcs, "one");
    /* Explicit keys win whatever their order and keep their place; merged keys take the place
     * of '<<'; no '<<' pair is left. */
    assert_int_equal(one->npairs, 2);
    assert_string_equal(str(one->pairs[0].key), "restart");
    assert_string_equal(str(one->pairs[0].value), "always");
    assert_string_equal(str(one->pairs[1].key), "image");
    assert_string_equal(str(one->pairs[1].value), "mine");
    assert_null(cnode_get(one, "<<"));
    /* Among several, the earlier mapping wins; merged keys take the place of '<<'. */
    struct cnode *two = cnode_get(svcs, "two");
    assert_int_equal(two->npairs, 4);
    assert_string_equal(str(two->pairs[0].key), "name");
    assert_string_equal(str(two->pairs[1].key), "image");
    assert_string_equal(str(two->pairs[2].key), "restart");
    assert_string_equal(str(two->pairs[3].key), "logging");
    assert_string_equal(str(cnode_get(two, "restart")), "always");
    assert_string_equal(str(cnode_get(cnode_get(svcs, "three"), "restart")), "no");
    /* Merged values keep the position they were written at. */
    assert_int_equal(cnode_get(two, "logging")->line, 6);
    /* A quoted "<<" is an ordinary key. */
    root = load_ok("\"<<\": x\n");
    assert_string_equal(str(cnode_get(root, "<<")), "x");
    assert_err("a: &a 1\nb:\n  <<: *a\n",
               "compose.yaml:3:3: merge key '<<' needs a mapping or a list of mappings | write "
               "'<<: *anchor' where the anchor names a mapping");
}

static void test_duplicate_keys(void **state)
{
    (void)state;
    assert_err("services:\n"
               "  web:\n"
               "    image: a\n"
               "  db:\n"
               "    image: b\n"
               "    image: c\n"
               "  web:\n"
               "    image: d\n",
               "compose.yaml:6:5: mapping key \"image\" already defined at line 5 | remove one of "
               "the two, or merge their contents under one key");
    /* The first repetition in file order is reported, wherever its group sorts. */
    assert_err("b: 1\na: 1\nb: 2\na: 2\n",
               "compose.yaml:3:1: mapping key \"b\" already defined at line 1 | remove one of the "
               "two, or merge their contents under one key");
    /* A key that only repeats a merged one is an override, not a duplicate. */
    struct cnode *root = load_ok("x: &x {a: 1}\ny:\n  <<: *x\n  a: 2\n");
    assert_string_equal(str(cnode_get(cnode_get(root, "y"), "a")), "2");
}

static void test_syntax_errors(void **state)
{
    (void)state;
    assert_err("services:\n  web:\n    image: a: b\n",
               "compose.yaml:3:13: unexpected ':' in a value | quote the value if it contains ': "
               "', or check the indentation of this line");
    assert_err("services:\n  web:\n    image: a\n   ports: []\n",
               "compose.yaml:4:4: a line is not indented like the keys around it | keys of one "
               "mapping start in the same column; check this line's indentation");
    assert_err("a: \"open\nb: c\n",
               "compose.yaml:3:1: unterminated quoted string | close the quote that starts at "
               "line 1, column 4");
    assert_err("a: [1, 2\n",
               "compose.yaml:2:1: unterminated flow sequence '[' | close the '[' opened at line 1, "
               "column 4, or separate items with ','");
    assert_err("a:\n\t- b\n",
               "compose.yaml:2:1: a tab cannot start a token | indent with spaces: YAML does not "
               "allow tabs there");
    assert_err("a: @x\n", "compose.yaml:1:4: '@' cannot start a value | quote the value: '@' and "
                          "'`' are reserved in YAML");
    assert_err("a: *nope\n", "compose.yaml:1:4: unknown anchor 'nope' referenced | define it "
                             "with '&nope' before this alias, in the same document");
    assert_err("a: &a [1, *a]\n", "compose.yaml:1:11: anchor 'a' value contains itself | an alias "
                                  "cannot refer to the collection it is written in");
    assert_err("? [a]\n: 1\n", "compose.yaml:1:3: a mapping key must be a string, not a sequence "
                               "| compose keys are names; remove the '?' or brackets around the "
                               "key");
    assert_err("a: \"\\xZZ\"\n", "compose.yaml:1:7: did not find expected hexdecimal number "
                                 "(while parsing a quoted scalar at line 1) | check the YAML "
                                 "syntax at this position");
}

static void test_documents(void **state)
{
    (void)state;
    struct cnode_file *f = NULL;
    struct cc_error e = CC_ERROR_INIT;
    const char *y = "services: {a: {image: x}}\n---\nservices: {a: {image: y}}\n---\n";
    assert_int_equal(cnode_load_buffer(&A, "-", y, strlen(y), &f, &e), 0);
    assert_string_equal(f->name, "-");
    assert_int_equal(f->ndocs, 2); /* the trailing empty document is left out */
    assert_int_equal(f->docs[1]->line, 3);
    /* Anchors do not cross documents. */
    y = "a: &x 1\n---\nb: *x\n";
    assert_int_equal(cnode_load_buffer(&A, "-", y, strlen(y), &f, &e), -1);
    assert_string_equal(e.message, "unknown anchor 'x' referenced");
    assert_int_equal(e.line, 3);
    cc_error_release(&e);
    assert_int_equal(cnode_load_buffer(&A, "empty.yaml", "", 0, &f, &e), 0);
    assert_int_equal(f->ndocs, 0);
    assert_int_equal(cnode_load_buffer(&A, "c.yaml", "# only\n", 7, &f, &e), 0);
    assert_int_equal(f->ndocs, 0);
}

static void test_load_file(void **state)
{
    (void)state;
    char path[] = "/tmp/test-node-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *y = "services:\n  web:\n    image: x\n";
    assert_int_equal(write(fd, y, strlen(y)), (ssize_t)strlen(y));
    close(fd);
    struct cnode_file *f = NULL;
    struct cc_error e = CC_ERROR_INIT;
    assert_int_equal(cnode_load_file(&A, path, &f, &e), 0);
    assert_string_equal(f->docs[0]->file, path);
    assert_int_equal(cnode_get(cnode_get(cnode_get(f->docs[0], "services"), "web"), "image")->line,
                     3);
    unlink(path);
    assert_int_equal(cnode_load_file(&A, path, &f, &e), -1);
    assert_int_equal(e.kind, CC_ERR_NOT_FOUND);
    char *want = xasprintf("cannot open '%s': No such file or directory", path);
    assert_string_equal(e.message, want);
    free(want);
    cc_error_release(&e);
}

static void test_alias_bomb_refused_fast(void **state)
{
    (void)state;
    struct buf b = BUF_INIT;
    buf_adds(&b, "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for (int i = 1; i < 10; i++)
        buf_printf(&b, "a%d: &a%d [*a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d]\n",
                   i, i, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1);
    clock_t t0 = clock();
    char *s = load_err(buf_str(&b));
    double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
    /* 10^10 nodes expanded; refused at the alias that crosses a million, in well under 1 s. */
    assert_string_equal(s, "compose.yaml:6:45: document expands to more than 1000000 nodes "
                           "through aliases, refusing it | aliases repeat what their anchor "
                           "holds; nested aliases multiply (an 'alias bomb'): write the values "
                           "out or use fewer levels");
    assert_true(secs < 1.0);
    free(s);
    buf_release(&b);
    /* The same shape, small, is fine and shares nodes. */
    struct cnode *root = load_ok("a: &a [x, x]\nb: &b [*a, *a]\nc: [*b, *b]\n");
    assert_int_equal(cnode_get(root, "c")->weight, 1 + 2 * (1 + 2 * 3));
}

static void test_depth_limit(void **state)
{
    (void)state;
    struct buf b = BUF_INIT;
    for (int i = 0; i < CNODE_MAX_DEPTH; i++)
        buf_addc(&b, '[');
    for (int i = 0; i < CNODE_MAX_DEPTH; i++)
        buf_addc(&b, ']');
    struct cnode_file *f = NULL;
    struct cc_error e = CC_ERROR_INIT;
    assert_int_equal(cnode_load_buffer(&A, "d.yaml", b.data, b.len, &f, &e), 0);
    assert_int_equal(f->docs[0]->height, CNODE_MAX_DEPTH);
    buf_reset(&b);
    for (int i = 0; i < CNODE_MAX_DEPTH + 1; i++)
        buf_addc(&b, '[');
    char *s = load_err(buf_str(&b));
    assert_string_equal(s, "compose.yaml:1:129: nesting deeper than 128 levels | compose files "
                           "nest a few levels; check for runaway brackets or aliases that nest "
                           "into themselves");
    free(s);
    /* Depth counts through aliases: a deep anchor used deep down is refused at the alias. */
    buf_reset(&b);
    buf_adds(&b, "a: &deep ");
    for (int i = 0; i < 100; i++)
        buf_addc(&b, '[');
    for (int i = 0; i < 100; i++)
        buf_addc(&b, ']');
    buf_adds(&b, "\nb: ");
    for (int i = 0; i < 40; i++)
        buf_addc(&b, '[');
    buf_adds(&b, "*deep");
    for (int i = 0; i < 40; i++)
        buf_addc(&b, ']');
    buf_addc(&b, '\n');
    s = load_err(buf_str(&b));
    assert_string_equal(s, "compose.yaml:2:44: nesting deeper than 128 levels | compose files "
                           "nest a few levels; check for runaway brackets or aliases that nest "
                           "into themselves");
    free(s);
    buf_release(&b);
}

static void test_input_size_limit(void **state)
{
    (void)state;
    size_t n = CNODE_MAX_INPUT + 1;
    char *big = xmalloc(n);
    memset(big, '#', n);
    struct cnode_file *f = NULL;
    struct cc_error e = CC_ERROR_INIT;
    assert_int_equal(cnode_load_buffer(&A, "big.yaml", big, n, &f, &e), -1);
    assert_string_equal(e.message, "'big.yaml' is larger than 16 MiB, refusing it");
    assert_string_equal(e.file, "big.yaml");
    cc_error_release(&e);
    free(big);
}

static void test_scalar_resolution(void **state)
{
    (void)state;
    static const struct {
        const char *yaml;
        enum cnode_type type;
        int64_t i;
        double f;
    } cases[] = {
        {"~", CNODE_TYPE_NULL, 0, 0},
        {"null", CNODE_TYPE_NULL, 0, 0},
        {"NULL", CNODE_TYPE_NULL, 0, 0},
        {"", CNODE_TYPE_NULL, 0, 0},
        {"nULL", CNODE_TYPE_STRING, 0, 0},
        {"'null'", CNODE_TYPE_STRING, 0, 0},
        {"true", CNODE_TYPE_BOOL, 1, 0},
        {"True", CNODE_TYPE_BOOL, 1, 0},
        {"FALSE", CNODE_TYPE_BOOL, 0, 0},
        {"tRUE", CNODE_TYPE_STRING, 0, 0},
        {"yes", CNODE_TYPE_STRING, 0, 0},
        {"off", CNODE_TYPE_STRING, 0, 0},
        {"\"true\"", CNODE_TYPE_STRING, 0, 0},
        {"42", CNODE_TYPE_INT, 42, 0},
        {"-17", CNODE_TYPE_INT, -17, 0},
        {"+3", CNODE_TYPE_INT, 3, 0},
        {"0x1F", CNODE_TYPE_INT, 31, 0},
        {"0o17", CNODE_TYPE_INT, 15, 0},
        {"017", CNODE_TYPE_INT, 15, 0},
        {"0b101", CNODE_TYPE_INT, 5, 0},
        {"1_000", CNODE_TYPE_INT, 1000, 0},
        {"-9223372036854775808", CNODE_TYPE_INT, INT64_MIN, 0},
        {"9223372036854775808", CNODE_TYPE_FLOAT, 0, 9223372036854775808.0},
        {"08", CNODE_TYPE_FLOAT, 0, 8},
        {"_1", CNODE_TYPE_STRING, 0, 0},
        {"1.5", CNODE_TYPE_FLOAT, 0, 1.5},
        {"-.5", CNODE_TYPE_FLOAT, 0, -0.5},
        {"1e3", CNODE_TYPE_FLOAT, 0, 1000},
        {"6.02E+23", CNODE_TYPE_FLOAT, 0, 6.02e23},
        {"1e", CNODE_TYPE_STRING, 0, 0},
        {".", CNODE_TYPE_STRING, 0, 0},
        {"1.2.3", CNODE_TYPE_STRING, 0, 0},
        {"8080:80", CNODE_TYPE_STRING, 0, 0},
        {"0x", CNODE_TYPE_STRING, 0, 0},
        {"12abc", CNODE_TYPE_STRING, 0, 0},
    };
    for (size_t i = 0; i < CC_ARRAY_LEN(cases); i++) {
        char *y = xasprintf("v: %s\n", cases[i].yaml);
        struct cnode *v = cnode_get(load_ok(y), "v");
        struct cnode_scalar s = cnode_resolve(v);
        if (s.type != cases[i].type)
            fail_msg("'%s': type %d, want %d", cases[i].yaml, s.type, cases[i].type);
        if (s.type == CNODE_TYPE_INT)
            assert_true(s.i == cases[i].i);
        if (s.type == CNODE_TYPE_BOOL)
            assert_int_equal(s.b, cases[i].i);
        if (s.type == CNODE_TYPE_FLOAT)
            assert_true(s.f == cases[i].f);
        free(y);
    }
    struct cnode *root = load_ok("a: .inf\nb: -.Inf\nc: .NaN\nd: [1]\n");
    assert_true(isinf(cnode_resolve(cnode_get(root, "a")).f));
    assert_true(cnode_resolve(cnode_get(root, "b")).f < 0);
    assert_true(isnan(cnode_resolve(cnode_get(root, "c")).f));
    assert_int_equal(cnode_resolve(cnode_get(root, "d")).type, CNODE_TYPE_OTHER);
    assert_true(cnode_is_null(load_ok("a:\n")->pairs[0].value));
}

static void test_parse_bool(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        int r;
        bool value, legacy;
    } cases[] = {
        {"true", 0, true, false}, {"FALSE", 0, false, false}, {"TrUe", 0, true, false},
        {"yes", 0, true, true},   {"Y", 0, true, true},       {"on", 0, true, true},
        {"No", 0, false, true},   {"n", 0, false, true},      {"OFF", 0, false, true},
        {"1", -1, false, false},  {"", -1, false, false},     {"yess", -1, false, false},
    };
    for (size_t i = 0; i < CC_ARRAY_LEN(cases); i++) {
        bool v = !cases[i].value, legacy = !cases[i].legacy;
        assert_int_equal(cnode_parse_bool(cases[i].s, &v, &legacy), cases[i].r);
        if (cases[i].r == 0) {
            assert_int_equal(v, cases[i].value);
            assert_int_equal(legacy, cases[i].legacy);
        }
    }
}

static void test_key_path_and_error(void **state)
{
    (void)state;
    struct cnode_path p = CNODE_PATH_INIT;
    char *s = cnode_path_str(&p);
    assert_string_equal(s, "");
    free(s);
    cnode_path_push_key(&p, "services");
    cnode_path_push_key(&p, "web");
    cnode_path_push_key(&p, "ports");
    cnode_path_push_index(&p, 0);
    s = cnode_path_str(&p);
    assert_string_equal(s, "services.web.ports[0]");
    free(s);
    cnode_path_pop(&p);
    cnode_path_pop(&p);
    cnode_path_push_key(&p, "image");
    s = cnode_path_str(&p);
    assert_string_equal(s, "services.web.image");
    free(s);

    struct cnode *root = load_ok("services:\n  web:\n    image: 12\n");
    struct cnode *img = cnode_get(cnode_get(cnode_get(root, "services"), "web"), "image");
    struct cc_error e = CC_ERROR_INIT;
    assert_int_equal(cnode_error(&e, img, &p, "'%s' must be a string", "image"), -1);
    assert_int_equal(e.kind, CC_ERR_INVALID_CONFIG);
    assert_string_equal(e.message, "'image' must be a string");
    assert_string_equal(e.file, "compose.yaml");
    assert_int_equal(e.line, 3);
    assert_int_equal(e.col, 12);
    assert_string_equal(e.key_path, "services.web.image");
    cc_error_release(&e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_positions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_styles_and_block_scalars, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tags_kept, setup, teardown),
        cmocka_unit_test_setup_teardown(test_anchors_shared, setup, teardown),
        cmocka_unit_test_setup_teardown(test_merge_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_duplicate_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_syntax_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_documents, setup, teardown),
        cmocka_unit_test_setup_teardown(test_load_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_alias_bomb_refused_fast, setup, teardown),
        cmocka_unit_test_setup_teardown(test_depth_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_input_size_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scalar_resolution, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parse_bool, setup, teardown),
        cmocka_unit_test_setup_teardown(test_key_path_and_error, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
