#include "ui/coldstart/coldstartchart.h"

#include "ui/charts/plotpalette.h"

#include <QEvent>
#include <QFileInfo>
#include <QFontMetrics>
#include <QResizeEvent>
#include <QVBoxLayout>
#include <qcustomplot.h>

#include <algorithm>
#include <cmath>

namespace poolscope::ui {

namespace {

// One empty key between groups keeps "direct" and "pooled" visually apart.
constexpr double GroupGap = 1;

QColor segmentColor(int segment)
{
    switch (segment) {
    case ColdStartChart::Dns:
        return QColor(0x95, 0xa5, 0xa6);
    case ColdStartChart::Tcp:
        return QColor(0x34, 0x98, 0xdb);
    case ColdStartChart::Tls:
        return QColor(0x9b, 0x59, 0xb6);
    case ColdStartChart::Auth:
        return QColor(0xf3, 0x9c, 0x12);
    case ColdStartChart::FirstQuery:
        return QColor(0x27, 0xae, 0x60);
    default:
        return QColor(0xc0, 0x39, 0x2b);
    }
}

int failedSegment(const QString &phase)
{
    if (phase == QLatin1String("dns"))
        return ColdStartChart::Dns;
    if (phase == QLatin1String("tcp"))
        return ColdStartChart::Tcp;
    if (phase == QLatin1String("tls"))
        return ColdStartChart::Tls;
    if (phase == QLatin1String("auth"))
        return ColdStartChart::Auth;
    if (phase == QLatin1String("first_query"))
        return ColdStartChart::FirstQuery;
    return -1; // e.g. a failed warm query: the connection's phases all completed
}

} // namespace

ColdStartChart::ColdStartChart(QWidget *parent)
    : QWidget(parent)
    , m_plot(new QCustomPlot(this))
{
    m_plot->setObjectName(QStringLiteral("coldStartPlot"));
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_plot);
    setMinimumSize(360, 220);

    m_plot->plotLayout()->insertRow(0);
    QFont titleFont = font();
    titleFont.setBold(true);
    m_plot->plotLayout()->addElement(
        0, 0, new QCPTextElement(m_plot, tr("First connection by phase, per trial"), titleFont));
    m_plot->xAxis->setLabel(tr("ms"));
    m_plot->yAxis->setRangeReversed(true); // trial #1 at the top
    m_plot->yAxis->setTicker(QSharedPointer<QCPAxisTickerText>::create());
    m_plot->yAxis->grid()->setVisible(false);

    const QStringList names { tr("dns"),  tr("tcp"),         tr("tls"),
                              tr("auth"), tr("first query"), tr("failed") };
    for (int s = 0; s < SegmentCount; ++s) {
        auto *bars = new QCPBars(m_plot->yAxis, m_plot->xAxis); // keys on the vertical axis
        bars->setName(names.at(s));
        bars->setWidth(0.7);
        bars->setStackingGap(0);
        const QColor color = segmentColor(s);
        bars->setPen(QPen(color.darker(120)));
        bars->setBrush(color);
        if (!m_bars.isEmpty())
            bars->moveAbove(m_bars.constLast());
        m_bars.append(bars);
    }
    // The legend in a row of its own under the axis, so it never hides a bar.
    m_plot->legend->setVisible(true);
    m_plot->legend->setFillOrder(QCPLegend::foColumnsFirst);
    m_plot->legend->setWrap(SegmentCount);
    m_plot->axisRect()->insetLayout()->take(m_plot->legend);
    m_plot->plotLayout()->addElement(2, 0, m_plot->legend);
    m_plot->plotLayout()->setRowStretchFactor(2, 0.001);
    m_plot->legend->setMargins(QMargins(4, 2, 4, 2));
    applyPalette();
    clear();
}

ColdStartChart::~ColdStartChart() = default;

double ColdStartChart::keyOf(int group, int trial) const
{
    double key = 1;
    for (int g = 0; g < group && g < m_groups.size(); ++g)
        key += m_groups.at(g).trials.size() + GroupGap;
    return key + trial;
}

