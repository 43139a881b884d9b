// poolscope check <conninfo|URI> [--profile local|serverless] [--session-features] [--offline]
//                 [--json] [--timeout 5s]
#include "app/commandline.h"
#include "core/check/endpointlint.h"
#include "core/check/livecheck.h"
#include "core/db/conninfo.h"
#include "core/db/redaction.h"
#include "core/logging/logging.h"

#include <QCommandLineParser>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

namespace poolscope::app {
namespace {

QJsonObject liveJson(const LiveCheckReport &report)
{
    QJsonArray steps;
    for (const LiveCheckStep &s : report.steps)
        steps.append(QJsonObject { { QStringLiteral("name"), s.name },
                                   { QStringLiteral("ok"), s.ok },
                                   { QStringLiteral("skipped"), s.skipped },
                                   { QStringLiteral("ms"), s.ms },
                                   { QStringLiteral("detail"), s.detail },
                                   { QStringLiteral("error"), errorToJson(s.error) } });
    return QJsonObject {
        { QStringLiteral("steps"), steps },
        { QStringLiteral("server_version"), report.serverVersion },
        { QStringLiteral("max_connections"), report.maxConnections },
        { QStringLiteral("reserved"), report.reservedConnections },
        { QStringLiteral("pooler_detected"),
          report.poolerDetected ? QJsonValue(*report.poolerDetected)
                                : QJsonValue(QJsonValue::Null) },
        { QStringLiteral("pooler_evidence"), report.poolerEvidence },
        { QStringLiteral("contradicts_host_name"), report.contradictsHostName },
    };
}

bool liveFailed(const LiveCheckReport &report)
{
    return std::any_of(report.steps.cbegin(), report.steps.cend(),
                       [](const LiveCheckStep &s) { return !s.ok && !s.skipped; });
}

// What the kind means, in plain words (the guide swaps Neon's two labels).
QString kindExplanation(EndpointKind kind)
{
    switch (kind) {
    case EndpointKind::NeonPooled:
        return QStringLiteral("Neon POOLED endpoint (PgBouncer, transaction mode): the endpoint id "
                              "ends in \"-pooler\"");
    case EndpointKind::NeonDirect:
        return QStringLiteral("Neon DIRECT endpoint (no pooler): the endpoint id has no "
                              "\"-pooler\"; the guide labels this one the pooler, wrongly");
    case EndpointKind::SupabaseTransaction:
        return QStringLiteral("Supabase pooler, transaction mode (port 6543)");
    case EndpointKind::SupabaseSession:
        return QStringLiteral("Supabase pooler, session mode (port 5432)");
    case EndpointKind::SupabaseDirect:
        return QStringLiteral("Supabase direct connection");
    case EndpointKind::RdsProxy:
        return QStringLiteral("AWS RDS Proxy");
    case EndpointKind::PgBouncer:
        return QStringLiteral("PgBouncer (port 6432)");
    case EndpointKind::Local:
        return QStringLiteral("local server (loopback or unix socket)");
    case EndpointKind::Direct:
        return QStringLiteral("direct connection to a server");
    }
    return {};
}

QString light(Severity s)
{
    switch (s) {
    case Severity::Error:
        return QStringLiteral("[RED]   ");
    case Severity::Warning:
        return QStringLiteral("[AMBER] ");
    case Severity::Info:
        return QStringLiteral("[INFO]  ");
    }
    return {};
}

QString stepLine(const LiveCheckStep &s)
{
    const QString mark = s.skipped ? QStringLiteral("[SKIP]  ")
        : s.ok                     ? QStringLiteral("[GREEN] ")
                                   : QStringLiteral("[RED]   ");
    QString line = QStringLiteral("%1%2 %3 ms  %4")
                       .arg(mark, s.name.leftJustified(15))
                       .arg(s.ms, 7, 'f', 1)
                       .arg(s.detail);
    if (s.error)
        line += QStringLiteral("\n        %1\n        remedy: %2")
                    .arg(s.error->summary(), s.error->remedy);
    return line;
}

} // namespace

int runCheckCommand(const QStringList &args)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "Checks a connection string: what it points at (Neon pooled/direct, Supabase, RDS Proxy, "
        "PgBouncer, local, direct), what will go wrong with it, and - unless --offline - DNS, "
        "TCP, TLS, authentication, limits and whether a pooler is in the path. Exit 0: no "
        "error; 1: an error finding or a failed live check; 2: unusable input."));
    parser.addHelpOption();
    parser.addPositionalArgument(QStringLiteral("conninfo"),
                                 QStringLiteral("libpq connection string or URI"));
    const QCommandLineOption profile(
        QStringLiteral("profile"),
        QStringLiteral("How the string will be used: local or serverless (many short-lived "
                       "instances, each with its own pool)."),
        QStringLiteral("PROFILE"));
    const QCommandLineOption session(
        QStringLiteral("session-features"),
        QStringLiteral("The application uses SET/RESET, LISTEN/NOTIFY, SQL PREPARE, advisory "
                       "locks, WITH HOLD cursors, temp tables, migrations or pg_dump."));
    const QCommandLineOption offline(QStringLiteral("offline"),
                                     QStringLiteral("Lint only: no network access."));
    const QCommandLineOption json(QStringLiteral("json"), QStringLiteral("Print one JSON object."));
    const QCommandLineOption timeout(
        QStringLiteral("timeout"),
        QStringLiteral("Deadline of each live step, e.g. 500ms, 5s (default 5s, at most 60s)."),
        QStringLiteral("DURATION"), QStringLiteral("5s"));
    parser.addOptions({ profile, session, offline, json, timeout });
    if (const auto stop = parseCommandLine(parser, args))
        return *stop;
    if (parser.positionalArguments().size() != 1) {
        printError(
            QStringLiteral("poolscope check: expected exactly one connection string or URI"));
        return ExitUsage;
    }

    LintContext context;
    if (parser.isSet(profile)) {
        const QString p = parser.value(profile).toLower();
        if (p == QLatin1String("local"))
            context.profile = PoolProfile::LocalDevelopment;
        else if (p == QLatin1String("serverless"))
            context.profile = PoolProfile::ServerlessProduction;
        else {
            printError(QStringLiteral("poolscope check: --profile takes local or serverless"));
            return ExitUsage;
        }
    }
    context.usesSessionFeatures = parser.isSet(session);
    const auto stepTimeout = parseDuration(parser.value(timeout));
    if (!stepTimeout || stepTimeout->count() < 100 || stepTimeout->count() > 60000) {
        printError(QStringLiteral(
            "poolscope check: --timeout takes a duration from 100ms to 60s, e.g. 5s"));
        return ExitUsage;
    }

    const QString conninfo = parser.positionalArguments().constFirst();
    auto lint = lintEndpoint(conninfo, context);
    if (!lint) {
        printError(QStringLiteral("poolscope check: ") + lint.error().message);
        return ExitUsage;
    }
    LintResult result = std::move(lint).value();
    QString password;
    if (auto info = ConnInfo::parse(conninfo))
        password = info->value(QStringLiteral("password"));
    registerSecret(password); // so no log line or live-check message carries it
    // Belt and braces: nothing this command prints may contain the password.
    auto clean = [&password](QString text) {
        text = redactSecrets(text);
        if (password.size() >= 4)
            text.replace(password, QStringLiteral("***"));
        return text;
    };

    const bool asJson = parser.isSet(json);
    logging::setConsoleLevel(spdlog::level::warn);
    if (!asJson) {
        const EndpointInfo &e = result.endpoint;
        printLine(clean(QStringLiteral("endpoint  %1:%2  dbname %3  user %4")
                            .arg(e.host.isEmpty() ? QStringLiteral("(unix socket)") : e.host)
                            .arg(e.port)
                            .arg(e.dbname.isEmpty() ? QStringLiteral("(default)") : e.dbname,
                                 e.user.isEmpty() ? QStringLiteral("(default)") : e.user)));
        printLine(QStringLiteral("kind      %1 - %2")
                      .arg(endpointKindName(e.kind), kindExplanation(e.kind)));
        printLine(QStringLiteral("pooled    %1")
                      .arg(e.pooled ? QStringLiteral("yes") : QStringLiteral("no")));
        printLine(QString());
        if (result.findings.isEmpty())
            printLine(QStringLiteral("[GREEN] no findings"));
        for (const Finding &f : std::as_const(result.findings))
            printLine(clean(QStringLiteral("%1%2\n        %3\n        remedy: %4")
                                .arg(light(f.severity), f.code, f.message, f.remedy)));
    }

    std::optional<LiveCheckReport> live;
    if (!parser.isSet(offline)) {
        if (!asJson) {
            printLine(QString());
            printLine(
                QStringLiteral("live checks (each step at most %1 ms):").arg(stepTimeout->count()));
        }
        installTerminationHandler();
        live = LiveChecker::runBlocking(conninfo, result.endpoint, *stepTimeout,
                                        [&](const LiveCheckStep &step) {
                                            if (!asJson)
                                                printLine(clean(stepLine(step)));
                                        });
        if (live->contradictsHostName)
            result.findings.append(
                { Severity::Warning, QStringLiteral("pooler-contradicts-host-name"),
                  QStringLiteral("The host name says %1 (pooled: %2), but the server behaves "
                                 "otherwise: %3")
                      .arg(endpointKindName(result.endpoint.kind),
                           result.endpoint.pooled ? QStringLiteral("yes") : QStringLiteral("no"),
                           live->poolerEvidence),
                  QStringLiteral("Check what really listens on this host and port (a pooler in "
                                 "front, or none) before relying on the endpoint kind.") });
        if (!asJson) {
            if (!live->serverVersion.isEmpty())
                printLine(QStringLiteral("server    PostgreSQL %1, max_connections %2, "
                                         "reserved %3")
                              .arg(live->serverVersion)
                              .arg(live->maxConnections)
                              .arg(live->reservedConnections));
            if (live->poolerDetected)
                printLine(clean(QStringLiteral("pooler    %1 (%2)%3")
                                    .arg(*live->poolerDetected ? QStringLiteral("detected")
                                                               : QStringLiteral("not detected"),
                                         live->poolerEvidence,
                                         live->contradictsHostName
                                             ? QStringLiteral(" - contradicts the host name")
                                             : QString())));
        }
    }

    const bool failed = result.hasError() || (live && liveFailed(*live));
    if (asJson) {
        QJsonObject out = lintResultToJson(result);
        if (live)
            out.insert(QStringLiteral("live"), liveJson(*live));
        printLine(clean(QString::fromUtf8(QJsonDocument(out).toJson(QJsonDocument::Compact))));
    } else {
        printLine(QString());
        printLine(failed ? QStringLiteral("result    RED: an error finding or a failed live check")
                         : QStringLiteral("result    GREEN: no errors"));
    }
    return failed ? ExitFailure : ExitOk;
}

} // namespace poolscope::app
