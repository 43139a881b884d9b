#pragma once

#include "core/timeseries/timeseriesstore.h"
#include "ui/charts/chartspec.h"

#include <QObject>
#include <QString>

class QCustomPlot;
class QCPItemStraightLine;
class QCPItemText;
class QCPLayer;
class QMouseEvent;

namespace poolscope::ui {

// The hover tracker: a vertical line under the mouse and a label with every series' value at
// that time. It lives on its own buffered layer, so following the mouse repaints only that
// layer, not the graphs.
class ChartTracker : public QObject
{
    Q_OBJECT

public:
    ChartTracker(QCustomPlot *plot, const ChartSpec &spec);

    // The buckets the graphs were built from (same order as the spec's series).
    void setBuckets(const QList<QList<Bucket>> &buckets, qint64 fromMs, qint64 toMs);
    void showAt(double key); // seconds since the epoch, as on the x axis
    void hide();
    bool isVisible() const;
    QString text() const; // the label's text, for tests

    // What the label says for one series at a time (bucket value, "min–max", "gap" or "—").
    static QString valueText(const QList<Bucket> &buckets, qint64 fromMs, qint64 toMs, qint64 atMs,
                             SeriesStyle style);

protected:
    bool eventFilter(QObject *watched, QEvent *event) override;

private:
    QCustomPlot *m_plot;
    ChartSpec m_spec;
    QCPLayer *m_layer = nullptr;
    QCPItemStraightLine *m_line = nullptr;
    QCPItemText *m_label = nullptr;
    QList<QList<Bucket>> m_buckets;
    qint64 m_fromMs = 0;
    qint64 m_toMs = 0;
};

} // namespace poolscope::ui
