/* Files of ids (merx/idlist.h), the one reader behind recommend, similar,
 * score, forget, coldstart and `model import`: the first CSV field or the
 * whole line, blank lines skipped or refused by line, repeats refused by
 * line, appending to a list, and lists resolved against an id map (header,
 * unknown ids counted or refused). */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "merx/idlist.h"

static void test_csv_first_field(void **state) {
  (void)state;
  const char *path = tu_write("users.csv", "\"a,1\",x\n\nb;c\n  \nd\n");
  char **ids = malloc(sizeof *ids);
  ids[0] = strdup("given");
  size_t n = 1;
  mx_error err;
  assert_int_equal(mx_id_lines_read(path, MX_ID_LINES_CSV, NULL, &ids, &n, &err), MX_OK);
  /* appended after "given"; the blank line skipped; "  " is an id */
  assert_int_equal(n, 5);
  assert_string_equal(ids[0], "given");
  assert_string_equal(ids[1], "a,1");
  assert_string_equal(ids[2], "b;c");
  assert_string_equal(ids[3], "  ");
  assert_string_equal(ids[4], "d");
  mx_id_lines_free(ids, n);
}

static void test_whole_lines(void **state) {
  (void)state;
  const char *path = tu_write("ids.txt", "a,b\r\n\"q\"\n\nc\n");
  char **ids = NULL;
  size_t n = 0;
  mx_error err;
  assert_int_equal(mx_id_lines_read(path, 0, NULL, &ids, &n, &err), MX_OK);
  assert_int_equal(n, 3);
  assert_string_equal(ids[0], "a,b");
  assert_string_equal(ids[1], "\"q\"");
  assert_string_equal(ids[2], "c");
  mx_id_lines_free(ids, n);
}

/* `model import`: a gap would shift every later row, a repeat would map two
 * rows to one id; both name the line. A blank last line is the end. */
static void test_gaps_and_repeats(void **state) {
  (void)state;
  mx_error err;
  mx_idmap *m = mx_idmap_create();
  assert_int_equal(mx_id_lines_read(tu_write("ok.txt", "u1\nu2\r\n\n"), MX_ID_LINES_NO_GAPS, m,
                                    NULL, NULL, &err),
                   MX_OK);
  assert_int_equal(mx_idmap_size(m), 2);
  mx_idmap_free(m);

  m = mx_idmap_create();
  assert_int_equal(mx_id_lines_read(tu_write("gap.txt", "u1\n\nu2\n"), MX_ID_LINES_NO_GAPS, m,
                                    NULL, NULL, &err),
                   MX_EPARSE);
  assert_int_equal(err.line, 2);
  assert_string_equal(err.message, "empty id");
  mx_idmap_free(m);

  m = mx_idmap_create();
  assert_int_equal(mx_id_lines_read(tu_write("twice.txt", "u1\nu2\nu1\n"), MX_ID_LINES_NO_GAPS,
                                    m, NULL, NULL, &err),
                   MX_EPARSE);
  assert_int_equal(err.line, 3);
  assert_string_equal(err.message, "id 'u1' appears twice");
  assert_non_null(strstr(err.file, "twice.txt"));
  mx_idmap_free(m);

  /* the same rules over CSV fields */
  m = mx_idmap_create();
  assert_int_equal(mx_id_lines_read(tu_write("twice.csv", "u1,x\nu1,y\n"),
                                    MX_ID_LINES_CSV | MX_ID_LINES_NO_GAPS, m, NULL, NULL, &err),
                   MX_EPARSE);
  assert_int_equal(err.line, 2);
  mx_idmap_free(m);
  char **ids = NULL;
  size_t n = 0;
  assert_int_not_equal(mx_id_lines_read(tu_path("absent.txt"), 0, NULL, &ids, &n, &err), MX_OK);
  assert_int_equal(n, 0);
  mx_id_lines_free(ids, n);
}

static void test_list_against_map(void **state) {
  (void)state;
  mx_idmap *m = mx_idmap_create();
  mx_idmap_intern(m, "i1", 2);
  mx_idmap_intern(m, "i2", 2);
  mx_idmap_intern(m, "i3", 2);
  uint32_t *idx, n;
  mx_id_list_stats st;
  mx_error err;
  const char *path = tu_write("cand.csv", "StockCode,qty\ni3,1\nzz,2\ni1,3\n");
  assert_int_equal(mx_id_list_read(path, m, "item", 0, &idx, &n, &st, &err), MX_OK);
  assert_int_equal(st.header, 1);
  assert_int_equal(st.rows, 3);
  assert_int_equal(st.unknown, 1);
  assert_string_equal(st.first_unknown, "zz");
  assert_int_equal(st.first_unknown_line, 3);
  assert_int_equal(n, 2);
  assert_int_equal(idx[0], 2);
  assert_int_equal(idx[1], 0);
  free(idx);
  assert_int_equal(mx_id_list_read(path, m, "item", 1, &idx, &n, &st, &err), MX_ENOTFOUND);
  assert_int_equal(err.line, 3);
  assert_non_null(strstr(err.message, "unknown item 'zz'"));
  assert_int_equal(mx_id_list_read(tu_write("empty.csv", ""), m, "item", 0, &idx, &n, &st, &err),
                   MX_EEMPTY);
  mx_idmap_free(m);
}

int main(void) {
  tu_filters();
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_csv_first_field), cmocka_unit_test(test_whole_lines),
      cmocka_unit_test(test_gaps_and_repeats), cmocka_unit_test(test_list_against_map)};
  return tu_exit(cmocka_run_group_tests(tests, NULL, NULL));
}
