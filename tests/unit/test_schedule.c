/* The schedule file loader (valid files, every refused input naming the file,
 * the job and the field), the run-history store, and the output digests. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "merx/schedule.h"
#include "util/sha256.h"
#include "testutil.h"

static const char *write_script(void) { return tu_write("job.lua", "print('hi')\n"); }

static void test_load_valid(void **state) {
  (void)state;
  write_script();
  const char *path = tu_write("ok.lua",
                              "local regions = { 'uk', 'us' }\n"
                              "local jobs = {}\n"
                              "for _, r in ipairs(regions) do\n"
                              "  jobs[#jobs + 1] = { name = 'replenish-' .. r, cron = '30 2 * * *',\n"
                              "    tz = r == 'uk' and 'Europe/London' or 'America/New_York',\n"
                              "    script = 'job.lua', params = { region = r, horizon = 28,\n"
                              "    service = 0.95, dry = false }, timeout = 600, retries = 2,\n"
                              "    overlap = 'replace', missed = 'all' }\n"
                              "end\n"
                              "jobs[#jobs + 1] = { name = 'hourly', cron = '@hourly', script = 'job.lua' }\n"
                              "return { store = 'hist/runs.db', jobs = jobs }\n");
  mx_schedule *s;
  mx_error err;
  mx_error_clear(&err);
  int rc = mx_schedule_load(path, &s, &err);
  if (rc != MX_OK) fail_msg("%s", err.message);
  assert_int_equal(s->njobs, 3);
  const mx_job *j = &s->jobs[1];
  assert_string_equal(j->name, "replenish-us");
  assert_string_equal(mx_tz_name(j->tz), "America/New_York");
  assert_int_equal(j->nparams, 4);
  /* sorted by key; numbers and booleans as Lua prints them */
  assert_string_equal(j->param_keys[0], "dry");
  assert_string_equal(j->param_values[0], "false");
  assert_string_equal(j->param_keys[1], "horizon");
  assert_string_equal(j->param_values[1], "28");
  assert_string_equal(j->param_keys[2], "region");
  assert_string_equal(j->param_values[2], "us");
  assert_string_equal(j->param_values[3], "0.95");
  assert_true(j->timeout == 600);
  assert_int_equal(j->retries, 2);
  assert_int_equal(j->overlap, MX_OVERLAP_REPLACE);
  assert_int_equal(j->missed, MX_MISSED_ALL);
  /* defaults */
  const mx_job *h = &s->jobs[2];
  assert_string_equal(mx_tz_name(h->tz), "UTC");
  assert_true(h->timeout == 300);
  assert_int_equal(h->retries, 0);
  assert_int_equal(h->overlap, MX_OVERLAP_FORBID);
  assert_int_equal(h->missed, MX_MISSED_LATEST);
  /* paths resolve against the file's directory */
  assert_non_null(strstr(s->store, "/hist/runs.db"));
  assert_non_null(strstr(s->outputs, "/outputs"));
  assert_non_null(strstr(j->script, tu_tmpdir()));
  mx_schedule_free(s);
}

typedef struct {
  const char *body; /* a job table's fields, or a whole file when it starts with '!' */
  const char *field;
  const char *text; /* must appear in the message */
  long line;        /* expected line, -1 = don't care */
} bad_case;

