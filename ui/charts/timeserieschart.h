#pragma once

#include "core/timeseries/timeseriesstore.h"
#include "ui/charts/chartspec.h"

#include <QSharedPointer>
#include <QTimer>
#include <QWidget>

class QCustomPlot;
class QCPAxisTickerDateTime;
class QCPGraph;
class QCPRange;

namespace poolscope::ui {

class ChartTracker;

// A live chart of some store series over a time window.
//
// Data flow: the chart pulls from the in-memory store (never the network) with one queryMany()
// per refresh, bucket count ≈ the plot's width in pixels, so a 24 h window costs the same to draw
// as a 1 min one and keeps each column's min/max. Refreshes are coalesced: every trigger (a new
// tick, a window change, a zoom or pan) only arms a single-shot 40 ms timer, so a burst of ticks
// costs one query and one rpQueuedReplot: at most 25 redraws a second whatever the sample rate.
//
// Time: "now" is the newest tick time the chart was told about (noteNewData), i.e. the sampler's
// clock, so a skewed server clock does not push the data off the right edge. Live mode shows
// [now - window, now]; dragging or wheel-zooming the time axis pauses it (liveChanged(false)),
// setLive(true) snaps back.
class TimeSeriesChart : public QWidget
{
    Q_OBJECT

public:
    static constexpr qint64 kMinSpanMs = 10'000;
    static constexpr qint64 kMaxSpanMs = 24LL * 3600 * 1000;
    static constexpr int kRefreshDelayMs = 40;

    TimeSeriesChart(const TimeSeriesStore &store, const ChartSpec &spec, QWidget *parent = nullptr);
    ~TimeSeriesChart() override;

    const ChartSpec &spec() const { return m_spec; }
    QCustomPlot *plot() const { return m_plot; }
    QCPGraph *graph(int seriesIndex) const; // in spec order
    ChartTracker *tracker() const { return m_tracker; }

    qint64 windowMs() const { return m_windowMs; }
    void setWindowMs(qint64 windowMs); // what live mode shows; clamped to [10 s, 24 h]
    bool isLive() const { return m_live; }
    void setLive(bool live);
    // A tick up to newestMs is in the store. Live: follow it. Paused: redraw only if it falls
    // inside the shown range.
    void noteNewData(qint64 newestMs);
    qint64 shownFromMs() const { return m_fromMs; }
    qint64 shownToMs() const { return m_toMs; }
    void showRange(qint64 fromMs, qint64 toMs); // pauses; e.g. to follow a sibling chart's zoom

    void requestRefresh(); // coalesced (see above)
    void refreshNow();     // re-query now and queue a replot (tests, benchmarks)
    int queryCount() const { return m_queryCount; }

    // Exports of what is shown; false with a readable message in *error on failure.
    bool exportPng(const QString &path, QString *error = nullptr);
    bool exportPdf(const QString &path, QString *error = nullptr);
    bool exportCsv(const QString &path, QString *error = nullptr) const; // raw points, not buckets

Q_SIGNALS:
    void liveChanged(bool live);
    void userRangeChanged(qint64 fromMs, qint64 toMs); // the user dragged or zoomed

protected:
    void changeEvent(QEvent *event) override;

private:
    void buildGraphs();
    void applyPalette(); // the widget palette (system light/dark) onto the plot's chrome
    void applyRange(qint64 fromMs, qint64 toMs);
    void onAxisRangeChanged(const QCPRange &range);
    void updateTickFormat();
    int bucketCount() const;
    qint64 newestInStore() const;

    const TimeSeriesStore &m_store;
    ChartSpec m_spec;
    QStringList m_names;
    QCustomPlot *m_plot = nullptr;
    QList<QCPGraph *> m_graphs;
    QSharedPointer<QCPAxisTickerDateTime> m_ticker;
    ChartTracker *m_tracker = nullptr;
    QTimer m_refreshTimer;
    qint64 m_windowMs = 15 * 60 * 1000;
    qint64 m_nowMs = 0;
    qint64 m_fromMs = 0;
    qint64 m_toMs = 0;
    bool m_live = true;
    bool m_applyingRange = false;
    int m_queryCount = 0;
};

} // namespace poolscope::ui
