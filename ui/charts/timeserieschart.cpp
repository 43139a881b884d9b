#include "ui/charts/timeserieschart.h"

#include "ui/charts/chartcsv.h"
#include "ui/charts/chartdata.h"
#include "ui/charts/charttracker.h"
#include "ui/charts/plotpalette.h"

#include <QDateTime>
#include <QEvent>
#include <QSaveFile>
#include <QVBoxLayout>
#include <qcustomplot.h>

#include <algorithm>

namespace poolscope::ui {

namespace {

QPen seriesPen(const ChartSeriesSpec &spec)
{
    // Width 1 on purpose: Qt's raster engine draws thin pens with its fast cosmetic stroker,
    // while any other width goes through the generic stroker, which costs 100+ ms per replot on
    // a 24 h min/max line (one vertical stroke per pixel column).
    QPen pen(spec.color, 1);
    if (spec.style == SeriesStyle::Limit)
        pen.setStyle(Qt::DashLine);
    return pen;
}

QColor lightened(const QColor &c)
{
    const auto mix = [](int v) {
        return v + (255 - v) * 55 / 100;
    };
    return QColor(mix(c.red()), mix(c.green()), mix(c.blue()));
}

QCPRange valueRange(double min, double max)
{
    // Counts start at 0: a chart that zooms its y axis onto 40..42 makes noise look like trouble.
    const double upper = max > 0 ? max * 1.08 : 1.0;
    return QCPRange(std::min(0.0, min * 1.08), upper);
}

} // namespace

TimeSeriesChart::TimeSeriesChart(const TimeSeriesStore &store, const ChartSpec &spec,
                                 QWidget *parent)
    : QWidget(parent)
    , m_store(store)
    , m_spec(spec)
    , m_names(spec.seriesNames())
    , m_plot(new QCustomPlot(this))
{
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_plot);
    setMinimumSize(320, 200);

    m_plot->plotLayout()->insertRow(0);
    QFont titleFont = font();
    titleFont.setBold(true);
    m_plot->plotLayout()->addElement(0, 0, new QCPTextElement(m_plot, m_spec.title, titleFont));

    m_ticker.reset(new QCPAxisTickerDateTime);
    m_ticker->setDateTimeSpec(Qt::LocalTime);
    m_plot->xAxis->setTicker(m_ticker);
    m_plot->yAxis->setLabel(m_spec.yLabel);
    m_plot->yAxis2->setLabel(m_spec.y2Label);
    m_plot->setNoAntialiasingOnDrag(true);
    m_plot->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
    m_plot->axisRect()->setRangeDrag(Qt::Horizontal);
    m_plot->axisRect()->setRangeZoom(Qt::Horizontal);
    m_plot->axisRect()->setRangeDragAxes(m_plot->xAxis, nullptr);
    m_plot->axisRect()->setRangeZoomAxes(m_plot->xAxis, nullptr);
    buildGraphs();
    applyPalette();
    m_tracker = new ChartTracker(m_plot, m_spec);

    connect(m_plot->xAxis, qOverload<const QCPRange &>(&QCPAxis::rangeChanged), this,
            &TimeSeriesChart::onAxisRangeChanged);
    m_refreshTimer.setSingleShot(true);
    m_refreshTimer.setInterval(kRefreshDelayMs);
    connect(&m_refreshTimer, &QTimer::timeout, this, &TimeSeriesChart::refreshNow);

    m_nowMs = newestInStore();
    if (m_nowMs == 0)
        m_nowMs = QDateTime::currentMSecsSinceEpoch();
    applyRange(m_nowMs - m_windowMs, m_nowMs);
    requestRefresh();
}

TimeSeriesChart::~TimeSeriesChart() = default;

void TimeSeriesChart::changeEvent(QEvent *event)
{
    if (event->type() == QEvent::PaletteChange) {
        applyPalette();
        m_plot->replot(QCustomPlot::rpQueuedReplot);
    }
    QWidget::changeEvent(event);
}

