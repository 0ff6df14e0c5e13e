# merx forecast --holidays: a calendar (country,date,name) becomes a 'holiday'
# regressor; on a daily series whose sales fall on bank holidays the forecast
# for the holidays of the horizon falls too, and bad calendars are refused.
CAL="$MERX_SRC/examples/data/uk_bank_holidays.csv"
python3 - "$CAL" <<'PY'
import csv, datetime, random, sys
random.seed(7)
hol = {r["date"] for r in csv.DictReader(open(sys.argv[1]))}
d, end = datetime.date(2011, 6, 1), datetime.date(2011, 12, 20)
with open("d.csv", "w") as f:
    f.write("id,date,q\n")
    e = 0.0
    while d <= end:
        e = 0.4 * e + random.gauss(0, 3)
        q = 100 + e - (60 if d.isoformat() in hol else 0)
        f.write("A,%s,%.2f\n" % (d.isoformat(), q))
        d += datetime.timedelta(days=1)
PY
expect_exit 0 "$MERX" forecast --data d.csv --format long --horizon 14 --season 1 --method arima \
  --out plain.csv
expect_exit 0 "$MERX" forecast --data d.csv --format long --horizon 14 --season 1 --method arima \
  --holidays "$CAL" --country GB --out hol.csv --json
python3 - <<'PY'
import csv
plain = {r["time"]: float(r["forecast"]) for r in csv.DictReader(open("plain.csv"))}
hol = {r["time"]: float(r["forecast"]) for r in csv.DictReader(open("hol.csv"))}
days = ("2011-12-26", "2011-12-27", "2012-01-02")
for d in days:
    assert hol[d] < plain[d] - 40, (d, hol[d], plain[d])   # the true fall is 60
    assert 25 < hol[d] < 60, (d, hol[d])
for d in hol:
    if d not in days:
        assert abs(hol[d] - plain[d]) < 10, (d, hol[d], plain[d])
PY
# with --regressors too: both sets are used (price is constant here, so dropped)
python3 - <<'PY'
import datetime
d = datetime.date(2011, 6, 1)
with open("x.csv", "w") as f:
    f.write("id,time,name,value\n")
    while d <= datetime.date(2012, 1, 3):
        f.write("A,%s,price,1\n" % d.isoformat())
        d += datetime.timedelta(days=1)
PY
expect_exit 0 "$MERX" forecast --data d.csv --format long --horizon 14 --season 1 --method arima \
  --regressors x.csv --holidays "$CAL" --out both.csv
cmp <(cut -d, -f1-4 both.csv) <(cut -d, -f1-4 hol.csv)
# a bad date names file, line and field; nothing is written
sed '4s/2009-04-13/2009-04-31/' "$CAL" > bad.csv
expect_exit 1 "$MERX" forecast --data d.csv --format long --horizon 14 --method arima \
  --holidays bad.csv --out b.csv
expect_contains err.txt "bad.csv:4"
expect_contains err.txt "date"
[ ! -e b.csv ]
# a horizon past the calendar's last year is refused, not read as "no holidays"
grep -v ',2012-' "$CAL" > to2011.csv
expect_exit 1 "$MERX" forecast --data d.csv --format long --horizon 14 --method arima \
  --holidays to2011.csv --out b.csv
expect_contains err.txt "covers 2009-01-01 to 2011-12-31"
# several countries need --country; --country alone, or with another method, is a usage error
{ cat "$CAL"; echo "FR,2011-12-25,Noel"; } > two.csv
expect_exit 1 "$MERX" forecast --data d.csv --format long --horizon 14 --method arima \
  --holidays two.csv --out b.csv
expect_contains err.txt "several countries"
expect_exit 2 "$MERX" forecast --data d.csv --format long --horizon 14 --method arima \
  --country GB --out b.csv
expect_exit 2 "$MERX" forecast --data d.csv --format long --horizon 14 --method ets \
  --holidays "$CAL" --out b.csv
[ ! -e b.csv ]
