// poolscope coldstart <conninfo|URI> [--trials N] [--warm-queries M] [--idle-before SECONDS]
//                     [--compare <conninfo|URI>] [--cold-wait SECONDS] [--timeout 10s]
//                     [--allow-remote] [--json]
#include "app/commandline.h"
#include "core/coldstart/coldstartprobe.h"
#include "core/db/conninfo.h"
#include "core/db/redaction.h"
#include "core/logging/logging.h"

#include <QCommandLineParser>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <algorithm>
#include <cmath>
#include <functional>

namespace poolscope::app {
namespace {

// Milliseconds with three decimals: enough to check that the phases add up.
double rounded(double ms)
{
    return std::round(ms * 1000.0) / 1000.0;
}

QJsonObject trialJson(const ColdStartTrial &t)
{
    return QJsonObject {
        { QStringLiteral("dns_ms"), rounded(t.dnsMs) },
        { QStringLiteral("tcp_ms"), rounded(t.tcpMs) },
        { QStringLiteral("tls_ms"), rounded(t.tlsMs) },
        { QStringLiteral("auth_ms"), rounded(t.authMs) },
        { QStringLiteral("first_query_ms"), rounded(t.firstQueryMs) },
        { QStringLiteral("total_ms"), rounded(t.totalMs) },
        { QStringLiteral("ok"), t.ok() },
        { QStringLiteral("tls"), t.tls },
        { QStringLiteral("address"), t.address },
        { QStringLiteral("failed_phase"),
          t.ok() ? QJsonValue(QJsonValue::Null) : QJsonValue(t.failedPhase) },
        { QStringLiteral("error"), errorToJson(t.error) },
    };
}

QJsonObject reportJson(const ColdStartReport &r, const ColdStartOptions &options)
{
    QJsonArray trials;
    for (const ColdStartTrial &t : r.trials)
        trials.append(trialJson(t));
    QJsonObject out {
        { QStringLiteral("trials"), trials },
        { QStringLiteral("summary"),
          QJsonObject { { QStringLiteral("p50_total_ms"), rounded(r.p50TotalMs) },
                        { QStringLiteral("p95_total_ms"), rounded(r.p95TotalMs) },
                        { QStringLiteral("max_total_ms"), rounded(r.maxTotalMs) },
                        { QStringLiteral("trials_ok"), r.okTrials() },
                        { QStringLiteral("trials_requested"), options.trials } } },
        { QStringLiteral("warm_query_ms"),
          QJsonObject { { QStringLiteral("p50"), rounded(r.warmP50Ms) },
                        { QStringLiteral("p95"), rounded(r.warmP95Ms) },
                        { QStringLiteral("count"), int(r.warmQueryMs.size()) } } },
        { QStringLiteral("verdict"), r.verdict },
        { QStringLiteral("reason"), r.reason },
        { QStringLiteral("cancelled"), r.cancelled },
        { QStringLiteral("error"), errorToJson(r.error) },
    };
    if (options.idleBefore.count() > 0)
        out.insert(QStringLiteral("after_idle"),
                   QJsonObject { { QStringLiteral("idle_s"), options.idleBefore.count() / 1000.0 },
                                 { QStringLiteral("query_ms"),
                                   r.afterIdleMs ? QJsonValue(rounded(*r.afterIdleMs))
                                                 : QJsonValue(QJsonValue::Null) },
                                 { QStringLiteral("error"), errorToJson(r.afterIdleError) } });
    if (options.idleBefore.count() > 0) {
        auto optionalMs = [](const std::optional<double> &v) {
            return v ? QJsonValue(rounded(*v)) : QJsonValue(QJsonValue::Null);
        };
        out.insert(
            QStringLiteral("pool_after_idle"),
            QJsonObject { { QStringLiteral("idle_s"), options.idleBefore.count() / 1000.0 },
                          { QStringLiteral("checkout_ms"), optionalMs(r.poolCheckoutAfterIdleMs) },
                          { QStringLiteral("query_ms"), optionalMs(r.poolQueryAfterIdleMs) },
                          { QStringLiteral("reconnected"), r.poolReconnected },
                          { QStringLiteral("error"), errorToJson(r.poolAfterIdleError) } });
    }
    return out;
}

// The summary lines after the trials of one endpoint.
void printSummary(const ColdStartReport &report, const ColdStartOptions &options,
                  const std::function<QString(QString)> &clean)
{
    printLine(QString());
    if (report.okTrials() > 0)
        printLine(QStringLiteral("total       p50 %1 ms  p95 %2 ms  max %3 ms  (%4 of %5 "
                                 "trials)")
                      .arg(report.p50TotalMs, 0, 'f', 1)
                      .arg(report.p95TotalMs, 0, 'f', 1)
                      .arg(report.maxTotalMs, 0, 'f', 1)
                      .arg(report.okTrials())
                      .arg(options.trials));
    if (!report.warmQueryMs.isEmpty())
        printLine(QStringLiteral("warm query  p50 %1 ms  p95 %2 ms  (%3 queries)")
                      .arg(report.warmP50Ms, 0, 'f', 2)
                      .arg(report.warmP95Ms, 0, 'f', 2)
                      .arg(report.warmQueryMs.size()));
    if (report.afterIdleMs)
        printLine(QStringLiteral("after idle  %1 ms after %2 s idle")
                      .arg(*report.afterIdleMs, 0, 'f', 1)
                      .arg(options.idleBefore.count() / 1000.0));
    if (report.afterIdleError)
        printLine(clean(QStringLiteral("after idle  FAILED: %1\n            remedy: %2")
                            .arg(report.afterIdleError->summary(), report.afterIdleError->remedy)));
    if (report.poolCheckoutAfterIdleMs && report.poolQueryAfterIdleMs)
        printLine(QStringLiteral("pool        checkout %1 ms, query %2 ms after %3 s idle%4")
                      .arg(*report.poolCheckoutAfterIdleMs, 0, 'f', 1)
                      .arg(*report.poolQueryAfterIdleMs, 0, 'f', 1)
                      .arg(options.idleBefore.count() / 1000.0)
                      .arg(report.poolReconnected
                               ? QStringLiteral(" (the idle connection had died: the pool "
                                                "replaced it)")
                               : QString()));
    if (report.poolAfterIdleError)
        printLine(clean(
            QStringLiteral("pool        FAILED after idle: %1\n            remedy: %2")
                .arg(report.poolAfterIdleError->summary(), report.poolAfterIdleError->remedy)));
    printLine(
        clean(QStringLiteral("verdict     %1: %2").arg(report.verdict.toUpper(), report.reason)));
}

QString trialLine(int index, const ColdStartTrial &t)
{
    QString line = QStringLiteral("trial %1  dns %2  tcp %3  tls %4  auth %5  first query %6  "
                                  "total %7 ms")
                       .arg(index + 1, 3)
                       .arg(t.dnsMs, 6, 'f', 1)
                       .arg(t.tcpMs, 6, 'f', 1)
                       .arg(t.tlsMs, 6, 'f', 1)
                       .arg(t.authMs, 6, 'f', 1)
                       .arg(t.firstQueryMs, 6, 'f', 1)
                       .arg(t.totalMs, 7, 'f', 1);
    if (t.error)
        line += QStringLiteral("\n           FAILED in %1: %2\n           remedy: %3")
                    .arg(t.failedPhase, t.error->summary(), t.error->remedy);
    return line;
}

std::optional<int> intIn(const QString &text, int low, int high)
{
    bool ok = false;
    const int value = text.toInt(&ok);
    if (!ok || value < low || value > high)
        return std::nullopt;
    return value;
}

// Seconds as a plain number ("300", "0.5") or a duration ("5m").
std::optional<std::chrono::milliseconds> idleDuration(const QString &text)
{
    bool ok = false;
    const double seconds = text.trimmed().toDouble(&ok);
    if (ok) {
        if (seconds < 0 || seconds > 3600)
            return std::nullopt;
        return std::chrono::milliseconds(qint64(std::llround(seconds * 1000)));
    }
    const auto d = parseDuration(text);
    if (!d || d->count() > 3'600'000)
        return std::nullopt;
    return d;
}

} // namespace

int runColdStartCommand(const QStringList &args)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "Cold-start test: opens N fresh connections one after another (never from a pool) and "
        "splits each into DNS, TCP, TLS, authentication and first query; then M warm queries "
        "on the same connection and, with --idle-before, one query after an idle period. "
        "Compared with the guide's expectations (first connection 2-5 s, Neon now documents a "
        "few hundred ms; later queries under 500 ms). Loopback only unless --allow-remote. "
        "Exit 0: pass or warn; 1: a trial failed; 2: bad command line."));
    parser.addHelpOption();
    parser.addPositionalArgument(QStringLiteral("conninfo"),
                                 QStringLiteral("libpq connection string or URI"));
    const QCommandLineOption trials(QStringLiteral("trials"),
                                    QStringLiteral("Fresh connections, 1-1000 (default 10)."),
                                    QStringLiteral("N"), QStringLiteral("10"));
    const QCommandLineOption warm(
        QStringLiteral("warm-queries"),
        QStringLiteral("SELECT 1 queries per trial after the first, 0-1000 (default 5)."),
        QStringLiteral("M"), QStringLiteral("5"));
    const QCommandLineOption idle(
        QStringLiteral("idle-before"),
        QStringLiteral("Keep the last connection open this many seconds, then query it once "
                       "(default 0: no after-idle query). A Neon compute suspends after 5 "
                       "minutes without queries; anything polling it keeps it awake."),
        QStringLiteral("SECONDS"), QStringLiteral("0"));
    const QCommandLineOption timeout(
        QStringLiteral("timeout"),
        QStringLiteral("Deadline of each trial and each query, 100ms to 120s (default 10s)."),
        QStringLiteral("DURATION"), QStringLiteral("10s"));
    const QCommandLineOption allowRemote(
        QStringLiteral("allow-remote"),
        QStringLiteral("Allow the N connections to a host that is not on this machine."));
    const QCommandLineOption compare(
        QStringLiteral("compare"),
        QStringLiteral("Probe a second endpoint after the first (e.g. the pooled one next to the "
                       "direct one); JSON: \"compare\"."),
        QStringLiteral("conninfo"));
    const QCommandLineOption coldWait(
        QStringLiteral("cold-wait"),
        QStringLiteral("Real cold: wait this many seconds (0-3600) before the first trial, so "
                       "that a scale-to-zero compute can suspend (Neon: after 5 minutes without "
                       "queries). Anything else polling the endpoint keeps it awake."),
        QStringLiteral("SECONDS"), QStringLiteral("0"));
    const QCommandLineOption json(QStringLiteral("json"), QStringLiteral("Print one JSON object."));
    parser.addOptions({ trials, warm, idle, timeout, allowRemote, compare, coldWait, json });
    if (const auto stop = parseCommandLine(parser, args))
        return *stop;
    if (parser.positionalArguments().size() != 1) {
        printError(
            QStringLiteral("poolscope coldstart: expected exactly one connection string or URI"));
        return ExitUsage;
    }

    ColdStartOptions options;
    options.conninfo = parser.positionalArguments().constFirst();
    const auto n = intIn(parser.value(trials), 1, 1000);
    const auto m = intIn(parser.value(warm), 0, 1000);
    const auto idleFor = idleDuration(parser.value(idle));
    const auto coldFor = idleDuration(parser.value(coldWait));
    const auto deadline = parseDuration(parser.value(timeout));
    if (!n || !m) {
        printError(QStringLiteral("poolscope coldstart: --trials takes 1-1000 and "
                                  "--warm-queries 0-1000"));
        return ExitUsage;
    }
    if (!idleFor) {
        printError(QStringLiteral("poolscope coldstart: --idle-before takes seconds from 0 to "
                                  "3600, e.g. 300"));
        return ExitUsage;
    }
    if (!coldFor) {
        printError(QStringLiteral("poolscope coldstart: --cold-wait takes seconds from 0 to 3600, "
                                  "e.g. 360"));
        return ExitUsage;
    }
    if (!deadline || deadline->count() < 100 || deadline->count() > 120000) {
        printError(QStringLiteral(
            "poolscope coldstart: --timeout takes a duration from 100ms to 120s, e.g. 10s"));
        return ExitUsage;
    }
    options.trials = *n;
    options.warmQueries = *m;
    options.idleBefore = *idleFor;
    options.timeout = *deadline;

    // Both endpoints are checked before anything is sent to either.
    QStringList conninfos { options.conninfo };
    if (parser.isSet(compare))
        conninfos << parser.value(compare);
    QList<ConnInfo> infos;
    QStringList passwords;
    for (const QString &text : conninfos) {
        const auto info = ConnInfo::parse(text);
        if (!info) {
            printError(QStringLiteral("poolscope coldstart: ") + info.error().message);
            return ExitUsage;
        }
        if (!info->targetsLoopbackOnly() && !parser.isSet(allowRemote)) {
            printError(QStringLiteral("poolscope coldstart: %1 is not on this machine; the test "
                                      "opens %2 connections, so it goes to loopback only unless "
                                      "you pass --allow-remote")
                           .arg(info->host())
                           .arg(options.trials));
            return ExitUsage;
        }
        passwords << info->value(QStringLiteral("password"));
        registerSecret(passwords.constLast());
        infos << info.value();
    }
    auto clean = [&passwords](QString text) {
        text = redactSecrets(text);
        for (const QString &password : std::as_const(passwords))
            if (password.size() >= 4)
                text.replace(password, QStringLiteral("***"));
        return text;
    };

    const bool asJson = parser.isSet(json);
    logging::setConsoleLevel(spdlog::level::warn);
    installTerminationHandler();
    if (coldFor->count() > 0) {
        if (!asJson)
            printLine(QStringLiteral("cold wait   %1 s without queries before the first trial "
                                     "(Ctrl-C stops). Anything else polling this endpoint - a "
                                     "dashboard, a health check, a pool's validation queries - "
                                     "keeps a scale-to-zero compute awake.")
                          .arg(coldFor->count() / 1000.0));
        coldStartWait(*coldFor, &terminationRequested());
    }

    QList<ColdStartReport> reports;
    for (qsizetype e = 0; e < infos.size(); ++e) {
        ColdStartOptions endpoint = options;
        endpoint.conninfo = conninfos.at(e);
        if (!asJson)
            printLine(clean(
                QStringLiteral("%1cold start  %2: %3 trial(s), %4 warm quer%5 each, "
                               "deadline %6 ms (Ctrl-C stops with what was measured)")
                    .arg(e == 0 ? QString() : QStringLiteral("\n"), infos.at(e).redacted())
                    .arg(options.trials)
                    .arg(options.warmQueries)
                    .arg(options.warmQueries == 1 ? QStringLiteral("y") : QStringLiteral("ies"))
                    .arg(options.timeout.count())));
        // After Ctrl-C the probe returns at once (cancelled, nothing measured): the JSON keeps
        // its shape.
        reports << runColdStartProbe(endpoint, &terminationRequested(),
                                     [&](int i, const ColdStartTrial &t) {
                                         if (!asJson)
                                             printLine(clean(trialLine(i, t)));
                                     });
        if (!asJson)
            printSummary(reports.constLast(), options, clean);
    }

    if (asJson) {
        QJsonObject out = reportJson(reports.constFirst(), options);
        if (coldFor->count() > 0)
            out.insert(QStringLiteral("cold_wait_s"), coldFor->count() / 1000.0);
        if (reports.size() > 1) {
            QJsonObject second = reportJson(reports.at(1), options);
            second.insert(QStringLiteral("target"), infos.at(1).redacted());
            out.insert(QStringLiteral("compare"), second);
        }
        printLine(clean(QString::fromUtf8(QJsonDocument(out).toJson(QJsonDocument::Compact))));
    }
    const bool failed = std::any_of(reports.cbegin(), reports.cend(), [](const ColdStartReport &r) {
        return r.verdict == QLatin1String("fail");
    });
    return failed ? ExitFailure : ExitOk;
}

} // namespace poolscope::app
