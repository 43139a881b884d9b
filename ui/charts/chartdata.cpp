#include "ui/charts/chartdata.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace poolscope::ui {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

double centreKey(const Bucket &b)
{
    return double(b.startMs + b.endMs) / 2000.0;
}

void append(PlotPoints &p, double key, double value)
{
    p.keys.append(key);
    p.values.append(value);
}

struct Extent
{
    double min = 0;
    double max = 0;
    void take(double v)
    {
        if (std::isfinite(v)) {
            min = std::min(min, v);
            max = std::max(max, v);
        }
    }
};

void buildLine(const QList<Bucket> &buckets, PlotPoints &out, Extent &extent)
{
    out.keys.reserve(buckets.size() * 2);
    out.values.reserve(buckets.size() * 2);
    for (const Bucket &b : buckets) {
        if (b.isGap() && !b.containsGap)
            continue; // no tick in this column
        const double key = centreKey(b);
        if (!b.isGap()) {
            append(out, key, b.min);
            if (b.max != b.min)
                append(out, key, b.max);
            extent.take(b.min);
            extent.take(b.max);
        }
        if (b.containsGap)
            append(out, key, kNaN);
    }
}

void buildStack(const QList<const QList<Bucket> *> &layers, const QList<PlotPoints *> &out,
                Extent &extent)
{
    qsizetype n = 0;
    for (const QList<Bucket> *layer : layers)
        n = std::max(n, layer->size());
    for (PlotPoints *p : out) {
        p->keys.reserve(n);
        p->values.reserve(n);
    }
    for (qsizetype i = 0; i < n; ++i) {
        bool anyValue = false;
        bool anyGap = false;
        double key = 0;
        for (const QList<Bucket> *layer : layers) {
            if (i >= layer->size())
                continue;
            const Bucket &b = layer->at(i);
            anyValue = anyValue || !b.isGap();
            anyGap = anyGap || b.containsGap;
            key = centreKey(b);
        }
        if (anyValue) {
            double sum = 0;
            for (qsizetype l = 0; l < layers.size(); ++l) {
                const QList<Bucket> &layer = *layers.at(l);
                const Bucket *b = i < layer.size() ? &layer.at(i) : nullptr;
                // No point at all (the series did not exist yet) adds nothing; a gap marker
                // breaks this layer and every layer above it.
                if (b && !b->isGap())
                    sum += b->mean;
                else if (b && b->containsGap)
                    sum = kNaN;
                append(*out.at(l), key, sum);
                extent.take(sum);
            }
        }
        if (anyGap) {
            for (PlotPoints *p : out)
                append(*p, key, kNaN);
        }
    }
}

} // namespace

ChartFrame buildChartFrame(const ChartSpec &spec, const QList<QList<Bucket>> &buckets,
                           qint64 fromMs, qint64 toMs)
{
    ChartFrame frame;
    frame.fromMs = fromMs;
    frame.toMs = toMs;
    frame.series.resize(spec.series.size());
    Extent left;
    Extent right;

    // One stack per axis; series the store does not know (no buckets at all) are left out of
    // the stack so that they do not turn every layer above them into a gap.
    QList<const QList<Bucket> *> stackLayers[2];
    QList<PlotPoints *> stackOut[2];
    for (qsizetype s = 0; s < spec.series.size() && s < buckets.size(); ++s) {
        const ChartSeriesSpec &seriesSpec = spec.series.at(s);
        Extent &extent = seriesSpec.rightAxis ? right : left;
        if (seriesSpec.style == SeriesStyle::StackedArea) {
            if (!buckets.at(s).isEmpty()) {
                stackLayers[seriesSpec.rightAxis].append(&buckets.at(s));
                stackOut[seriesSpec.rightAxis].append(&frame.series[s]);
            }
        } else {
            buildLine(buckets.at(s), frame.series[s], extent);
        }
    }
    buildStack(stackLayers[0], stackOut[0], left);
    buildStack(stackLayers[1], stackOut[1], right);

    frame.leftMin = left.min;
    frame.leftMax = left.max;
    frame.rightMin = right.min;
    frame.rightMax = right.max;
    return frame;
}

} // namespace poolscope::ui
