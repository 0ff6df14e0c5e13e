# Regenerates m4_hourly_ses_r_forecast_8.20_first40.csv (first 40 rows of the output):
# the M4 benchmark SES (seasonality test, multiplicative decomposition, ses()) run
# with R forecast 8.20 on ../shared/data/m4/Hourly-train.csv (run from the repository root).
suppressMessages(library(forecast))
tr <- read.csv("../shared/data/m4/Hourly-train.csv", stringsAsFactors=FALSE)
SeasonalityTest <- function(input, ppy){
  tcrit <- 1.645
  if (length(input)<3*ppy){ return(FALSE) }
  xacf <- acf(input, plot = FALSE)$acf[-1, 1, 1]
  clim <- tcrit/sqrt(length(input)) * sqrt(cumsum(c(1, 2 * xacf^2)))
  t <- ( abs(xacf[ppy]) > clim[ppy] ); if (is.na(t)) t <- FALSE; t }
out <- matrix(0, nrow(tr), 48)
for (k in 1:nrow(tr)) {
  x <- as.numeric(tr[k, -1]); x <- x[!is.na(x)]
  input <- ts(x, frequency=24)
  if (SeasonalityTest(input, 24)) { Dec <- decompose(input,type="multiplicative"); des <- input/Dec$seasonal; SI <- head(rep(Dec$seasonal[(length(Dec$seasonal)-24+1):length(Dec$seasonal)], 48), 48) } else { des <- input; SI <- rep(1,48)}
  out[k,] <- ses(des, h=48)$mean * SI
}
write.table(data.frame(id=tr[,1], format(out, digits=15)), "ses_r820.csv", sep=",", quote=FALSE, row.names=FALSE, col.names=FALSE)