static void test_load_refused(void **state) {
  (void)state;
  write_script();
  static const bad_case bad[] = {
      {"name='n', cron='61 * * * *', script='job.lua'", "cron", "invalid minute field '61'", 2},
      {"name='n', cron='* * * * mon-frx', script='job.lua'", "cron", "day-of-week", 2},
      {"name='n', cron='* * *', script='job.lua'", "cron", "expected 5 fields", 2},
      {"name='n', cron='@daily', tz='Mars/Base', script='job.lua'", "tz",
       "unknown time zone 'Mars/Base'", 2},
      {"name='n', cron='@daily', script='nope.lua'", "script", "script not found", 2},
      {"name='n', cron='@daily', script='job.lua', timeout=-5", "timeout", "-5", 2},
      {"name='n', cron='@daily', script='job.lua', timeout=0", "timeout", "out of range", 2},
      {"name='n', cron='@daily', script='job.lua', retries=1.5", "retries", "integer", 2},
      {"name='n', cron='@daily', script='job.lua', overlap='never'", "overlap",
       "'never' is not one of forbid, allow, replace", 2},
      {"name='n', cron='@daily', script='job.lua', missed=true", "missed", "not one of", 2},
      {"name='n', cron='@daily', script='job.lua', retires=2", "retires", "unknown key", 2},
      {"name='n', cron='@daily', script='job.lua', params={1,2}", "params", "names must be", 2},
      {"name='n', cron='@daily', script='job.lua', params={a={}}", "params", "'a' must be", 2},
      {"name='a/b', cron='@daily', script='job.lua'", "name", "letters, digits", 2},
      {"cron='@daily', script='job.lua'", "name", "job #1", 0},
      {"name='n', script='job.lua'", "cron", "'cron' (a string) is required", 2},
      {"!return { jobs = { { name='d', cron='@daily', script='job.lua' },\n"
       "  { name='d', cron='@hourly', script='job.lua' } } }\n",
       "name", "duplicate job name", 1},
      {"!return { jobs = {}, stroe = 'x.db' }\n", "stroe", "unknown key", -1},
      {"!return 42\n", "", "must return a table", -1},
      {"!return {\n jobs = { ,\n}\n", "", "unexpected symbol", 2},
      {"!while true do end\n", "", "time limit of 3 s exceeded while loading the schedule file", 1},
      {"!while true do pcall(function() while true do end end) end\n", "",
       "time limit of 3 s exceeded while loading the schedule file", 1},
      {"!os.execute('true')\nreturn {jobs={}}\n", "", "os", 1},
      {"!return { jobs = 'x' }\n", "jobs", "required", -1},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    char text[1024];
    if (bad[i].body[0] == '!')
      snprintf(text, sizeof text, "%s", bad[i].body + 1);
    else
      snprintf(text, sizeof text, "return { jobs = {\n { %s },\n} }\n", bad[i].body);
    const char *path = tu_write("bad.lua", text);
    mx_schedule *s = (mx_schedule *)1;
    mx_error err;
    mx_error_clear(&err);
    int rc = mx_schedule_load(path, &s, &err);
    if (rc == MX_OK) fail_msg("case %zu accepted: %s", i, text);
    assert_null(s);
    char buf[2048];
    mx_error_format(&err, buf, sizeof buf);
    if (strcmp(err.field, bad[i].field) != 0)
      fail_msg("case %zu: field '%s', want '%s' (%s)", i, err.field, bad[i].field, buf);
    if (!strstr(buf, bad[i].text)) fail_msg("case %zu: '%s' lacks '%s'", i, buf, bad[i].text);
    if (strcmp(err.file, path) != 0) fail_msg("case %zu: file not named: %s", i, buf);
    if (bad[i].line >= 0 && err.line != bad[i].line)
      fail_msg("case %zu: line %ld, want %ld (%s)", i, err.line, bad[i].line, buf);
    if (bad[i].body[0] != '!' && strncmp(bad[i].body, "name='n'", 8) == 0 &&
        !strstr(buf, "job 'n'"))
      fail_msg("case %zu: job not named: %s", i, buf);
  }
}

typedef struct {
  int n;
  char status[8][16];
  int64_t slot[8];
} seen;

static int collect(void *ctx, const mx_run_row *r) {
  seen *s = ctx;
  if (s->n < 8) {
    snprintf(s->status[s->n], 16, "%s", r->status);
    s->slot[s->n] = r->scheduled;
  }
  s->n++;
  return 0;
}

static void count_slot(void *ctx, const char *job, int64_t slot) {
  seen *s = ctx;
  assert_string_equal(job, "j");
  s->slot[s->n++] = slot;
}