void TimeSeriesChart::applyPalette()
{
    applyPaletteToPlot(m_plot, palette());
}

void TimeSeriesChart::buildGraphs()
{
    bool anyRight = false;
    QCPGraph *stackBelow[2] = { nullptr, nullptr };
    for (const ChartSeriesSpec &s : m_spec.series) {
        QCPAxis *valueAxis = s.rightAxis ? m_plot->yAxis2 : m_plot->yAxis;
        anyRight = anyRight || s.rightAxis;
        QCPGraph *g = m_plot->addGraph(m_plot->xAxis, valueAxis);
        g->setName(s.label);
        g->setPen(seriesPen(s));
        if (s.style == SeriesStyle::StackedArea) {
            // Opaque, unantialiased fills: the raster engine fills those spans with its fast
            // solid path, 2-3x cheaper than blended antialiased polygons (bench_chart_replot);
            // the antialiased outline drawn on top hides the jagged edge.
            g->setBrush(lightened(s.color));
            g->setAntialiasedFill(false);
            // The bottom layer fills down to 0; each next one only the band above its neighbour.
            g->setChannelFillGraph(stackBelow[s.rightAxis]);
            stackBelow[s.rightAxis] = g;
        }
        m_graphs.append(g);
    }
    m_plot->yAxis2->setVisible(anyRight);
    // The legend goes below the axis rect, in rows: inside it would hide the newest data.
    QCPLegend *legend = m_plot->legend;
    legend->setVisible(true);
    m_plot->axisRect()->insetLayout()->take(legend);
    m_plot->axisRect()->insetLayout()->simplify();
    m_plot->plotLayout()->addElement(2, 0, legend);
    m_plot->plotLayout()->setRowStretchFactor(2, 0.001);
    legend->setWrap(3);
    legend->setFillOrder(QCPLegend::foColumnsFirst, true); // true: re-flow the existing items
    legend->setBorderPen(Qt::NoPen);
    legend->setMargins(QMargins(4, 0, 4, 2));
    QFont legendFont = font();
    legendFont.setPointSizeF(legendFont.pointSizeF() * 0.85);
    legend->setFont(legendFont);
}

QCPGraph *TimeSeriesChart::graph(int seriesIndex) const
{
    return m_graphs.value(seriesIndex, nullptr);
}

void TimeSeriesChart::setWindowMs(qint64 windowMs)
{
    m_windowMs = std::clamp(windowMs, kMinSpanMs, kMaxSpanMs);
    // Paused: keep the right edge the user chose and show the new width before it.
    const qint64 to = m_live ? m_nowMs : m_toMs;
    applyRange(to - m_windowMs, to);
    requestRefresh();
}

void TimeSeriesChart::setLive(bool live)
{
    if (live == m_live)
        return;
    m_live = live;
    if (m_live) {
        applyRange(m_nowMs - m_windowMs, m_nowMs);
        requestRefresh();
    }
    Q_EMIT liveChanged(m_live);
}

void TimeSeriesChart::showRange(qint64 fromMs, qint64 toMs)
{
    applyRange(fromMs, toMs);
    if (m_live) {
        m_live = false;
        Q_EMIT liveChanged(false);
    }
    requestRefresh();
}

void TimeSeriesChart::noteNewData(qint64 newestMs)
{
    m_nowMs = std::max(m_nowMs, newestMs);
    if (m_live || (newestMs >= m_fromMs && newestMs <= m_toMs))
        requestRefresh();
}

void TimeSeriesChart::requestRefresh()
{
    if (!m_refreshTimer.isActive())
        m_refreshTimer.start();
}

