/* CSV reader: delimiters, quotes, CRLF, BOM, .gz, long lines, errors with
 * exact positions, and a randomized write/read round trip. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "merx/data.h"
#include "util/util.h"

/* Read all records of a file into a flat "a|b|c\n" string for comparison. */
static char *slurp(const char *path, mx_csv_options *opt, int *rc_out, mx_error *err) {
  mx_csv *c;
  mx_error_clear(err);
  int rc = mx_csv_open(path, opt, &c, err);
  *rc_out = rc;
  if (rc) return NULL;
  size_t cap = 1 << 16, n = 0;
  char *out = malloc(cap);
  out[0] = 0;
  const char *const *h;
  size_t nh = mx_csv_header(c, &h);
  for (size_t i = 0; i < nh; i++) n += (size_t)snprintf(out + n, cap - n, "%s%s", i ? "|" : "H:", h[i]);
  if (nh) n += (size_t)snprintf(out + n, cap - n, "\n");
  char **f;
  size_t *l, nf;
  int r;
  while ((r = mx_csv_next(c, &f, &l, &nf, err)) == 1) {
    for (size_t i = 0; i < nf; i++) {
      assert_int_equal(strlen(f[i]), l[i]);
      while (n + l[i] + 8 > cap) out = realloc(out, cap *= 2);
      n += (size_t)snprintf(out + n, cap - n, "%s%s", i ? "|" : "", f[i]);
    }
    n += (size_t)snprintf(out + n, cap - n, "\n");
  }
  *rc_out = r;
  mx_csv_close(c);
  return out;
}

static void check(const char *text, const char *expect) {
  const char *p = tu_write("t.csv", text);
  mx_csv_options o = mx_csv_defaults();
  mx_error err;
  int rc;
  char *got = slurp(p, &o, &rc, &err);
  assert_int_equal(rc, 0);
  assert_string_equal(got, expect);
  free(got);
}

static void test_delimiters(void **s) {
  (void)s;
  check("a,b,c\n1,2,3\n", "H:a|b|c\n1|2|3\n");
  check("a\tb\tc\n1\t2\t3\n", "H:a|b|c\n1|2|3\n");
  check("a;b;c\n1;2,5;3\n", "H:a|b|c\n1|2,5|3\n");
  check("a|b\n1|2\n", "H:a|b\n1|2\n");
  /* commas inside quotes do not count for detection */
  check("\"x,y,z\";b\n1;2\n", "H:x,y,z|b\n1|2\n");
}

static void test_quotes_crlf_bom(void **s) {
  (void)s;
  check("a,b\r\n\"he said \"\"hi\"\"\",2\r\n", "H:a|b\nhe said \"hi\"|2\n");
  check("\xEF\xBB\xBFid,v\n1,2\n", "H:id|v\n1|2\n");
  check("a,b\n\"multi\nline\",2\n3,4\n", "H:a|b\nmulti\nline|2\n3|4\n");
  check("a,b,c\n,,\n1,,3\n", "H:a|b|c\n||\n1||3\n");
  check("a,b\n\n1,2\n\n\n3,4", "H:a|b\n1|2\n3|4\n"); /* blank lines, no final newline */
  check("a,b\n5\" pot,2\n", "H:a|b\n5\" pot|2\n");   /* quote inside an unquoted field */
}

static void test_line_numbers(void **s) {
  (void)s;
  const char *p = tu_write("l.csv", "a,b\n\"x\ny\",1\n2,3\n");
  mx_csv *c;
  mx_error err;
  assert_int_equal(mx_csv_open(p, NULL, &c, &err), 0);
  char **f;
  size_t *l, nf;
  assert_int_equal(mx_csv_next(c, &f, &l, &nf, &err), 1);
  assert_int_equal(mx_csv_line(c), 2);
  assert_int_equal(mx_csv_next(c, &f, &l, &nf, &err), 1);
  assert_int_equal(mx_csv_line(c), 4);
  assert_string_equal(f[0], "2");
  mx_csv_close(c);
}

