// Package forecast predicts a series a fixed number of steps ahead with a
// prediction interval: an autoregression fitted online by recursive least
// squares (RLS) with exponential forgetting, predicting x[t+h] directly from
// x[t], ..., x[t-p+1] (a direct rather than iterated forecast, so errors do
// not compound). Values are standardised by a slowly moving mean and scale
// so that one setting fits bytes per second and percentages alike. The
// interval is the forecast plus or minus a running quantile (95% by
// default) of the forecaster's own h-step absolute errors, so that its
// coverage holds for heavy-tailed errors too.
//
// Memory is constant (fixed arrays) and an update costs O(p^2) without
// allocating; training pairs can be applied in mini-batches (the stage's
// batch_size), in which case the coefficients change only at the end of
// each batch.
package forecast
