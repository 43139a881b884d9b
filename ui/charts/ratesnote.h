#pragma once

#include <QLabel>

namespace poolscope {
class MonitorSession;
struct ActivitySample;
struct PoolerSample;
} // namespace poolscope

namespace poolscope::ui {

class TimeSeriesChart;

// The Rates chart's source line and "pending" note, shown under the chart, and the choice of
// which of its series are drawn. Once PgBouncer's console has answered, transactions/s and
// queries/s are PgBouncer's SHOW STATS counters (exact) with the average client wait on the
// right axis; before that, or without a console, transactions/s is the server's trailing average
// of pg_stat_database, which PostgreSQL flushes up to 60 s late. While there is no value the note
// says why ("pending"), so a missing line is never read as "traffic stopped".
//
// The chart's spec must hold the series of ratesChartSpec(). GUI thread only.
class RatesNote : public QLabel
{
    Q_OBJECT

public:
    RatesNote(MonitorSession *session, TimeSeriesChart *chart);

    bool fromPooler() const { return m_fromPooler; }
    bool pending() const { return m_pending; }

private:
    void onSampled(const ActivitySample &sample);
    void onPoolerSampled(const PoolerSample &sample);
    void showSource(bool pooler);
    void refreshText();

    TimeSeriesChart *m_chart;
    bool m_fromPooler = false;
    bool m_pending = true;
    QString m_serverPending;    // why the server's rate has no value, empty when it has one
    bool m_poolerRated = false; // the latest console sample had rates
    bool m_poolerLost = false;  // the console stopped answering and has not answered since
    double m_windowSeconds = 60;
};

} // namespace poolscope::ui
