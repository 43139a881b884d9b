#include "ui/coldstart/coldstartcsv.h"

#include <QStringList>

namespace poolscope::ui {

namespace {

QString field(const QString &value)
{
    if (!value.contains(QLatin1Char(',')) && !value.contains(QLatin1Char('"'))
        && !value.contains(QLatin1Char('\n')) && !value.contains(QLatin1Char('\r')))
        return value;
    QString quoted = value;
    quoted.replace(QLatin1String("\""), QLatin1String("\"\""));
    return QLatin1Char('"') + quoted + QLatin1Char('"');
}

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
                    field(result.label),
                    field(result.displayName),
                    QString::number(i + 1),
                    ms(t.dnsMs),
                    ms(t.tcpMs),
                    ms(t.tlsMs),
                    ms(t.authMs),
                    ms(t.firstQueryMs),
                    ms(t.totalMs),
                    t.ok() ? QStringLiteral("true") : QStringLiteral("false"),
                    field(t.failedPhase),
                    t.error ? errorKindName(t.error->kind) : QString(),
                    t.error ? field(t.error->sqlstate) : QString(),
                };
                out += row.join(QLatin1Char(',')).toUtf8() + "\n";
            }
        }
    }
    return out;
}

} // namespace poolscope::ui
