#pragma once

#include "core/timeseries/timeseriesstore.h"
#include "ui/charts/chartspec.h"

#include <QList>
#include <QVector>

namespace poolscope::ui {

// One graph's points, keys in seconds since the Unix epoch (what QCPAxisTickerDateTime reads).
// A NaN value breaks the line: that is how a gap is drawn.
struct PlotPoints
{
    QVector<double> keys;
    QVector<double> values;
};

// What a chart draws for one window: one PlotPoints per spec series, in spec order.
struct ChartFrame
{
    qint64 fromMs = 0;
    qint64 toMs = 0;
    QList<PlotPoints> series;
    double leftMax = 0; // largest finite value per axis (stack tops and limits included)
    double rightMax = 0;
    double leftMin = 0; // smallest finite value, or 0
    double rightMin = 0;
};

// Turns queryMany() buckets (one list per spec series, same tiling) into plot points.
//  - Buckets with no sample and no gap marker are skipped: at a close zoom most pixel columns
//    hold no tick, and the line must run straight across them.
//  - A gap marker emits a NaN after the bucket's values, so the line breaks there (never a 0).
//  - Line/Limit series emit min then max at the bucket's centre: a vertical stroke per column,
//    so a one-second spike in 24 h stays drawn at its full height.
//  - StackedArea series use the bucket mean, cumulated bottom-up. Means add up (the sum of the
//    layers' means is the mean of their sum); maxima would not (layers peak at different
//    seconds), and a stack of maxima could cross max_connections when the total never did.
//    A layer with no point in a column where other layers have one (its series began later,
//    e.g. a holder charted from a later tick) adds 0 there; a layer whose column holds only a
//    gap marker makes itself and every layer above it NaN.
ChartFrame buildChartFrame(const ChartSpec &spec, const QList<QList<Bucket>> &buckets,
                           qint64 fromMs, qint64 toMs);

} // namespace poolscope::ui