static void test_errors(void **s) {
  (void)s;
  mx_error err;
  mx_csv *c;
  int rc;
  /* missing file */
  assert_int_equal(mx_csv_open(tu_path("nope.csv"), NULL, &c, &err), MX_EIO);
  assert_non_null(strstr(err.file, "nope.csv"));
  assert_non_null(strstr(err.message, "No such file"));
  /* empty file */
  const char *p = tu_write("empty.csv", "");
  assert_int_equal(mx_csv_open(p, NULL, &c, &err), MX_EEMPTY);
  /* unterminated quote at end of file: reported where the quote opened */
  p = tu_write("uq.csv", "a,b\n1,2\n3,\"open\nmore\n");
  mx_csv_options o = mx_csv_defaults();
  char *got = slurp(p, &o, &rc, &err);
  assert_true(rc < 0);
  assert_int_equal(err.code, MX_EPARSE);
  assert_int_equal(err.line, 3);
  assert_int_equal(err.column, 2);
  assert_non_null(strstr(err.message, "unterminated"));
  free(got);
  /* text after a closing quote */
  p = tu_write("aq.csv", "a,b\n\"x\"y,2\n");
  got = slurp(p, &o, &rc, &err);
  assert_int_equal(rc, MX_EPARSE);
  assert_int_equal(err.line, 2);
  assert_int_equal(err.column, 1);
  free(got);
  /* duplicate header names */
  p = tu_write("dup.csv", "id,v,id\n1,2,3\n");
  assert_int_equal(mx_csv_open(p, NULL, &c, &err), MX_EPARSE);
  assert_int_equal(err.column, 3);
  assert_string_equal(err.field, "id");
}

static void write_gz(const char *path, const char *data, size_t n, size_t cut) {
  gzFile g = gzopen(path, "wb");
  gzwrite(g, data, (unsigned)n);
  gzclose(g);
  if (cut) { /* truncate the compressed file to cut bytes */
    FILE *f = fopen(path, "rb");
    char *buf = malloc(1 << 20);
    size_t m = fread(buf, 1, 1 << 20, f);
    fclose(f);
    assert_true(cut < m);
    f = fopen(path, "wb");
    fwrite(buf, 1, cut, f);
    fclose(f);
    free(buf);
  }
}

static void test_gzip(void **s) {
  (void)s;
  /* a few hundred KB so truncation lands inside the deflate stream */
  size_t cap = 1 << 20, n = 0;
  char *text = malloc(cap);
  n += (size_t)sprintf(text, "u,i\n");
  mx_rng r;
  mx__rng_seed(&r, 7);
  for (int k = 0; k < 20000; k++)
    n += (size_t)sprintf(text + n, "user%u,item%u\n", mx__rng_below(&r, 1000), mx__rng_below(&r, 5000));
  const char *p = tu_path("d.csv.gz");
  write_gz(p, text, n, 0);
  mx_csv_options o = mx_csv_defaults();
  mx_error err;
  int rc;
  char *got = slurp(p, &o, &rc, &err);
  assert_int_equal(rc, 0);
  /* same content as plain: header + 20000 rows */
  size_t lines = 0;
  for (char *q = got; *q; q++) lines += *q == '\n';
  assert_int_equal(lines, 20001);
  free(got);
  /* truncated .gz: a clear error, never silent success */
  const char *t = tu_path("trunc.csv.gz");
  write_gz(t, text, n, 3000);
  got = slurp(t, &o, &rc, &err);
  assert_true(rc < 0);
  assert_int_equal(err.code, MX_EIO);
  assert_non_null(strstr(err.message, "truncated"));
  free(got);
  free(text);
}

/* A file truncated by another process while it is read is an error naming
 * the file, not a silently shorter input (plain files; .gz truncation is a
 * stream error, above). */
static void test_truncated_while_read(void **s) {
  (void)s;
  const char *p = tu_path("shrink.csv");
  FILE *f = fopen(p, "w");
  assert_non_null(f);
  fputs("u,i\n", f);
  for (int k = 0; k < 200000; k++) fprintf(f, "user%d,item%d\n", k % 977, k % 3001); /* ~3 MB */
  fclose(f);
  mx_csv_options o = mx_csv_defaults();
  mx_csv *c;
  mx_error err;
  assert_int_equal(mx_csv_open(p, &o, &c, &err), 0);
  char **fields;
  size_t *lens, nf;
  assert_int_equal(mx_csv_next(c, &fields, &lens, &nf, &err), 1);
  assert_int_equal(truncate(p, 100000), 0); /* cut after the first buffer */
  int rc;
  long rows = 1;
  while ((rc = mx_csv_next(c, &fields, &lens, &nf, &err)) == 1) rows++;
  assert_int_equal(rc, MX_EIO);
  assert_true(rows < 200000);
  assert_non_null(strstr(err.file, "shrink.csv"));
  assert_non_null(strstr(err.message, "shrank from"));
  mx_csv_close(c);
  /* read again, the short file is simply a short file */
  assert_int_equal(mx_csv_open(p, &o, &c, &err), 0);
  while ((rc = mx_csv_next(c, &fields, &lens, &nf, &err)) == 1) {}
  assert_true(rc == 0 || rc == MX_EFORMAT); /* its last line may be cut in half */
  mx_csv_close(c);
}

