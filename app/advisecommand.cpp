// poolscope advise [--max-connections N | --neon-cu X | --preset NAME] [--reserved N]
//   [--other-clients N] [--instances K] [--pool-max N] [--pool-min N] [--pooled] [--scale-to-zero]
//   [--rate R --hold-ms H] [--json] [--list-presets]
#include "app/commandline.h"
#include "core/sizing/sizingadvisor.h"

#include <QCommandLineParser>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <cmath>

namespace poolscope::app {
namespace {

const QString kName = QStringLiteral("poolscope advise");

std::optional<int> nonNegativeInt(const QString &text)
{
    bool ok = false;
    const int v = text.trimmed().toInt(&ok);
    return ok && v >= 0 ? std::optional<int>(v) : std::nullopt;
}

std::optional<double> nonNegativeNumber(const QString &text)
{
    bool ok = false;
    const double v = text.trimmed().toDouble(&ok);
    return ok && std::isfinite(v) && v >= 0 ? std::optional<double>(v) : std::nullopt;
}

int usage(const QString &message)
{
    printError(kName + QStringLiteral(": ") + message);
    return ExitUsage;
}

void printPresets(bool json)
{
    const PoolerFacts pooler = neonPoolerFacts();
    if (json) {
        QJsonArray presets;
        for (const LimitPreset &p : limitPresets()) {
            QJsonObject o { { QStringLiteral("name"), p.name },
                            { QStringLiteral("label"), p.label },
                            { QStringLiteral("max_connections"), p.maxConnections },
                            { QStringLiteral("reserved"), p.reserved },
                            { QStringLiteral("from_guide"), p.fromGuide },
                            { QStringLiteral("source"), p.source } };
            if (p.fromGuide) {
                o.insert(QStringLiteral("guide_recommended_max"), p.guideRecommendedMax);
                o.insert(QStringLiteral("note"), p.note);
            }
            presets.append(o);
        }
        QJsonArray profiles;
        for (const GuideProfile &g : guideProfiles())
            profiles.append(
                QJsonObject { { QStringLiteral("name"), g.name },
                              { QStringLiteral("min_size"), g.minSize },
                              { QStringLiteral("max_size"), g.maxSize },
                              { QStringLiteral("statement_timeout_s"), g.statementTimeoutSeconds },
                              { QStringLiteral("endpoint"), g.endpoint } });
        const QJsonObject out {
            { QStringLiteral("presets"), presets },
            { QStringLiteral("guide_profiles"), profiles },
            { QStringLiteral("neon_pooler"),
              QJsonObject {
                  { QStringLiteral("pool_mode"), pooler.poolMode },
                  { QStringLiteral("max_client_conn"), pooler.maxClientConnections },
                  { QStringLiteral("default_pool_size_fraction"), pooler.defaultPoolSizeFraction },
                  { QStringLiteral("query_wait_timeout_s"), pooler.queryWaitTimeoutSeconds },
                  { QStringLiteral("source"), pooler.source } } },
        };
        printLine(QString::fromUtf8(QJsonDocument(out).toJson(QJsonDocument::Compact)));
        return;
    }
    printLine(QStringLiteral("Presets (--preset NAME):"));
    for (const LimitPreset &p : limitPresets()) {
        QString line = QStringLiteral("  %1  max_connections %2, %3 reserved  %4")
                           .arg(p.name, -14)
                           .arg(p.maxConnections, 5)
                           .arg(p.reserved)
                           .arg(p.label);
        if (p.fromGuide)
            line +=
                QStringLiteral(", guide's MAX_SIZE %1 - %2").arg(p.guideRecommendedMax).arg(p.note);
        printLine(line);
    }
    printLine(QStringLiteral("Neon pooler (as documented, %1): %2 mode, %3 client connections, "
                             "pool 0.9 x max_connections per user/database pair, "
                             "query_wait_timeout %4 s")
                  .arg(pooler.source, pooler.poolMode)
                  .arg(pooler.maxClientConnections)
                  .arg(pooler.queryWaitTimeoutSeconds));
    printLine(QStringLiteral("The guide's summary profiles (defaults, not limits):"));
    for (const GuideProfile &g : guideProfiles())
        printLine(QStringLiteral("  %1  DATABASE_POOL_MIN_SIZE=%2 DATABASE_POOL_MAX_SIZE=%3, "
                                 "statement_timeout %4 s, %5 endpoint")
                      .arg(g.name, -10)
                      .arg(g.minSize)
                      .arg(g.maxSize)
                      .arg(g.statementTimeoutSeconds)
                      .arg(g.endpoint));
}

QJsonObject toJson(const SizingResult &r)
{
    return QJsonObject {
        { QStringLiteral("limit"),
          QJsonObject { { QStringLiteral("max_connections"), r.maxConnections },
                        { QStringLiteral("available"), r.available } } },
        { QStringLiteral("recommended"),
          r.recommendedMax ? QJsonValue(
              QJsonObject { { QStringLiteral("min_size"), r.recommendedMin.value_or(0) },
                            { QStringLiteral("max_size"), *r.recommendedMax } })
                           : QJsonValue(QJsonValue::Null) },
        { QStringLiteral("fits"), r.fits },
        { QStringLiteral("demand"),
          QJsonObject {
              { QStringLiteral("worst_case"), r.worstCase },
              { QStringLiteral("littles_law"),
                r.littlesLaw ? QJsonValue(*r.littlesLaw) : QJsonValue(QJsonValue::Null) } } },
        { QStringLiteral("max_safe_instances"), r.maxSafeInstances },
        { QStringLiteral("explanation"), r.explanation },
    };
}

} // namespace

int runAdviseCommand(const QStringList &args)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "Pool sizing: how big each pool may be for a connection limit and an instance count. "
        "Prints DATABASE_POOL_MIN_SIZE / DATABASE_POOL_MAX_SIZE to copy. Exit 0 when the pools "
        "fit, 1 when they do not, 2 on invalid input."));
    parser.addHelpOption();
    auto option = [](const char *name, const char *help, const char *value = nullptr) {
        return value ? QCommandLineOption(QString::fromLatin1(name), QString::fromLatin1(help),
                                          QString::fromLatin1(value))
                     : QCommandLineOption(QString::fromLatin1(name), QString::fromLatin1(help));
    };
    const auto maxConnections =
        option("max-connections", "The server's max_connections (a live SHOW value wins).", "N");
    const auto neonCu = option("neon-cu", "A Neon compute size in CU (0.25 ... 56).", "X");
    const auto preset = option("preset", "A preset from --list-presets.", "NAME");
    const auto reserved =
        option("reserved", "Reserved connections (default 7 on Neon, else 3).", "N");
    const auto others =
        option("other-clients", "Other clients: sampler, admin, migrations (default 0).", "N");
    const auto instances = option(
        "instances", "Concurrent instances or processes, each with a pool (default 1).", "K");
    const auto poolMax = option("pool-max", "Evaluate this per-instance pool max.", "N");
    const auto poolMin = option("pool-min", "The per-instance pool min you plan to use.", "N");
    const auto pooled = option("pooled", "A transaction pooler (Neon's: 10,000 clients) in front.");
    const auto scaleToZero =
        option("scale-to-zero", "The endpoint suspends when idle: recommend min 0.");
    const auto rate = option("rate", "Requests per second across all instances.", "R");
    const auto holdMs = option("hold-ms", "Mean time a request holds a connection, ms.", "H");
    const auto json = option("json", "Print one JSON object.");
    const auto listPresets = option("list-presets", "List the presets and the guide's profiles.");
    parser.addOptions({ maxConnections, neonCu, preset, reserved, others, instances, poolMax,
                        poolMin, pooled, scaleToZero, rate, holdMs, json, listPresets });
    if (const auto stop = parseCommandLine(parser, args))
        return *stop;
    if (!parser.positionalArguments().isEmpty())
        return usage(QStringLiteral("unexpected argument '%1'")
                         .arg(parser.positionalArguments().constFirst()));
    if (parser.isSet(listPresets)) {
        printPresets(parser.isSet(json));
        return ExitOk;
    }

    const int limitSources =
        int(parser.isSet(maxConnections)) + int(parser.isSet(neonCu)) + int(parser.isSet(preset));
    if (limitSources > 1)
        return usage(QStringLiteral("give only one of --max-connections, --neon-cu and --preset"));

    SizingInput in;
    QString limitLabel = QStringLiteral("PostgreSQL's default");
    std::optional<LimitPreset> chosen;
    if (parser.isSet(maxConnections)) {
        const auto n = nonNegativeInt(parser.value(maxConnections));
        if (!n)
            return usage(QStringLiteral("--max-connections takes a whole number >= 0, not '%1'")
                             .arg(parser.value(maxConnections)));
        in.maxConnections = *n;
        limitLabel = QStringLiteral("given");
    } else if (parser.isSet(neonCu)) {
        const auto cu = nonNegativeNumber(parser.value(neonCu));
        if (!cu || *cu <= 0)
            return usage(QStringLiteral("--neon-cu takes a compute size > 0 in CU, not '%1'")
                             .arg(parser.value(neonCu)));
        in.maxConnections = neonMaxConnections(*cu);
        in.reserved = neonReservedConnections();
        limitLabel = QStringLiteral("Neon %1 CU").arg(*cu);
    } else if (parser.isSet(preset)) {
        chosen = findPreset(parser.value(preset));
        if (!chosen)
            return usage(QStringLiteral("unknown preset '%1' (see --list-presets)")
                             .arg(parser.value(preset)));
        in.maxConnections = chosen->maxConnections;
        in.reserved = chosen->reserved;
        limitLabel = chosen->label;
    }

    struct IntOption
    {
        const QCommandLineOption &option;
        int *target;
    };
    for (const IntOption &o :
         { IntOption { reserved, &in.reserved }, IntOption { others, &in.otherClients },
           IntOption { instances, &in.instances } }) {
        if (!parser.isSet(o.option))
            continue;
        const auto n = nonNegativeInt(parser.value(o.option));
        if (!n)
            return usage(QStringLiteral("--%1 takes a whole number >= 0, not '%2'")
                             .arg(o.option.names().constFirst(), parser.value(o.option)));
        *o.target = *n;
    }
    if (in.instances < 1)
        return usage(QStringLiteral("--instances must be at least 1"));
    for (const auto &[opt, target] :
         { std::pair { &poolMax, &in.poolMax }, std::pair { &poolMin, &in.poolMin } }) {
        if (!parser.isSet(*opt))
            continue;
        const auto n = nonNegativeInt(parser.value(*opt));
        if (!n)
            return usage(QStringLiteral("--%1 takes a whole number >= 0, not '%2'")
                             .arg(opt->names().constFirst(), parser.value(*opt)));
        *target = *n;
    }
    if (parser.isSet(rate) != parser.isSet(holdMs))
        return usage(QStringLiteral("--rate and --hold-ms go together: give both or neither"));
    if (parser.isSet(rate)) {
        in.ratePerSecond = nonNegativeNumber(parser.value(rate));
        in.holdMs = nonNegativeNumber(parser.value(holdMs));
        if (!in.ratePerSecond || !in.holdMs)
            return usage(QStringLiteral("--rate and --hold-ms take numbers >= 0"));
    }
    in.pooled = parser.isSet(pooled);
    in.scaleToZero = parser.isSet(scaleToZero);

    auto advised = adviseSizing(in);
    if (!advised)
        return usage(advised.error().message);
    const SizingResult &r = advised.value();
    const int code = r.fits ? ExitOk : ExitFailure;
    if (parser.isSet(json)) {
        printLine(QString::fromUtf8(QJsonDocument(toJson(r)).toJson(QJsonDocument::Compact)));
        return code;
    }

    printLine(QStringLiteral("limit        max_connections %1 (%2), %3 reserved, %4 other "
                             "clients -> %5 available to the pools")
                  .arg(r.maxConnections)
                  .arg(limitLabel)
                  .arg(in.reserved)
                  .arg(in.otherClients)
                  .arg(r.available));
    if (chosen && chosen->fromGuide)
        printLine(QStringLiteral("             %1; the guide recommends MAX_SIZE %2")
                      .arg(chosen->note)
                      .arg(chosen->guideRecommendedMax));
    printLine(QStringLiteral("demand       worst case %1%2")
                  .arg(r.worstCase)
                  .arg(r.littlesLaw ? QStringLiteral(", Little's law %1 busy (with x1.5 headroom)")
                                          .arg(*r.littlesLaw, 0, 'f', 1)
                                    : QString()));
    printLine(QStringLiteral("fits         %1, at most %2 instances")
                  .arg(r.fits ? QStringLiteral("yes") : QStringLiteral("no"))
                  .arg(r.maxSafeInstances));
    if (in.pooled || !r.recommendedMax)
        printLine(
            QStringLiteral("pooled       %1 client connections, server pool %2 (0.9 x "
                           "max_connections per user/database pair on Neon)%3")
                .arg(r.pooledClientLimit)
                .arg(r.pooledServerPool)
                .arg(r.pooledRecommendedMax
                         ? QStringLiteral(", pool max %1 per instance").arg(*r.pooledRecommendedMax)
                         : QString()));
    if (r.recommendedMax) {
        printLine(QStringLiteral("recommended  min %1, max %2 per instance; to copy:")
                      .arg(*r.recommendedMin)
                      .arg(*r.recommendedMax));
        for (const QString &line : r.envLines)
            printLine(QStringLiteral("  ") + line);
    } else {
        printLine(QStringLiteral("recommended  none: nothing fits this endpoint"));
    }
    printLine(QString());
    printLine(r.explanation);
    return code;
}

} // namespace poolscope::app
