// The Overview chart's frame cost: a chart holding 24 h at 1 Hz of 6 series (3 stacked layers,
// a min/max line, 2 limit lines), re-queried from the store and replotted, offscreen.
// A plain program printing Markdown (see BENCHMARKS.md, "Dashboard"); goal: a median
// full frame (re-query + replot) of 16 ms or less at 1200x400.
//
// Rows, all in the same run so their ratios hold on a noisy machine:
//   replot only   - baseline: QCustomPlot redraws the same data (what a pan costs)
//   query only    - queryMany (6 series, one bucket per pixel column) + buildChartFrame
//   full frame    - TimeSeriesChart::refreshNow() + an immediate replot (what a new tick costs)
#include "core/sampler/samplerseries.h"
#include "core/timeseries/timeseriesstore.h"
#include "ui/charts/chartdata.h"
#include "ui/charts/timeserieschart.h"

#include <QApplication>
#include <QDateTime>
#include <QElapsedTimer>
#include <QTest>
#include <qcustomplot.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <vector>

using namespace poolscope;
using namespace poolscope::ui;

namespace {

constexpr int kRuns = 50;
constexpr int kWarmup = 5;
constexpr qint64 kDayMs = 24LL * 3600 * 1000;

struct Stats
{
    double median = 0;
    double p90 = 0;
};

Stats measure(const std::function<void()> &frame)
{
    for (int i = 0; i < kWarmup; ++i)
        frame();
    std::vector<double> ms;
    ms.reserve(kRuns);
    for (int i = 0; i < kRuns; ++i) {
        QElapsedTimer timer;
        timer.start();
        frame();
        ms.push_back(double(timer.nsecsElapsed()) / 1e6);
        // Let the queued replot refreshNow() posted run outside the timed region.
        QCoreApplication::processEvents();
    }
    std::sort(ms.begin(), ms.end());
    return { ms[ms.size() / 2], ms[(ms.size() * 9) / 10] };
}

ChartSpec benchSpec()
{
    ChartSpec spec { QStringLiteral("bench"), QStringLiteral("connections"), {}, {} };
    spec.series = {
        { series::Active, QStringLiteral("active"), Qt::darkGreen, SeriesStyle::StackedArea },
        { series::IdleInTransaction, QStringLiteral("idle in transaction"), Qt::darkYellow,
          SeriesStyle::StackedArea },
        { series::Idle, QStringLiteral("idle"), Qt::blue, SeriesStyle::StackedArea },
        { series::Total, QStringLiteral("total"), Qt::black, SeriesStyle::Line },
        { series::MaxConnections, QStringLiteral("max_connections"), Qt::red, SeriesStyle::Limit },
        { series::UsableByOrdinaryRoles, QStringLiteral("usable"), Qt::darkRed,
          SeriesStyle::Limit },
    };
    return spec;
}

// 24 h at 1 Hz with noise (so min != max in every column), a few gaps and spikes.
qint64 fill(TimeSeriesStore &store)
{
    const qint64 end = QDateTime::currentMSecsSinceEpoch() / 1000 * 1000;
    for (qint64 i = kDayMs / 1000 - 1; i >= 0; --i) {
        const qint64 t = end - i * 1000;
        if (i % 20'000 == 7) {
            store.appendGap(t);
            continue;
        }
        const double active = 10 + 8 * std::sin(double(i) / 300.0) + double(i % 7);
        const double iit = double(i % 5);
        const double idle = 30 + double(i % 11);
        const double spike = i % 9'999 == 0 ? 40 : 0;
        store.append(t,
                     { { series::Active, active + spike },
                       { series::IdleInTransaction, iit },
                       { series::Idle, idle },
                       { series::Total, active + iit + idle + spike },
                       { series::MaxConnections, 100 },
                       { series::UsableByOrdinaryRoles, 97 } });
    }
    return end;
}

void row(const char *size, const char *window, const char *what, const Stats &s,
         const Stats &baseline)
{
    std::printf("| %s | %s | %s | %.2f | %.2f | %.2fx |\n", size, window, what, s.median, s.p90,
                s.median / baseline.median);
}

} // namespace

int main(int argc, char **argv)
{
    if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM"))
        qputenv("QT_QPA_PLATFORM", "offscreen");
    QApplication app(argc, argv);

    TimeSeriesStore store;
    QElapsedTimer fillTimer;
    fillTimer.start();
    fill(store);
    std::printf("Store: 6 series x 86,400 points (24 h at 1 Hz), filled in %lld ms; %d runs "
                "after %d warm-up, ms.\n\n",
                fillTimer.elapsed(), kRuns, kWarmup);
    std::printf("| plot size | window | what | median ms | p90 ms | vs replot only |\n");
    std::printf("|---|---|---|---:|---:|---:|\n");

    const ChartSpec spec = benchSpec();
    const QStringList names = spec.seriesNames();
    const struct
    {
        int w, h;
        const char *label;
    } sizes[] = { { 800, 300, "800x300" }, { 1200, 400, "1200x400" }, { 1920, 600, "1920x600" } };
    const struct
    {
        qint64 ms;
        const char *label;
    } windows[] = { { kDayMs, "24 h" }, { 3600 * 1000, "1 h" } };

    for (const auto &size : sizes) {
        TimeSeriesChart chart(store, spec);
        chart.resize(size.w, size.h);
        chart.show();
        if (!QTest::qWaitForWindowExposed(&chart))
            return 1;
        for (const auto &window : windows) {
            chart.setWindowMs(window.ms);
            chart.refreshNow();
            chart.plot()->replot(QCustomPlot::rpImmediateRefresh);
            QCustomPlot *plot = chart.plot();
            const int buckets = plot->axisRect()->width();
            const Stats replotOnly =
                measure([&] { plot->replot(QCustomPlot::rpImmediateRefresh); });
            const Stats queryOnly = measure([&] {
                const qint64 to = chart.shownToMs() + 1;
                const auto b = store.queryMany(names, chart.shownFromMs(), to, buckets);
                const ChartFrame frame = buildChartFrame(spec, b, chart.shownFromMs(), to);
                if (frame.series.isEmpty())
                    std::abort();
            });
            const Stats full = measure([&] {
                chart.refreshNow();
                plot->replot(QCustomPlot::rpImmediateRefresh);
            });
            row(size.label, window.label, "replot only (baseline)", replotOnly, replotOnly);
            row(size.label, window.label, "query + frame only", queryOnly, replotOnly);
            row(size.label, window.label, "**full: re-query + replot**", full, replotOnly);
        }
    }
    return 0;
}
