# Regenerates the R reference numbers used by tests/unit/test_forecast.c.
#   Rscript tests/unit/forecast_fixtures/make_fixtures.R > tests/unit/forecast_fixtures/r_reference.txt
# R 4.x, forecast 8.20 (Debian r-cran-forecast). Data: R's built-in
# AirPassengers (monthly, m = 12) and Nile (annual), embedded in the test.
suppressMessages(library(forecast))
options(digits = 15)
SeasonalityTest <- function(input, ppy) {      # as the M4 benchmark code
  tcrit <- 1.645
  if (length(input) < 3 * ppy) return(FALSE)
  xacf <- acf(input, plot = FALSE)$acf[-1, 1, 1]
  clim <- tcrit / sqrt(length(input)) * sqrt(cumsum(c(1, 2 * xacf^2)))
  t <- abs(xacf[ppy]) > clim[ppy]; if (is.na(t)) t <- FALSE; t
}
m4 <- function(x, h) {
  ppy <- frequency(x)
  if (ppy > 1 && SeasonalityTest(x, ppy)) {
    d <- decompose(x, type = "multiplicative"); des <- x / d$seasonal
    si <- head(rep(d$seasonal[(length(d$seasonal) - ppy + 1):length(d$seasonal)], h), h)
  } else { des <- x; si <- rep(1, h) }
  n <- length(des); xt <- 1:n; fit <- lm(des ~ xt)
  l0 <- as.numeric(predict(fit, data.frame(xt = (n + 1):(n + h))))
  th <- 2 * des - as.numeric(predict(fit))
  list(naive2 = naive(des, h = h)$mean * si, ses = ses(des, h = h)$mean * si,
       theta = (0.5 * ses(th, h = h)$mean + 0.5 * l0) * si)
}
out <- function(name, v) cat(name, paste(format(as.numeric(v), digits = 15), collapse = " "), "\n")
a <- m4(AirPassengers, 18)
out("air_naive2", a$naive2); out("air_ses", a$ses); out("air_theta", a$theta)
n <- m4(Nile, 10)
out("nile_ses", n$ses); out("nile_theta", n$theta)
for (spec in list(c("ANN", FALSE), c("AAN", FALSE), c("AAN", TRUE), c("MNN", FALSE))) {
  f <- ets(Nile, model = spec[1], damped = as.logical(spec[2]))
  tag <- paste0("nile_ets_", spec[1], ifelse(spec[2] == "TRUE", "d", ""))
  out(paste0(tag, "_lik"), -2 * f$loglik)
  out(paste0(tag, "_fc"), forecast(f, h = 5)$mean)
}
# Seasonal ETS on AirPassengers (m = 12): R optimises the m - 1 free initial
# seasonal states jointly with the smoothing parameters; merx must reach at
# least the same likelihood.
for (spec in list(c("ANA", FALSE), c("AAA", FALSE), c("AAA", TRUE), c("MNM", FALSE),
                  c("MAM", FALSE), c("MAM", TRUE), c("MNA", FALSE))) {
  f <- ets(AirPassengers, model = spec[1], damped = as.logical(spec[2]))
  tag <- paste0("air_ets_", spec[1], ifelse(spec[2] == "TRUE", "d", ""))
  out(paste0(tag, "_lik"), -2 * f$loglik)
  out(paste0(tag, "_fc"), forecast(f, h = 12)$mean)
}
