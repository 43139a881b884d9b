#pragma once

#include "core/timeseries/timeseriesstore.h"

#include <QList>
#include <QWidget>

class QCPAbstractItem;

namespace poolscope::ui {

class TimeSeriesChart;

// The Load demo's live charts: the dashboard's TimeSeriesChart over the page's own store, which
// the core fills under the loaddemoseries names (one point per snapshot, a gap at each run's
// start). Six charts: server connections against the limit (and the instances' client
// connections), request latency p50/p95/p99, acquire wait p95 with requests in flight, errors
// per second by class, the pooler's cl_waiting/sv_active, and completed requests per second.
//
// The time axis covers one demo: beginDemo() fixes it to the expected span, which fills from
// the left as snapshots arrive and grows if the demo runs longer; each run (target) gets a
// labelled vertical marker. Zooming or dragging one chart moves the others with it. GUI thread.
class LoadDemoCharts : public QWidget
{
    Q_OBJECT

public:
    enum ChartId { Connections, Latency, AcquireWait, Errors, Pooler, Throughput, ChartCount };

    explicit LoadDemoCharts(const TimeSeriesStore &store, QWidget *parent = nullptr);

    TimeSeriesChart *chart(ChartId id) const { return m_charts.at(id); }
    const QList<TimeSeriesChart *> &charts() const { return m_charts; }

    void beginDemo(qint64 startMs, qint64 expectedEndMs); // clears the run markers
    void markRun(qint64 tMs, const QString &label);
    void noteNewData(qint64 tMs);
    void finishDemo(qint64 lastMs);
    void showSpan(qint64 fromMs, qint64 toMs); // e.g. a run chosen in the table
    int markerCount() const { return int(m_markers.size()); }
    int pointCount() const; // data points drawn over every chart (after refreshNow)

    // All six charts in one image, as shown; false with a readable message on failure.
    bool exportPng(const QString &path, QString *error = nullptr);

private:
    void showAll(qint64 fromMs, qint64 toMs);

    QList<TimeSeriesChart *> m_charts;
    QList<QCPAbstractItem *> m_markers;
    qint64 m_fromMs = 0;
    qint64 m_toMs = 0;
};

} // namespace poolscope::ui