void ColdStartChart::clear()
{
    setGroups({});
}

void ColdStartChart::setGroups(const QList<Group> &groups)
{
    m_groups = groups;
    QList<QVector<double>> keys(SegmentCount);
    QList<QVector<double>> values(SegmentCount);
    double maxTotal = 0;
    double lastKey = 0;
    for (int g = 0; g < groups.size(); ++g) {
        const Group &group = groups.at(g);
        for (int i = 0; i < group.trials.size(); ++i) {
            const ColdStartTrial &t = group.trials.at(i);
            const double key = keyOf(g, i);
            lastKey = key;
            double parts[FirstQuery + 1] = { t.dnsMs, t.tcpMs, t.tlsMs, t.authMs, t.firstQueryMs };
            double failed = 0;
            const int failing = t.ok() ? -1 : failedSegment(t.failedPhase);
            if (failing >= 0) {
                failed = parts[failing];
                parts[failing] = 0;
            }
            for (int s = 0; s <= FirstQuery; ++s) {
                keys[s].append(key);
                values[s].append(parts[s]);
            }
            keys[Failed].append(key);
            values[Failed].append(failed);
            maxTotal = std::max(maxTotal, t.totalMs);
        }
    }
    for (int s = 0; s < SegmentCount; ++s)
        m_bars.at(s)->setData(keys.at(s), values.at(s), true);
    m_plot->yAxis->setRange(0, std::max(2.0, lastKey + 1));
    m_plot->xAxis->setRange(0, maxTotal > 0 ? maxTotal * 1.08 : 1);
    updateTicks();
    m_plot->replot(QCustomPlot::rpQueuedReplot);
}

void ColdStartChart::updateTicks()
{
    auto ticker = qSharedPointerDynamicCast<QCPAxisTickerText>(m_plot->yAxis->ticker());
    ticker->clear();
    int rows = 0;
    for (const Group &group : std::as_const(m_groups))
        rows += int(group.trials.size()) + 1;
    const int lineHeight = QFontMetrics(m_plot->yAxis->tickLabelFont()).height() + 1;
    const int height = std::max(m_plot->axisRect()->height(), std::max(120, m_plot->height() - 80));
    const int fitting = std::max(1, height / lineHeight);
    // Every step-th trial of each group is labelled (#1 always); failed trials always are.
    const int step = std::max(1, int(std::ceil(double(rows) / fitting)));
    for (int g = 0; g < m_groups.size(); ++g) {
        const Group &group = m_groups.at(g);
        for (int i = 0; i < group.trials.size(); ++i) {
            const ColdStartTrial &t = group.trials.at(i);
            if (t.ok() && i % step != 0)
                continue;
            QString tick = QStringLiteral("%1 #%2").arg(group.label).arg(i + 1);
            if (!t.ok())
                tick += tr(" \u2717 %1").arg(t.failedPhase);
            ticker->addTick(keyOf(g, i), tick);
        }
    }
}

void ColdStartChart::resizeEvent(QResizeEvent *event)
{
    QWidget::resizeEvent(event);
    updateTicks();
    m_plot->replot(QCustomPlot::rpQueuedReplot);
}

bool ColdStartChart::exportPng(const QString &path, QString *error)
{
    // A fixed size independent of the window (offscreen it may be tiny), and never blank.
    const int width = std::max(m_plot->width(), 900);
    const int height = std::max(m_plot->height(), 500);
    if (m_plot->savePng(path, width, height) && QFileInfo(path).size() > 0)
        return true;
    if (error)
        *error = tr("Could not write %1").arg(path);
    return false;
}

void ColdStartChart::changeEvent(QEvent *event)
{
    QWidget::changeEvent(event);
    if (event->type() == QEvent::PaletteChange || event->type() == QEvent::StyleChange)
        applyPalette();
}

void ColdStartChart::applyPalette()
{
    applyPaletteToPlot(m_plot, palette());
    m_plot->replot(QCustomPlot::rpQueuedReplot);
}

} // namespace poolscope::ui
