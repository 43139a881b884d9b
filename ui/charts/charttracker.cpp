#include "ui/charts/charttracker.h"

#include <QDateTime>
#include <QEvent>
#include <QMouseEvent>
#include <qcustomplot.h>

#include <cmath>

namespace poolscope::ui {

namespace {

// A pixel column holds a tick only every few columns at close zoom (1 Hz over 1 min on 1200 px
// is one tick per 20 columns), so the tracker looks for the nearest non-empty bucket.
constexpr qsizetype kSearchRadius = 40;

QString number(double v)
{
    if (std::abs(v) >= 100 || v == std::floor(v))
        return QString::number(v, 'f', 0);
    return QString::number(v, 'f', 2);
}

} // namespace

ChartTracker::ChartTracker(QCustomPlot *plot, const ChartSpec &spec)
    : QObject(plot)
    , m_plot(plot)
    , m_spec(spec)
{
    m_plot->addLayer(QStringLiteral("tracker"), m_plot->layer(QStringLiteral("main")),
                     QCustomPlot::limAbove);
    m_layer = m_plot->layer(QStringLiteral("tracker"));
    m_layer->setMode(QCPLayer::lmBuffered);

    m_line = new QCPItemStraightLine(m_plot);
    m_line->setLayer(m_layer);
    m_line->setPen(QPen(QColor(80, 80, 80, 160), 1, Qt::DashLine));
    m_line->setClipToAxisRect(true);

    m_label = new QCPItemText(m_plot);
    m_label->setLayer(m_layer);
    m_label->position->setType(QCPItemPosition::ptAxisRectRatio);
    m_label->position->setCoords(0.01, 0.02);
    m_label->setPositionAlignment(Qt::AlignLeft | Qt::AlignTop);
    m_label->setTextAlignment(Qt::AlignLeft);
    m_label->setBrush(QColor(255, 255, 255, 220));
    m_label->setPen(QPen(QColor(160, 160, 160)));
    m_label->setPadding(QMargins(4, 2, 4, 2));
    m_line->setVisible(false);
    m_label->setVisible(false);

    m_plot->setMouseTracking(true);
    m_plot->installEventFilter(this);
}

void ChartTracker::setBuckets(const QList<QList<Bucket>> &buckets, qint64 fromMs, qint64 toMs)
{
    m_buckets = buckets;
    m_fromMs = fromMs;
    m_toMs = toMs;
}

QString ChartTracker::valueText(const QList<Bucket> &buckets, qint64 fromMs, qint64 toMs,
                                qint64 atMs, SeriesStyle style)
{
    const qsizetype n = buckets.size();
    if (n == 0 || toMs <= fromMs || atMs < fromMs || atMs >= toMs)
        return QStringLiteral("—");
    // Buckets tile [from, to) evenly, so the index is a division, not a search.
    const qsizetype at = qsizetype(double(atMs - fromMs) * double(n) / double(toMs - fromMs));
    for (qsizetype d = 0; d <= kSearchRadius; ++d) {
        for (const qsizetype i : { at - d, at + d }) {
            if (i < 0 || i >= n)
                continue;
            const Bucket &b = buckets.at(i);
            if (!b.isGap()) {
                if (style == SeriesStyle::StackedArea || b.min == b.max)
                    return number(style == SeriesStyle::StackedArea ? b.mean : b.max);
                return number(b.min) + QStringLiteral("–") + number(b.max);
            }
            if (b.containsGap)
                return QStringLiteral("gap");
        }
    }
    return QStringLiteral("—");
}

void ChartTracker::showAt(double key)
{
    const qint64 atMs = qint64(std::llround(key * 1000.0));
    QString text = QDateTime::fromMSecsSinceEpoch(atMs).toString(QStringLiteral("hh:mm:ss"));
    for (qsizetype s = 0; s < m_spec.series.size(); ++s) {
        const ChartSeriesSpec &spec = m_spec.series.at(s);
        const QList<Bucket> empty;
        const QList<Bucket> &buckets = s < m_buckets.size() ? m_buckets.at(s) : empty;
        text += QLatin1Char('\n') + spec.label + QStringLiteral(": ")
            + valueText(buckets, m_fromMs, m_toMs, atMs, spec.style);
    }
    m_line->point1->setCoords(key, 0);
    m_line->point2->setCoords(key, 1);
    m_label->setText(text);
    m_line->setVisible(true);
    m_label->setVisible(true);
    m_layer->replot();
}

void ChartTracker::hide()
{
    if (!m_line->visible())
        return;
    m_line->setVisible(false);
    m_label->setVisible(false);
    m_layer->replot();
}

bool ChartTracker::isVisible() const
{
    return m_label->visible();
}

QString ChartTracker::text() const
{
    return m_label->text();
}

bool ChartTracker::eventFilter(QObject *watched, QEvent *event)
{
    if (watched == m_plot) {
        if (event->type() == QEvent::MouseMove) {
            const auto *mouse = static_cast<QMouseEvent *>(event);
            const QPointF pos = mouse->position();
            if (m_plot->axisRect()->rect().contains(pos.toPoint())
                && mouse->buttons() == Qt::NoButton)
                showAt(m_plot->xAxis->pixelToCoord(pos.x()));
            else
                hide();
        } else if (event->type() == QEvent::Leave) {
            hide();
        }
    }
    return QObject::eventFilter(watched, event);
}

} // namespace poolscope::ui
