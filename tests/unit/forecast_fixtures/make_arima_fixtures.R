# Regenerates the R reference numbers used by tests/unit/test_forecast_arima.c:
#   Rscript tests/unit/forecast_fixtures/make_arima_fixtures.R > tests/unit/forecast_fixtures/arima_reference.txt
# R 4.x, forecast 8.20 (Debian r-cran-forecast). Each case: its data, season,
# R's chosen orders (p d q P D Q constant), log-likelihood, 12-step forecast
# mean and upper 95% bound. "sim24" is an hourly-like series (m = 24, n = 480)
# simulated here, so that auto.arima takes its approximation path (CSS search,
# ML refit) as on M4 Hourly.
suppressMessages(library(forecast))
options(digits = 15)
out <- function(name, v) cat(name, paste(format(as.numeric(v), digits = 15), collapse = " "), "\n")
set.seed(22)
tt <- 1:480
sim24 <- round(100 + 0.05 * tt + 20 * sin(2 * pi * tt / 24) +
               arima.sim(list(ar = 0.6, ma = 0.3), 480, sd = 4), 3)
cases <- list(air = AirPassengers, nile = Nile, lh = lh, usacc = USAccDeaths,
              www = WWWusage, nottem = nottem, sim24 = ts(sim24, frequency = 24))
for (nm in names(cases)) {
  y <- cases[[nm]]
  f <- auto.arima(y)
  a <- f$arma # p q P Q m d D
  con <- as.integer(any(names(coef(f)) %in% c("intercept", "drift")))
  fc <- forecast(f, h = 12, level = 95)
  out(paste0(nm, "_data"), y)
  out(paste0(nm, "_m"), frequency(y))
  out(paste0(nm, "_order"), c(a[1], a[6], a[2], a[3], a[7], a[4], con))
  out(paste0(nm, "_loglik"), f$loglik)
  out(paste0(nm, "_fc"), fc$mean)
  out(paste0(nm, "_hi95"), fc$upper)
}
# fixed orders: exact ML against R's Arima
g <- Arima(AirPassengers, order = c(0, 1, 1), seasonal = c(0, 1, 1))
out("air011_loglik", g$loglik); out("air011_coef", coef(g)); out("air011_fc", forecast(g, h = 12)$mean)
g <- Arima(Nile, order = c(1, 0, 1), include.mean = TRUE)
out("nile101_loglik", g$loglik); out("nile101_coef", coef(g)); out("nile101_fc", forecast(g, h = 5)$mean)