static void test_store(void **state) {
  (void)state;
  mx_runs *db;
  mx_error err;
  const char *path = tu_path("runs.db");
  assert_int_equal(mx_runs_open(path, 0, &db, &err), MX_OK);
  int64_t id1, id2, id3;
  mx_run_row r = {0};
  r.job = "j";
  r.scheduled_local = "x";
  r.attempt = 1;
  r.status = "running";
  r.exit_code = -1;
  r.scheduled = 100;
  assert_int_equal(mx_runs_insert(db, &r, &id1, &err), MX_OK);
  r.scheduled = 200;
  assert_int_equal(mx_runs_insert(db, &r, &id2, &err), MX_OK);
  r.scheduled = 300;
  assert_int_equal(mx_runs_insert(db, &r, &id3, &err), MX_OK);
  assert_int_equal(mx_runs_finish(db, id1, "success", 5.0, 0, "", "/o", "[]", &err), MX_OK);
  assert_int_equal(mx_runs_finish(db, id3, "stopped", 5.0, -1, "", "", "[]", &err), MX_OK);
  /* slot 200 still running -> abandoned; 300 stopped: both interrupted */
  assert_int_equal(mx_runs_abandon_running(db, 9.0, &err), 1);
  seen s = {0};
  assert_int_equal(mx_runs_interrupted(db, count_slot, &s, &err), MX_OK);
  assert_int_equal(s.n, 2);
  assert_true(s.slot[0] == 200 && s.slot[1] == 300);
  /* a newer row for slot 200 (a rerun) removes it from the interrupted list */
  r.scheduled = 200;
  r.status = "missed";
  assert_int_equal(mx_runs_insert(db, &r, NULL, &err), MX_OK);
  memset(&s, 0, sizeof s);
  assert_int_equal(mx_runs_interrupted(db, count_slot, &s, &err), MX_OK);
  assert_int_equal(s.n, 1);
  assert_true(s.slot[0] == 300);
  /* listing: newest slot first */
  memset(&s, 0, sizeof s);
  assert_int_equal(mx_runs_list(db, "j", 0, collect, &s, &err), MX_OK);
  assert_int_equal(s.n, 4);
  assert_string_equal(s.status[0], "stopped");
  assert_string_equal(s.status[1], "missed");
  assert_string_equal(s.status[2], "abandoned");
  assert_string_equal(s.status[3], "success");
  memset(&s, 0, sizeof s);
  assert_int_equal(mx_runs_list(db, "other", 0, collect, &s, &err), MX_OK);
  assert_int_equal(s.n, 0);
  /* state only moves forward */
  int64_t slot;
  int found;
  assert_int_equal(mx_runs_state_get(db, "j", &slot, &found, &err), MX_OK);
  assert_int_equal(found, 0);
  assert_int_equal(mx_runs_state_set(db, "j", 500, &err), MX_OK);
  assert_int_equal(mx_runs_state_set(db, "j", 400, &err), MX_OK);
  assert_int_equal(mx_runs_state_get(db, "j", &slot, &found, &err), MX_OK);
  assert_int_equal(found, 1);
  assert_true(slot == 500);
  /* a handled row moves the state with it (forward only), a plain row does not */
  mx_run_row h = {0};
  h.job = "j";
  h.scheduled = 700;
  h.scheduled_local = "x";
  h.attempt = 1;
  h.status = "running";
  h.exit_code = -1;
  assert_int_equal(mx_runs_insert(db, &h, NULL, &err), MX_OK);
  assert_int_equal(mx_runs_state_get(db, "j", &slot, &found, &err), MX_OK);
  assert_true(slot == 500);
  assert_int_equal(mx_runs_insert_handled(db, &h, NULL, &err), MX_OK);
  assert_int_equal(mx_runs_state_get(db, "j", &slot, &found, &err), MX_OK);
  assert_true(slot == 700);
  h.scheduled = 600;
  assert_int_equal(mx_runs_insert_handled(db, &h, NULL, &err), MX_OK);
  assert_int_equal(mx_runs_state_get(db, "j", &slot, &found, &err), MX_OK);
  assert_true(slot == 700);
  mx_runs_close(db);
  /* read-only open of a missing store fails cleanly */
  assert_int_not_equal(mx_runs_open(tu_path("missing.db"), 1, &db, &err), MX_OK);
}

/* FIPS 180-2 appendix B test vectors. */
static void test_sha256(void **state) {
  (void)state;
  mx_sha256 s;
  char hex[65];
  mx__sha256_init(&s);
  mx__sha256_update(&s, "abc", 3);
  mx__sha256_hex(&s, hex);
  assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  mx__sha256_init(&s);
  const char *m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  mx__sha256_update(&s, m, strlen(m));
  mx__sha256_hex(&s, hex);
  assert_string_equal(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  /* one million 'a', fed through a file */
  FILE *f = fopen(tu_path("a.bin"), "wb");
  for (int i = 0; i < 1000000; i++) fputc('a', f);
  fclose(f);
  uint64_t bytes;
  assert_int_equal(mx__sha256_file(tu_path("a.bin"), hex, &bytes), 0);
  assert_true(bytes == 1000000);
  assert_string_equal(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_load_valid),
      cmocka_unit_test(test_load_refused),
      cmocka_unit_test(test_store),
      cmocka_unit_test(test_sha256),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