static void test_long_line(void **s) {
  (void)s;
  /* a 5 MB field spans several buffer refills */
  size_t big = 5u << 20;
  char *text = malloc(big + 64);
  size_t n = (size_t)sprintf(text, "a,b\n1,");
  memset(text + n, 'x', big);
  n += big;
  n += (size_t)sprintf(text + n, "\n2,y\n");
  text[n] = 0;
  FILE *f = fopen(tu_path("long.csv"), "wb");
  fwrite(text, 1, n, f);
  fclose(f);
  mx_csv *c;
  mx_error err;
  assert_int_equal(mx_csv_open(tu_path("long.csv"), NULL, &c, &err), 0);
  char **fl;
  size_t *l, nf;
  assert_int_equal(mx_csv_next(c, &fl, &l, &nf, &err), 1);
  assert_int_equal(l[1], big);
  assert_int_equal(mx_csv_next(c, &fl, &l, &nf, &err), 1);
  assert_string_equal(fl[1], "y");
  assert_int_equal(mx_csv_line(c), 3);
  assert_int_equal(mx_csv_next(c, &fl, &l, &nf, &err), 0);
  mx_csv_close(c);
  /* with a limit, the same record is refused */
  mx_csv_options o = mx_csv_defaults();
  o.max_line = 1 << 20;
  assert_int_equal(mx_csv_open(tu_path("long.csv"), &o, &c, &err), 0);
  assert_true(mx_csv_next(c, &fl, &l, &nf, &err) < 0);
  assert_int_equal(err.code, MX_ELIMIT);
  mx_csv_close(c);
  free(text);
}

/* Random fields with separators, quotes, CR/LF and UTF-8 survive a write/read
 * round trip through mx_csv_write_field for every separator. */
static void test_round_trip(void **s) {
  (void)s;
  const char alphabet[] = "ab,;|\t\"\n\r x\xC3\xA9";
  const char seps[] = {',', '\t', ';', '|'};
  mx_rng r;
  mx__rng_seed(&r, 42);
  for (int round = 0; round < 40; round++) {
    char sep = seps[round % 4];
    int rows = 1 + (int)mx__rng_below(&r, 60), cols = 1 + (int)mx__rng_below(&r, 6);
    char ***cells = calloc((size_t)rows, sizeof *cells);
    FILE *f = fopen(tu_path("rt.csv"), "wb");
    /* header: plain names, so detection sees the separator */
    for (int j = 0; j < cols; j++) fprintf(f, "%sc%d", j ? (char[]){sep, 0} : "", j);
    fputc('\n', f);
    for (int i = 0; i < rows; i++) {
      cells[i] = calloc((size_t)cols, sizeof **cells);
      for (int j = 0; j < cols; j++) {
        int len = (int)mx__rng_below(&r, 12);
        char *v = calloc((size_t)len + 2, 1);
        for (int k = 0; k < len; k++) v[k] = alphabet[mx__rng_below(&r, sizeof alphabet - 1)];
        /* a lone CR at the very end of a record is read as CRLF; avoid it */
        if (j == cols - 1 && len && v[len - 1] == '\r') v[len - 1] = 'z';
        /* a record of one empty field is a blank line; make it non-empty */
        if (cols == 1 && len == 0) v[0] = 'e';
        cells[i][j] = v;
        if (j) fputc(sep, f);
        mx_csv_write_field(f, v, sep);
      }
      fputc('\n', f);
    }
    fclose(f);
    mx_csv_options o = mx_csv_defaults();
    o.sep = sep;
    mx_csv *c;
    mx_error err;
    assert_int_equal(mx_csv_open(tu_path("rt.csv"), &o, &c, &err), 0);
    char **fl;
    size_t *l, nf;
    for (int i = 0; i < rows; i++) {
      assert_int_equal(mx_csv_next(c, &fl, &l, &nf, &err), 1);
      assert_int_equal(nf, (size_t)cols);
      for (int j = 0; j < cols; j++) assert_string_equal(fl[j], cells[i][j]);
    }
    assert_int_equal(mx_csv_next(c, &fl, &l, &nf, &err), 0);
    mx_csv_close(c);
    for (int i = 0; i < rows; i++) {
      for (int j = 0; j < cols; j++) free(cells[i][j]);
      free(cells[i]);
    }
    free(cells);
  }
}

