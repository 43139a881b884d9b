#include "ui/loaddemo/loaddemocharts.h"

#include "core/loaddemo/loaddemo.h"
#include "ui/charts/charttracker.h"
#include "ui/charts/timeserieschart.h"

#include <QGridLayout>
#include <QImage>
#include <QPainter>
#include <qcustomplot.h>

namespace poolscope::ui {

namespace {

ChartSeriesSpec line(const QString &name, const QString &label, QColor color, bool right = false)
{
    return { name, label, color, SeriesStyle::Line, right };
}

ChartSeriesSpec stacked(const QString &name, const QString &label, QColor color)
{
    return { name, label, color, SeriesStyle::StackedArea, false };
}

QList<ChartSpec> specs()
{
    namespace s = loaddemoseries;
    const QColor red(0xc6, 0x28, 0x28);
    const QColor green(0x2e, 0x7d, 0x32);
    const QColor blue(0x15, 0x65, 0xc0);
    const QColor orange(0xef, 0x6c, 0x00);
    const QColor purple(0x6a, 0x1b, 0x9a);
    const QColor grey(0x75, 0x75, 0x75);
    return {
        { QObject::tr("Server connections against the limit"),
          QObject::tr("connections"),
          {},
          { line(s::ServerConnections, QObject::tr("server connections"), blue),
            { s::ServerLimit, QObject::tr("limit"), QColor(0xb0, 0x00, 0x20), SeriesStyle::Limit,
              false },
            line(s::ClientConnections, QObject::tr("client connections"), grey) } },
        { QObject::tr("Request latency"),
          QObject::tr("ms"),
          {},
          { line(s::LatencyP50, QObject::tr("p50"), green),
            line(s::LatencyP95, QObject::tr("p95"), orange),
            line(s::LatencyP99, QObject::tr("p99"), red) } },
        { QObject::tr("Acquire wait"),
          QObject::tr("ms"),
          QObject::tr("requests"),
          { line(s::AcquireWaitP95, QObject::tr("acquire wait p95"), purple),
            line(s::InFlight, QObject::tr("in flight"), grey, true) } },
        { QObject::tr("Errors per second by class"),
          QObject::tr("errors/s"),
          {},
          { stacked(s::ErrorsTooManyConnections, QObject::tr("53300 too many"), red),
            stacked(s::ErrorsAcquireTimeout, QObject::tr("acquire timeout"), orange),
            stacked(s::ErrorsPooler, QObject::tr("pooler"), purple),
            stacked(s::ErrorsOther, QObject::tr("other"), grey) } },
        { QObject::tr("Pooler"),
          QObject::tr("connections"),
          {},
          { line(s::PoolerClientsWaiting, QObject::tr("cl_waiting"), red),
            line(s::PoolerServersActive, QObject::tr("sv_active"), green) } },
        { QObject::tr("Completed requests"),
          QObject::tr("requests/s"),
          {},
          { line(s::CompletedPerSecond, QObject::tr("completed/s"), blue) } },
    };
}

} // namespace

LoadDemoCharts::LoadDemoCharts(const TimeSeriesStore &store, QWidget *parent)
    : QWidget(parent)
{
    auto *grid = new QGridLayout(this);
    grid->setContentsMargins(0, 0, 0, 0);
    const QList<ChartSpec> all = specs();
    for (qsizetype i = 0; i < all.size(); ++i) {
        auto *chart = new TimeSeriesChart(store, all.at(i), this);
        chart->plot()->setObjectName(QStringLiteral("loadDemoChart%1").arg(i));
        chart->setMinimumSize(280, 180);
        grid->addWidget(chart, int(i / 2), int(i % 2));
        m_charts.append(chart);
    }
    grid->setColumnStretch(0, 1);
    grid->setColumnStretch(1, 1);
    // One time axis for all: a zoom or drag on one moves the others.
    for (TimeSeriesChart *chart : std::as_const(m_charts)) {
        connect(chart, &TimeSeriesChart::userRangeChanged, this,
                [this, chart](qint64 fromMs, qint64 toMs) {
                    for (TimeSeriesChart *other : std::as_const(m_charts)) {
                        if (other != chart)
                            other->showRange(fromMs, toMs);
                    }
                });
    }
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    showAll(now - TimeSeriesChart::kMinSpanMs, now);
}

void LoadDemoCharts::showAll(qint64 fromMs, qint64 toMs)
{
    m_fromMs = fromMs;
    m_toMs = std::max(toMs, fromMs + TimeSeriesChart::kMinSpanMs);
    for (TimeSeriesChart *chart : std::as_const(m_charts))
        chart->showRange(m_fromMs, m_toMs);
}

void LoadDemoCharts::beginDemo(qint64 startMs, qint64 expectedEndMs)
{
    for (QCPAbstractItem *item : std::as_const(m_markers))
        item->parentPlot()->removeItem(item);
    m_markers.clear();
    showAll(startMs - 500, expectedEndMs);
}

void LoadDemoCharts::markRun(qint64 tMs, const QString &label)
{
    const double x = double(tMs) / 1000.0;
    for (TimeSeriesChart *chart : std::as_const(m_charts)) {
        QCustomPlot *plot = chart->plot();
        auto *rule = new QCPItemStraightLine(plot);
        rule->setPen(QPen(palette().color(QPalette::WindowText), 1, Qt::DotLine));
        rule->point1->setCoords(x, 0);
        rule->point2->setCoords(x, 1);
        auto *text = new QCPItemText(plot);
        text->position->setTypeX(QCPItemPosition::ptPlotCoords);
        text->position->setTypeY(QCPItemPosition::ptAxisRectRatio);
        text->position->setCoords(x, 0.02);
        text->setPositionAlignment(Qt::AlignLeft | Qt::AlignTop);
        text->setPadding(QMargins(3, 0, 0, 0));
        text->setText(label);
        text->setColor(palette().color(QPalette::WindowText));
        text->setClipToAxisRect(true);
        m_markers << rule << text;
        plot->replot(QCustomPlot::rpQueuedReplot);
    }
}

void LoadDemoCharts::noteNewData(qint64 tMs)
{
    if (tMs + 500 > m_toMs) {
        // Longer than expected (drain, settling between targets): widen, keep the start.
        showAll(m_fromMs, tMs + 2000);
        return;
    }
    for (TimeSeriesChart *chart : std::as_const(m_charts))
        chart->noteNewData(tMs);
}

void LoadDemoCharts::finishDemo(qint64 lastMs)
{
    showAll(m_fromMs, lastMs + 500);
}

void LoadDemoCharts::showSpan(qint64 fromMs, qint64 toMs)
{
    showAll(fromMs - 500, toMs + 500);
}

int LoadDemoCharts::pointCount() const
{
    int points = 0;
    for (TimeSeriesChart *chart : m_charts) {
        for (int g = 0; g < chart->plot()->graphCount(); ++g)
            points += chart->plot()->graph(g)->dataCount();
    }
    return points;
}

bool LoadDemoCharts::exportPng(const QString &path, QString *error)
{
    // Redraw each plot now (their replots are queued) so the image shows the current data.
    for (TimeSeriesChart *chart : std::as_const(m_charts)) {
        chart->refreshNow();
        chart->tracker()->hide();
        chart->plot()->replot(QCustomPlot::rpImmediateRefresh);
    }
    const QImage image = grab().toImage();
    if (!image.isNull() && image.save(path, "PNG"))
        return true;
    if (error)
        *error = tr("Could not write the PNG file %1.").arg(path);
    return false;
}

} // namespace poolscope::ui
