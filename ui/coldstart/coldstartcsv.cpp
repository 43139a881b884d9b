#include "ui/coldstart/coldstartcsv.h"

#include "core/util/csv.h"

#include <QStringList>

namespace poolscope::ui {

namespace {

QString ms(double value)
{
    return QString::number(value, 'f', 3);
}

} // namespace

QByteArray coldStartRunsToCsv(const QList<ColdStartRun> &runs)
{
    QByteArray out = "run_id,started_at,target,endpoint,trial,dns_ms,tcp_ms,tls_ms,auth_ms,"
                     "first_query_ms,total_ms,ok,failed_phase,error_kind,sqlstate\n";
    for (const ColdStartRun &run : runs) {
        const QString started = run.startedAt.toUTC().toString(Qt::ISODateWithMs);
        for (const ColdStartTargetResult &result : run.results) {
            for (int i = 0; i < result.report.trials.size(); ++i) {
                const ColdStartTrial &t = result.report.trials.at(i);
                const QStringList row {
                    QString::number(run.id),
                    started,
                    csvField(result.label),
                    csvField(result.displayName),
                    QString::number(i + 1),
                    ms(t.dnsMs),
                    ms(t.tcpMs),
                    ms(t.tlsMs),
                    ms(t.authMs),
                    ms(t.firstQueryMs),
                    ms(t.totalMs),
                    t.ok() ? QStringLiteral("true") : QStringLiteral("false"),
                    csvField(t.failedPhase),
                    t.error ? errorKindName(t.error->kind) : QString(),
                    t.error ? csvField(t.error->sqlstate) : QString(),
                };
                out += row.join(QLatin1Char(',')).toUtf8() + "\n";
            }
        }
    }
    return out;
}

} // namespace poolscope::ui