static void test_parse_numbers_and_times(void **s) {
  (void)s;
  double v;
  assert_int_equal(mx_parse_double("2.55", &v), 0);
  assert_true(v == 2.55);
  assert_int_equal(mx_parse_double("-12", &v), 0);
  assert_true(v == -12);
  assert_int_equal(mx_parse_double(" 1e3 ", &v), 0);
  assert_true(v == 1000);
  assert_int_equal(mx_parse_double("0.1234567890123456789", &v), 0);
  assert_true(v == 0.1234567890123456789);
  assert_int_equal(mx_parse_double("", &v), MX_EPARSE);
  assert_int_equal(mx_parse_double("abc", &v), MX_EPARSE);
  assert_int_equal(mx_parse_double("1.5x", &v), MX_EPARSE);
  assert_int_equal(mx_parse_double("nan", &v), MX_EPARSE);
  assert_int_equal(mx_parse_double("inf", &v), MX_EPARSE);
  assert_int_equal(mx_parse_double("1e400", &v), MX_EPARSE);
  int64_t t;
  assert_int_equal(mx_parse_time("2010-12-01 08:26:00", &t), 0);
  assert_true(t == 1291191960);
  assert_int_equal(mx_parse_time("2010-12-01T08:26:00Z", &t), 0);
  assert_true(t == 1291191960);
  assert_int_equal(mx_parse_time("2010-12-01T09:26:00+01:00", &t), 0);
  assert_true(t == 1291191960);
  assert_int_equal(mx_parse_time("2010-12-01", &t), 0);
  assert_true(t == 1291161600);
  assert_int_equal(mx_parse_time("1291191960", &t), 0);
  assert_true(t == 1291191960);
  assert_int_equal(mx_parse_time("2012-02-29", &t), 0);
  assert_int_equal(mx_parse_time("2011-02-29", &t), MX_EPARSE);
  assert_int_equal(mx_parse_time("2011-13-01", &t), MX_EPARSE);
  assert_int_equal(mx_parse_time("yesterday", &t), MX_EPARSE);
  assert_int_equal(mx_parse_time("2010-12-01T09:26:00+14:00", &t), 0);
  assert_int_equal(mx_parse_time("2010-12-01T09:26:00-14:00", &t), 0);
  assert_int_equal(mx_parse_time("2010-12-01T09:26:00+14:01", &t), MX_EPARSE);
  assert_int_equal(mx_parse_time("2010-12-01T09:26:00-15:00", &t), MX_EPARSE);
  assert_int_equal(mx_parse_time("2010-12-01T09:26:00+0190", &t), MX_EPARSE);
  char buf[32];
  assert_string_equal(mx_format_time(1291191960, 0, buf, sizeof buf), "2010-12-01T08:26:00Z");
  assert_string_equal(mx_format_time(951782400, 1, buf, sizeof buf), "2000-02-29");
  assert_string_equal(mx_format_time(-86400, 1, buf, sizeof buf), "1969-12-31");
}

/* A header of 200k columns: duplicate names are found through a hash, not by
 * comparing every pair (1e6 columns once took half an hour). No timing
 * assertion here; the figure is in docs/benchmarks.md. */
static void test_wide_header(void **s) {
  (void)s;
  enum { N = 200000 };
  size_t cap = (size_t)N * 16 + 64, n = 0;
  char *text = malloc(cap);
  for (int i = 0; i < N; i++) n += (size_t)snprintf(text + n, cap - n, "%sc%d", i ? "," : "", i);
  n += (size_t)snprintf(text + n, cap - n, "\n");
  for (int i = 0; i < N; i++) n += (size_t)snprintf(text + n, cap - n, "%s%d", i ? "," : "", i);
  n += (size_t)snprintf(text + n, cap - n, "\n");
  const char *p = tu_write("wide.csv", text);
  mx_csv *c;
  mx_error err;
  assert_int_equal(mx_csv_open(p, NULL, &c, &err), 0);
  const char *const *h;
  assert_int_equal(mx_csv_header(c, &h), (size_t)N);
  assert_string_equal(h[N - 1], "c199999");
  mx_columns cols;
  assert_int_equal(mx_columns_parse("value=c199998", NULL, &cols, &err), 0);
  assert_int_equal(mx_columns_resolve(&cols, c, &err), 0);
  assert_int_equal(mx_columns_index(&cols, "value"), N - 2);
  char **f;
  size_t *l, nf;
  assert_int_equal(mx_csv_next(c, &f, &l, &nf, &err), 1);
  assert_int_equal(nf, (size_t)N);
  mx_csv_close(c);
  /* the same name in columns 7 and 199999: named with both positions */
  snprintf(strrchr(text, 'c'), 16, "c6\n");
  p = tu_write("wide.csv", text);
  assert_int_equal(mx_csv_open(p, NULL, &c, &err), MX_EPARSE);
  assert_int_equal(err.column, N);
  assert_non_null(strstr(err.message, "also column 7"));
  free(text);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_delimiters),      cmocka_unit_test(test_quotes_crlf_bom),
      cmocka_unit_test(test_line_numbers),    cmocka_unit_test(test_errors),
      cmocka_unit_test(test_gzip),            cmocka_unit_test(test_long_line),
      cmocka_unit_test(test_round_trip),      cmocka_unit_test(test_parse_numbers_and_times),
      cmocka_unit_test(test_truncated_while_read), cmocka_unit_test(test_wide_header),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
