#include "ui/charts/ratesnote.h"

#include "core/monitor/monitorsession.h"
#include "core/sampler/samplerseries.h"
#include "ui/charts/timeserieschart.h"

#include <QVBoxLayout>
#include <qcustomplot.h>

namespace poolscope::ui {

RatesNote::RatesNote(MonitorSession *session, TimeSeriesChart *chart)
    : QLabel(chart)
    , m_chart(chart)
{
    setWordWrap(true);
    setTextFormat(Qt::RichText);
    setContentsMargins(6, 0, 6, 2);
    // A line or two under the plot; the plot keeps the height.
    setSizePolicy(QSizePolicy::Preferred, QSizePolicy::Maximum);
    if (auto *layout = qobject_cast<QVBoxLayout *>(chart->layout())) {
        layout->addWidget(this, 0);
        layout->setStretch(0, 1);
    }
    connect(session, &MonitorSession::sampled, this, &RatesNote::onSampled);
    connect(session, &MonitorSession::poolerSampled, this, &RatesNote::onPoolerSampled);
    connect(session, &MonitorSession::poolerLost, this, [this] {
        m_poolerLost = true;
        refreshText();
    });
    showSource(false);
    refreshText();
}

void RatesNote::onSampled(const ActivitySample &sample)
{
    const Rates &r = sample.rates;
    m_windowSeconds = r.windowSeconds > 0 ? r.windowSeconds : m_windowSeconds;
    switch (r.pending) {
    case Rates::Pending::No:
        m_serverPending.clear();
        break;
    case Rates::Pending::WindowFilling:
        m_serverPending = tr("the %1 s window is filling (%2 s so far)")
                              .arg(m_windowSeconds, 0, 'f', 0)
                              .arg(r.intervalSeconds, 0, 'f', 0);
        break;
    case Rates::Pending::NotFlushed:
        m_serverPending = r.seenAtLeastPerSecond > 0
            ? tr("pg_stat_activity saw at least %1 transactions/s end in the last %2 s, but "
                 "PostgreSQL has not flushed their counts yet")
                  .arg(r.seenAtLeastPerSecond, 0, 'f', 1)
                  .arg(m_windowSeconds, 0, 'f', 0)
            : tr("no commit reported in the last %1 s although backends were busy: PostgreSQL "
                 "has not flushed their counts yet")
                  .arg(m_windowSeconds, 0, 'f', 0);
        break;
    }
    refreshText();
}

void RatesNote::onPoolerSampled(const PoolerSample &sample)
{
    m_poolerRated = sample.stats.ratesValid;
    m_poolerLost = false;
    if (!m_fromPooler)
        showSource(true);
    refreshText();
}

void RatesNote::showSource(bool pooler)
{
    m_fromPooler = pooler;
    const QStringList poolerSeries = { series::PoolerTransactionsPerSecond,
                                       series::PoolerQueriesPerSecond, series::PoolerAvgWait };
    const QList<ChartSeriesSpec> &specs = m_chart->spec().series;
    // Out of the legend first, then back in the spec's order.
    for (qsizetype i = 0; i < specs.size(); ++i) {
        if (QCPGraph *g = m_chart->graph(int(i)))
            g->removeFromLegend();
    }
    for (qsizetype i = 0; i < specs.size(); ++i) {
        QCPGraph *g = m_chart->graph(int(i));
        if (!g)
            continue;
        bool shown = true;
        if (poolerSeries.contains(specs.at(i).name))
            shown = pooler;
        else if (specs.at(i).name == series::TransactionsPerSecond)
            shown = !pooler;
        g->setVisible(shown);
        if (shown)
            g->addToLegend();
    }
    // The right axis is the client wait's, which only PgBouncer has.
    m_chart->plot()->yAxis2->setVisible(pooler);
    m_chart->requestRefresh();
}

void RatesNote::refreshText()
{
    const QString window = QString::number(m_windowSeconds, 'f', 0);
    QString text;
    if (m_fromPooler) {
        text = tr("transactions/s and queries/s: PgBouncer SHOW STATS, exact; new sessions/s: "
                  "server-reported, %1 s trailing average")
                   .arg(window);
        m_pending = !m_poolerRated || m_poolerLost;
        if (m_poolerLost)
            text += tr("<br><b>no value</b>: PgBouncer's console does not answer");
        else if (m_pending)
            text += tr("<br><b>pending</b>: transactions/s needs a second console sample");
    } else {
        text = tr("server-reported (pg_stat_database), %1 s trailing average (PostgreSQL flushes "
                  "statistics up to 60 s late)")
                   .arg(window);
        m_pending = !m_serverPending.isEmpty();
        if (m_pending)
            text +=
                tr("<br><b>transactions/s pending</b>: %1").arg(m_serverPending.toHtmlEscaped());
    }
    setText(text);
    setToolTip(tr("Between two samples PostgreSQL's counters are mostly noise: a backend flushes "
                  "them at most once a second, skips the flush while the entry is locked, and is "
                  "forced to flush only after 60 s. PgBouncer counts each transaction when it "
                  "ends."));
}

} // namespace poolscope::ui
