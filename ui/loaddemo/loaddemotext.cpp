#include "ui/loaddemo/loaddemotext.h"

namespace poolscope::ui {

namespace {

QString plural(qint64 n, const QString &one, const QString &many)
{
    return QStringLiteral("%1 %2").arg(n).arg(n == 1 ? one : many);
}

QString peakPhrase(const LoadDemoRunSummary &r)
{
    if (r.peakServerConnections < 0)
        return QStringLiteral("server connections not measured");
    QString text = plural(r.peakServerConnections, QStringLiteral("server connection"),
                          QStringLiteral("server connections"))
        + QStringLiteral(" at peak");
    if (r.pooled && r.poolerPoolSize > 0)
        text += QStringLiteral(" (PgBouncer pool size %1)").arg(r.poolerPoolSize);
    else if (r.serverLimit > 0)
        text += QStringLiteral(" (the limit is %1)").arg(r.serverLimit);
    return text;
}

QString headline(const LoadDemoRunSummary &r)
{
    if (r.fatal)
        return QStringLiteral("%1: did not run (%2)").arg(r.target, r.fatal->summary());
    QString text =
        QStringLiteral("%1: %2, %3").arg(r.target, loadDemoErrorsPhrase(r.errors), peakPhrase(r));
    if (r.cancelled)
        text += QStringLiteral(" (stopped after %1 s)").arg(r.durationSeconds, 0, 'f', 1);
    return text;
}

// "pooled vs direct: errors 0 vs 340, peak server connections 12 vs 17, latency p95 130.0 vs
// 112.0 ms, 1198 vs 870 ok" for the first pooled and the first direct run.
QString difference(const LoadDemoRunSummary &pooled, const LoadDemoRunSummary &direct)
{
    QString text = QStringLiteral("%1 vs %2: %3 vs %4 errors, %5 vs %6 ok requests")
                       .arg(pooled.target, direct.target)
                       .arg(pooled.errors.total())
                       .arg(direct.errors.total())
                       .arg(pooled.ok)
                       .arg(direct.ok);
    if (pooled.peakServerConnections >= 0 && direct.peakServerConnections >= 0)
        text += QStringLiteral(", %1 vs %2 server connections at peak")
                    .arg(pooled.peakServerConnections)
                    .arg(direct.peakServerConnections);
    if (pooled.latency.count > 0 && direct.latency.count > 0)
        text += QStringLiteral(", latency p95 %1 vs %2 ms")
                    .arg(loadDemoMs(pooled.latency, pooled.latency.p95Us),
                         loadDemoMs(direct.latency, direct.latency.p95Us));
    const qint64 fewer = direct.errors.total() - pooled.errors.total();
    auto errors = [](qint64 n) {
        return n == 1 ? QStringLiteral("error") : QStringLiteral("errors");
    };
    if (fewer > 0)
        text += QStringLiteral(". The pooler absorbed the load: %1 fewer %2.")
                    .arg(fewer)
                    .arg(errors(fewer));
    else if (fewer < 0)
        text += QStringLiteral(". The pooled run had %1 more %2.").arg(-fewer).arg(errors(-fewer));
    else
        text += QLatin1Char('.');
    return text;
}

QString baselinePhrase(const LoadDemoRunSummary &r)
{
    if (r.fatal)
        return {};
    if (r.baselineServerConnections < 0 || r.serverConnectionsAfter < 0)
        return QStringLiteral("%1: the server-side count after the run is unknown.").arg(r.target);
    if (r.returnedToBaseline)
        return QStringLiteral("%1: server connections back to the baseline (%2 before, %3 after).")
            .arg(r.target)
            .arg(r.baselineServerConnections)
            .arg(r.serverConnectionsAfter);
    return QStringLiteral("%1: server connections NOT back to the baseline (%2 before, %3 "
                          "after).")
        .arg(r.target)
        .arg(r.baselineServerConnections)
        .arg(r.serverConnectionsAfter);
}

QString className(LoadDemoErrorClass c)
{
    switch (c) {
    case LoadDemoErrorClass::TooManyConnections:
        return QStringLiteral("too many connections");
    case LoadDemoErrorClass::AcquireTimeout:
        return QStringLiteral("acquire timeout");
    case LoadDemoErrorClass::Pooler:
        return QStringLiteral("pooler error");
    case LoadDemoErrorClass::Other:
        break;
    }
    return QStringLiteral("other error");
}

} // namespace

QString loadDemoMs(const LatencySummary &summary, std::uint64_t micros)
{
    if (summary.count == 0)
        return QStringLiteral("-");
    return QString::number(double(micros) / 1000.0, 'f', 1);
}

QString loadDemoCountText(qint64 value)
{
    return value < 0 ? QStringLiteral("-") : QString::number(value);
}

QString loadDemoErrorsPhrase(const LoadDemoErrorCounts &e)
{
    if (e.total() == 0)
        return QStringLiteral("0 errors");
    QStringList parts;
    if (e.tooManyConnections > 0)
        parts << plural(e.tooManyConnections, QStringLiteral("too-many-connections error"),
                        QStringLiteral("too-many-connections errors"));
    if (e.acquireTimeout > 0)
        parts << plural(e.acquireTimeout, QStringLiteral("acquire timeout"),
                        QStringLiteral("acquire timeouts"));
    if (e.pooler > 0)
        parts << plural(e.pooler, QStringLiteral("pooler error"), QStringLiteral("pooler errors"));
    if (e.other > 0)
        parts << plural(e.other, QStringLiteral("other error"), QStringLiteral("other errors"));
    return parts.join(QStringLiteral(", "));
}

QStringList loadDemoComparison(const QList<LoadDemoRunSummary> &runs)
{
    if (runs.isEmpty())
        return {};
    QStringList lines;
    QStringList heads;
    for (const LoadDemoRunSummary &r : runs)
        heads << headline(r);
    lines << heads.join(QStringLiteral("; "));

    const LoadDemoRunSummary *pooled = nullptr;
    const LoadDemoRunSummary *direct = nullptr;
    for (const LoadDemoRunSummary &r : runs) {
        if (r.fatal)
            continue;
        if (r.pooled && !pooled)
            pooled = &r;
        else if (!r.pooled && !direct)
            direct = &r;
    }
    if (pooled && direct)
        lines << difference(*pooled, *direct);

    for (const LoadDemoRunSummary &r : runs) {
        if (const QString b = baselinePhrase(r); !b.isEmpty())
            lines << b;
    }
    for (const LoadDemoRunSummary &r : runs) {
        for (const LoadDemoFirstError &e : r.firstErrors)
            lines << QStringLiteral("%1, first %2 after %3 s: %4. Remedy: %5")
                         .arg(r.target, className(e.errorClass))
                         .arg(e.atSeconds, 0, 'f', 2)
                         .arg(e.error.summary(), e.error.remedy);
        for (const QString &w : r.warnings)
            lines << QStringLiteral("%1: %2").arg(r.target, w);
    }
    return lines;
}

QString loadDemoLiveText(const LoadDemoSnapshot &s)
{
    QString server = loadDemoCountText(s.serverConnections);
    if (s.serverLimit > 0 && s.serverConnections >= 0)
        server += QStringLiteral(" of %1").arg(s.serverLimit);
    return QStringLiteral("%1 %2 s%3: %4 requests, %5 ok, %6; %7 in flight (%8 waiting), %9 "
                          "client connections, %10 server connections, p95 %11 ms")
        .arg(s.target)
        .arg(s.elapsedSeconds, 0, 'f', 1)
        .arg(s.arrivalsDone ? QStringLiteral(" (draining)") : QString())
        .arg(s.requests)
        .arg(s.ok)
        .arg(loadDemoErrorsPhrase(s.errors))
        .arg(s.inFlight)
        .arg(s.waiting)
        .arg(s.clientConnections)
        .arg(server, loadDemoMs(s.latency, s.latency.p95Us));
}

} // namespace poolscope::ui
