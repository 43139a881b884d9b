#include "app/commandline.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QJsonObject>
#include <QJsonValue>
#include <QRegularExpression>
#include <QSocketNotifier>

#include <sys/resource.h>
#include <unistd.h>

#include <cmath>
#include <csignal>
#include <cstdio>

namespace poolscope::app {
namespace {

std::atomic<bool> g_terminate { false };
int g_pipe[2] = { -1, -1 };

extern "C" void onTerminationSignal(int sig)
{
    if (g_terminate.exchange(true)) {
        std::signal(sig, SIG_DFL); // second signal: let the user force it
        return;
    }
    const char byte = 1;
    [[maybe_unused]] ssize_t n = ::write(g_pipe[1], &byte, 1);
}

} // namespace

void installTerminationHandler()
{
    if (g_pipe[0] >= 0)
        return;
    if (::pipe(g_pipe) != 0)
        return;
    auto *notifier =
        new QSocketNotifier(g_pipe[0], QSocketNotifier::Read, QCoreApplication::instance());
    QObject::connect(notifier, &QSocketNotifier::activated, QCoreApplication::instance(), [] {
        char byte;
        [[maybe_unused]] ssize_t n = ::read(g_pipe[0], &byte, 1);
        QCoreApplication::quit();
    });
    struct sigaction action
    {
    };
    action.sa_handler = onTerminationSignal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    sigaction(SIGINT, &action, nullptr);
    sigaction(SIGTERM, &action, nullptr);
}

const std::atomic<bool> &terminationRequested()
{
    return g_terminate;
}

std::optional<std::chrono::milliseconds> parseDuration(const QString &text)
{
    static const QRegularExpression pattern(
        QStringLiteral("^\\s*([0-9]+(?:\\.[0-9]+)?)\\s*(ms|s|m|h)\\s*$"));
    const QRegularExpressionMatch m = pattern.match(text);
    if (!m.hasMatch())
        return std::nullopt;
    const QString unit = m.captured(2);
    const double perUnit = unit == QLatin1String("ms") ? 1.0
        : unit == QLatin1String("s")                   ? 1000.0
        : unit == QLatin1String("m")                   ? 60'000.0
                                                       : 3'600'000.0;
    const double ms = m.captured(1).toDouble() * perUnit;
    if (!std::isfinite(ms) || ms > 86'400'000.0)
        return std::nullopt;
    return std::chrono::milliseconds(std::llround(ms));
}

std::optional<int> parseCommandLine(QCommandLineParser &parser, const QStringList &args)
{
    if (!parser.parse(args)) {
        printError(QStringLiteral("%1: %2").arg(args.value(0, QStringLiteral("poolscope")),
                                                parser.errorText()));
        return ExitUsage;
    }
    if (parser.isSet(QStringLiteral("help"))) {
        printLine(parser.helpText());
        return ExitOk;
    }
    return std::nullopt;
}

QJsonValue errorToJson(const std::optional<DbError> &error)
{
    if (!error)
        return QJsonValue::Null;
    return QJsonObject { { QStringLiteral("kind"), errorKindName(error->kind) },
                         { QStringLiteral("sqlstate"), error->sqlstate },
                         { QStringLiteral("message"), error->message },
                         { QStringLiteral("remedy"), error->remedy } };
}

void printLine(const QString &line)
{
    const QByteArray utf8 = line.toUtf8();
    std::fwrite(utf8.constData(), 1, size_t(utf8.size()), stdout);
    std::fputc('\n', stdout);
    std::fflush(stdout);
}

void printError(const QString &line)
{
    const QByteArray utf8 = line.toUtf8();
    std::fwrite(utf8.constData(), 1, size_t(utf8.size()), stderr);
    std::fputc('\n', stderr);
    std::fflush(stderr);
}

void raiseFileDescriptorLimit()
{
    rlimit limit {};
    if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        ::setrlimit(RLIMIT_NOFILE, &limit);
    }
}

} // namespace poolscope::app
