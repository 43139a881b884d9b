#include "ui/sizing/sizingchart.h"

#include "ui/charts/plotpalette.h"

#include <QEvent>
#include <QVBoxLayout>
#include <qcustomplot.h>

#include <algorithm>

namespace poolscope::ui {

namespace {

QPen linePen(const QColor &color, Qt::PenStyle style)
{
    QPen pen(color, 1);
    pen.setStyle(style);
    return pen;
}

void setLine(QCPGraph *graph, double x0, double x1, double y)
{
    graph->setData(QVector<double> { x0, x1 }, QVector<double> { y, y }, true);
}

} // namespace

SizingChart::SizingChart(QWidget *parent)
    : QWidget(parent)
    , m_plot(new QCustomPlot(this))
{
    m_plot->setObjectName(QStringLiteral("sizingPlot"));
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_plot);
    setMinimumSize(320, 220);

    m_plot->plotLayout()->insertRow(0);
    QFont titleFont = font();
    titleFont.setBold(true);
    m_plot->plotLayout()->addElement(
        0, 0, new QCPTextElement(m_plot, tr("Worst-case demand by instance count"), titleFont));
    m_plot->xAxis->setLabel(tr("concurrent instances"));
    m_plot->yAxis->setLabel(tr("connections"));

    m_demand = m_plot->addGraph();
    m_demand->setName(tr("demand: instances × pool max + others"));
    m_demand->setPen(QPen(QColor(0x29, 0x80, 0xb9), 2));
    m_current = m_plot->addGraph();
    m_current->setName(tr("your instance count"));
    m_current->setLineStyle(QCPGraph::lsNone);
    m_current->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, 9));
    m_current->setPen(QPen(QColor(0x29, 0x80, 0xb9), 2));
    m_direct = m_plot->addGraph();
    m_direct->setName(tr("direct limit (available to pools)"));
    m_direct->setPen(linePen(QColor(0xc0, 0x39, 0x2b), Qt::DashLine));
    m_poolerServers = m_plot->addGraph();
    m_poolerServers->setName(tr("pooled: server pool per user/db"));
    m_poolerServers->setPen(linePen(QColor(0x8e, 0x44, 0xad), Qt::DashDotLine));
    m_poolerClients = m_plot->addGraph();
    m_poolerClients->setName(tr("pooled: pooler client limit"));
    m_poolerClients->setPen(linePen(QColor(0x27, 0xae, 0x60), Qt::DashLine));
    m_peak = m_plot->addGraph();
    m_peak->setName(tr("live peak, last hour"));
    m_peak->setLineStyle(QCPGraph::lsNone);
    m_peak->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDiamond, 11));
    m_peak->setPen(QPen(QColor(0xe6, 0x7e, 0x22), 2));

    QCPLegend *legend = m_plot->legend;
    legend->setVisible(true);
    m_plot->axisRect()->insetLayout()->take(legend);
    m_plot->axisRect()->insetLayout()->simplify();
    m_plot->plotLayout()->addElement(2, 0, legend);
    m_plot->plotLayout()->setRowStretchFactor(2, 0.001);
    legend->setWrap(3);
    legend->setFillOrder(QCPLegend::foColumnsFirst, true);
    legend->setBorderPen(Qt::NoPen);
    QFont legendFont = font();
    legendFont.setPointSizeF(legendFont.pointSizeF() * 0.85);
    legend->setFont(legendFont);
    applyPalette();
}

SizingChart::~SizingChart() = default;

void SizingChart::changeEvent(QEvent *event)
{
    if (event->type() == QEvent::PaletteChange) {
        applyPalette();
        m_plot->replot(QCustomPlot::rpQueuedReplot);
    }
    QWidget::changeEvent(event);
}

void SizingChart::applyPalette()
{
    applyPaletteToPlot(m_plot, palette());
}

void SizingChart::setData(const Data &d)
{
    // x from 0 to well past both the input and the break-even point, so the crossing shows.
    const int upper =
        std::clamp(std::max({ d.instances * 2, d.maxSafeInstances + 2, 10 }), 10, 100'000);
    const int steps = std::min(upper, 400);
    QVector<double> keys, values;
    keys.reserve(steps + 1);
    values.reserve(steps + 1);
    for (int i = 0; i <= steps; ++i) {
        const double k = double(upper) * i / steps;
        keys.append(k);
        values.append(k * d.poolMax + d.otherClients);
    }
    m_demand->setData(keys, values, true);
    const double currentDemand = double(d.instances) * d.poolMax + d.otherClients;
    m_current->setData(QVector<double> { double(d.instances) }, QVector<double> { currentDemand },
                       true);

    setLine(m_direct, 0, upper, d.available);
    setLine(m_poolerServers, 0, upper, d.poolerServerPool);
    setLine(m_poolerClients, 0, upper, d.poolerClients);
    // Pooled lines solid-ish when the pooler is on, faint when it is only the alternative.
    for (QCPGraph *g : { m_poolerServers, m_poolerClients }) {
        QPen pen = g->pen();
        QColor c = pen.color();
        c.setAlpha(d.pooled ? 255 : 110);
        pen.setColor(c);
        g->setPen(pen);
    }
    if (d.livePeak)
        m_peak->setData(QVector<double> { double(d.instances) }, QVector<double> { *d.livePeak },
                        true);
    else
        m_peak->data()->clear();

    m_plot->xAxis->setRange(0, upper);
    // The pooler's 10,000 clients would flatten everything else: the y axis covers it only when
    // the pooler is on (or the demand gets there anyway).
    double top = std::max({ currentDemand, double(d.available), double(d.poolerServerPool),
                            d.livePeak.value_or(0.0), 1.0 });
    if (d.pooled)
        top = std::max(top, double(d.poolerClients));
    m_plot->yAxis->setRange(0, top * 1.15);
    m_plot->replot(QCustomPlot::rpQueuedReplot);
}

} // namespace poolscope::ui