void TimeSeriesChart::refreshNow()
{
    m_refreshTimer.stop();
    if (m_live)
        applyRange(m_nowMs - m_windowMs, m_nowMs);
    // +1: the newest tick sits exactly on the right edge, and buckets exclude their end.
    const qint64 to = m_toMs + 1;
    const QList<QList<Bucket>> buckets = m_store.queryMany(m_names, m_fromMs, to, bucketCount());
    const ChartFrame frame = buildChartFrame(m_spec, buckets, m_fromMs, to);
    for (qsizetype s = 0; s < m_graphs.size(); ++s)
        m_graphs[s]->setData(frame.series[s].keys, frame.series[s].values, true);
    m_plot->yAxis->setRange(valueRange(frame.leftMin, frame.leftMax));
    m_plot->yAxis2->setRange(valueRange(frame.rightMin, frame.rightMax));
    m_tracker->setBuckets(buckets, m_fromMs, to);
    ++m_queryCount;
    m_plot->replot(QCustomPlot::rpQueuedReplot);
}

void TimeSeriesChart::applyRange(qint64 fromMs, qint64 toMs)
{
    m_fromMs = fromMs;
    m_toMs = toMs;
    m_applyingRange = true;
    m_plot->xAxis->setRange(double(fromMs) / 1000.0, double(toMs) / 1000.0);
    m_applyingRange = false;
    updateTickFormat();
}

void TimeSeriesChart::onAxisRangeChanged(const QCPRange &range)
{
    if (m_applyingRange)
        return;
    // A drag or a wheel zoom: the user looks at a moment, so stop following "now".
    qint64 from = qint64(range.lower * 1000.0);
    qint64 to = qint64(range.upper * 1000.0);
    const qint64 span = std::clamp(to - from, kMinSpanMs, kMaxSpanMs);
    if (span != to - from) {
        const qint64 centre = from + (to - from) / 2;
        from = centre - span / 2;
        to = from + span;
    }
    showRange(from, to);
    Q_EMIT userRangeChanged(from, to);
}

void TimeSeriesChart::updateTickFormat()
{
    const qint64 span = m_toMs - m_fromMs;
    if (span <= 15 * 60 * 1000)
        m_ticker->setDateTimeFormat(QStringLiteral("hh:mm:ss"));
    else if (span <= 12LL * 3600 * 1000)
        m_ticker->setDateTimeFormat(QStringLiteral("hh:mm"));
    else
        m_ticker->setDateTimeFormat(QStringLiteral("ddd hh:mm"));
}

int TimeSeriesChart::bucketCount() const
{
    // One bucket per pixel column; before the first layout the axis rect has no width yet.
    int width = m_plot->axisRect()->width();
    if (width < 16)
        width = std::max(m_plot->width() - 80, 800);
    return std::clamp(width, 16, 4096);
}

qint64 TimeSeriesChart::newestInStore() const
{
    qint64 newest = 0;
    for (const QString &name : m_names) {
        if (const std::optional<TimePoint> p = m_store.latest(name))
            newest = std::max(newest, p->tMs);
    }
    return newest;
}

bool TimeSeriesChart::exportPng(const QString &path, QString *error)
{
    m_tracker->hide();
    if (m_plot->savePng(path, m_plot->width(), m_plot->height()))
        return true;
    if (error)
        *error = tr("Could not write the PNG file %1.").arg(path);
    return false;
}

bool TimeSeriesChart::exportPdf(const QString &path, QString *error)
{
    m_tracker->hide();
    if (m_plot->savePdf(path, m_plot->width(), m_plot->height(), QCP::epNoCosmetic,
                        QStringLiteral("PoolScope"), m_spec.title))
        return true;
    if (error)
        *error = tr("Could not write the PDF file %1.").arg(path);
    return false;
}

bool TimeSeriesChart::exportCsv(const QString &path, QString *error) const
{
    const QByteArray csv = pointsToCsv(m_names, m_store.rawMany(m_names, m_fromMs, m_toMs + 1));
    QSaveFile file(path);
    if (file.open(QIODevice::WriteOnly) && file.write(csv) == csv.size() && file.commit())
        return true;
    if (error)
        *error = tr("Could not write the CSV file %1: %2").arg(path, file.errorString());
    return false;
}

} // namespace poolscope::ui
