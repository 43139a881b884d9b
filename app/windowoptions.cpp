#include "app/windowoptions.h"

#include "app/commandline.h"
#include "core/db/conninfo.h"
#include "core/db/redaction.h"
#include "ui/charts/chartspage.h"
#include "ui/mainwindow.h"
#include "ui/uiversion.h"

#include <QCommandLineParser>
#include <QJsonDocument>
#include <QJsonObject>

#include <cstdlib>

namespace poolscope::app {

namespace {

// One window option: how it is spelled, documented and validated. `apply` stores a valid value
// in the settings and returns an empty string, or returns what is wrong with the value.
struct WindowOption
{
    const char *name;
    const char *valueName; // nullptr for a flag
    QString (*description)();
    QString (*apply)(const QString &value, WindowSettings &settings);
    bool demoOnly = false;
    bool hidden = false;
};

QString chartWindowNames()
{
    return QStringLiteral("1m, 5m, 15m, 1h, 6h or 24h");
}

const QList<WindowOption> &windowOptions()
{
    static const QList<WindowOption> table = {
        { "demo", nullptr,
          []() -> QString {
              return QStringLiteral("Start the embedded sandbox (PostgreSQL 15 + PgBouncer) and a "
                                    "demo workload, and watch them.");
          },
          [](const QString &, WindowSettings &s) -> QString {
              s.demo = true;
              return QString();
          } },
        { "pooler-console", "conninfo",
          []() -> QString { return QStringLiteral("PgBouncer admin console to sample as well."); },
          [](const QString &v, WindowSettings &s) -> QString {
              if (auto parsed = ConnInfo::parse(v); !parsed)
                  return QStringLiteral("--pooler-console: ") + parsed.error().message;
              s.poolerConsole = v;
              return QString();
          } },
        { "interval", "duration",
          []() -> QString {
              return QStringLiteral("Sampling interval, 250ms to 60s (default 1s).");
          },
          [](const QString &v, WindowSettings &s) -> QString {
              const auto every = parseDuration(v);
              if (!every || *every < std::chrono::milliseconds(250)
                  || *every > std::chrono::seconds(60))
                  return QStringLiteral("--interval takes 250ms to 60s, not '%1'").arg(v);
              s.interval = *every;
              return QString();
          } },
        { "max-connections", "N",
          []() -> QString {
              return QStringLiteral("--demo: the sandbox's max_connections (default 100).");
          },
          [](const QString &v, WindowSettings &s) -> QString {
              bool ok = false;
              const int n = v.toInt(&ok);
              if (!ok || n < 10 || n > 10000)
                  return QStringLiteral("--max-connections takes a whole number from 10 to "
                                        "10000, not '%1'")
                      .arg(v);
              s.maxConnections = n;
              return QString();
          },
          true },
        { "latency-ms", "N",
          []() -> QString {
              return QStringLiteral("--demo: delay the sandbox's traffic by N ms each way, like a "
                                    "remote region (0 to 1000, default 0).");
          },
          [](const QString &v, WindowSettings &s) -> QString {
              bool ok = false;
              const int n = v.toInt(&ok);
              if (!ok || n < 0 || n > 1000)
                  return QStringLiteral("--latency-ms takes a whole number from 0 to 1000, not "
                                        "'%1'")
                      .arg(v);
              s.latencyMs = n;
              return QString();
          },
          true },
        { "page", "NAME",
          []() -> QString {
              return QStringLiteral("Open on this page: %1 (default: the last one shown).")
                  .arg(ui::MainWindow::pageNames().join(QStringLiteral(", ")));
          },
          [](const QString &v, WindowSettings &s) -> QString {
              if (!ui::MainWindow::pageNames().contains(v))
                  return QStringLiteral("--page takes one of %1, not '%2'")
                      .arg(ui::MainWindow::pageNames().join(QStringLiteral(", ")), v);
              s.page = v;
              return QString();
          } },
        // For a long session (and the soak benchmark) the charts can open on 24 h instead of
        // the newcomer's 5 min; the selector is not remembered, so a script could not set it.
        { "chart-window", "duration",
          []() -> QString {
              return QStringLiteral("The charts' time window: %1 (default 5m).")
                  .arg(chartWindowNames());
          },
          [](const QString &v, WindowSettings &s) -> QString {
              const auto span = parseDuration(v);
              const auto index =
                  span ? ui::ChartsPage::windowChoicesMs().indexOf(qint64(span->count())) : -1;
              if (index < 0)
                  return QStringLiteral("--chart-window takes %1, not '%2'")
                      .arg(chartWindowNames(), v);
              s.chartWindowIndex = int(index);
              return QString();
          } },
        { "screenshot", "FILE",
          []() -> QString {
              return QStringLiteral("With --quit-after: save a picture of the window to FILE "
                                    "and print what the charts hold as JSON before quitting.");
          },
          [](const QString &v, WindowSettings &s) -> QString {
              if (v.trimmed().isEmpty())
                  return QStringLiteral("--screenshot takes a file name");
              s.screenshot = v;
              return QString();
          } },
        { "quit-after", "duration",
          []() -> QString {
              return QStringLiteral("Quit after this long, e.g. 5s (at most 24h).");
          },
          [](const QString &v, WindowSettings &s) -> QString {
              const auto after = parseDuration(v);
              if (!after)
                  return QStringLiteral("--quit-after takes a duration such as 5s, not '%1'")
                      .arg(v);
              s.quitAfter = *after;
              return QString();
          } },
        { "report-first-paint", nullptr,
          []() -> QString {
              return QStringLiteral("Print 'first_paint' on stdout when the window is first "
                                    "painted.");
          },
          [](const QString &, WindowSettings &s) -> QString {
              s.reportFirstPaint = true;
              return QString();
          },
          false, true },
        { "print-options", nullptr,
          []() -> QString {
              return QStringLiteral("Print the resolved options as JSON when the window opens.");
          },
          [](const QString &, WindowSettings &s) -> QString {
              s.printOptions = true;
              return QString();
          },
          false, true },
    };
    return table;
}

QString optionName(const WindowOption &o)
{
    return QString::fromLatin1(o.name);
}

// Qt's own command-line arguments (QGuiApplication and QApplication consume them): skipped by
// our parser, left in argv for QApplication. Qt accepts them with one dash or two.
const QStringList &qtValueArguments()
{
    static const QStringList names = {
        QStringLiteral("platform"),        QStringLiteral("platformpluginpath"),
        QStringLiteral("platformtheme"),   QStringLiteral("plugin"),
        QStringLiteral("display"),         QStringLiteral("geometry"),
        QStringLiteral("qwindowgeometry"), QStringLiteral("qwindowtitle"),
        QStringLiteral("qwindowicon"),     QStringLiteral("style"),
        QStringLiteral("stylesheet"),      QStringLiteral("session"),
        QStringLiteral("title"),           QStringLiteral("name"),
    };
    return names;
}

const QStringList &qtFlagArguments()
{
    static const QStringList names = {
        QStringLiteral("reverse"), QStringLiteral("widgetcount"), QStringLiteral("nograb"),
        QStringLiteral("dograb"),  QStringLiteral("sync"),
    };
    return names;
}

// "-platform"/"--platform" -> "platform"; empty for anything that is not one of Qt's.
QString qtArgumentName(const QString &arg)
{
    if (!arg.startsWith(QLatin1Char('-')))
        return {};
    const QString bare = arg.mid(arg.startsWith(QLatin1String("--")) ? 2 : 1);
    if (qtValueArguments().contains(bare) || qtFlagArguments().contains(bare))
        return bare;
    return {};
}

// Splits Qt's own arguments (with their values) from ours.
QStringList withoutQtArguments(const QStringList &args, QString *platform = nullptr,
                               QString *display = nullptr)
{
    QStringList ours;
    for (qsizetype i = 0; i < args.size(); ++i) {
        const QString name = qtArgumentName(args.at(i));
        if (name.isEmpty()) {
            ours << args.at(i);
            continue;
        }
        if (qtValueArguments().contains(name) && i + 1 < args.size()) {
            const QString value = args.at(++i);
            if (name == QLatin1String("platform") && platform)
                *platform = value;
            if (name == QLatin1String("display") && display)
                *display = value;
        }
    }
    return ours;
}

bool looksLikeConninfo(const QString &arg)
{
    return !arg.startsWith(QLatin1Char('-'))
        && (arg.contains(QLatin1Char('=')) || arg.startsWith(QLatin1String("postgres://"))
            || arg.startsWith(QLatin1String("postgresql://")));
}

QString windowHelp()
{
    return QStringLiteral(
               "Usage: poolscope [--demo | <conninfo|URI>] [window options]\n\n"
               "PoolScope - a dashboard for PostgreSQL connection pooling.\n"
               "  poolscope --demo            the dashboard on an embedded sandbox with a light "
               "workload\n"
               "  poolscope <conninfo|URI>    watch that server\n"
               "  poolscope                   the last profile, or the connect dialog\n"
               "  poolscope <command> --help  the command-line tools (sandbox, bench, sample, "
               "exporter, ...)\n\n"
               "Window options (before or after the connection string):\n")
        + windowOptionsHelp()
        + QStringLiteral("  -h, --help                  Show this help.\n"
                         "  -v, --version               Show the version.\n");
}

} // namespace

bool isWindowInvocation(const QStringList &args)
{
    const QStringList ours = withoutQtArguments(args);
    if (ours.isEmpty())
        return true;
    const QString &first = ours.constFirst();
    for (const WindowOption &o : windowOptions()) {
        const QString dashed = QStringLiteral("--") + optionName(o);
        if (first == dashed || first.startsWith(dashed + QLatin1Char('=')))
            return true;
    }
    return looksLikeConninfo(first);
}

QString windowOptionsHelp()
{
    QString text;
    for (const WindowOption &o : windowOptions()) {
        if (o.hidden)
            continue;
        QString left = QStringLiteral("  --") + optionName(o);
        if (o.valueName)
            left += QStringLiteral(" <%1>").arg(QString::fromLatin1(o.valueName));
        // Descriptions wrapped into a column of their own, as QCommandLineParser does.
        constexpr int column = 30;
        constexpr int width = 70;
        QStringList lines { QString() };
        for (const QString &word : o.description().split(QLatin1Char(' '))) {
            if (!lines.constLast().isEmpty() && lines.constLast().size() + 1 + word.size() > width)
                lines << QString();
            lines.last() += (lines.constLast().isEmpty() ? QString() : QStringLiteral(" ")) + word;
        }
        const QString indent(column, QLatin1Char(' '));
        text += left.size() + 2 > column ? left + QLatin1Char('\n') + indent
                                         : left.leftJustified(column);
        text += lines.join(QLatin1Char('\n') + indent) + QLatin1Char('\n');
    }
    return text;
}

std::variant<WindowSettings, int> parseWindowCommandLine(const QStringList &args)
{
    auto usage = [](const QString &message) {
        printError(QStringLiteral("poolscope: ") + message);
        return int(ExitUsage);
    };
    QCommandLineParser parser;
    const QCommandLineOption help({ QStringLiteral("h"), QStringLiteral("help") },
                                  QStringLiteral("Show this help."));
    const QCommandLineOption version({ QStringLiteral("v"), QStringLiteral("version") },
                                     QStringLiteral("Show the version."));
    parser.addOption(help);
    parser.addOption(version);
    QList<QCommandLineOption> options;
    for (const WindowOption &o : windowOptions()) {
        options << (o.valueName ? QCommandLineOption(optionName(o), o.description(),
                                                     QString::fromLatin1(o.valueName))
                                : QCommandLineOption(optionName(o), o.description()));
        parser.addOption(options.constLast());
    }
    if (!parser.parse(QStringList { QStringLiteral("poolscope") } + withoutQtArguments(args)))
        return usage(parser.errorText());
    if (parser.isSet(help)) {
        printLine(windowHelp());
        return int(ExitOk);
    }
    if (parser.isSet(version)) {
        printLine(QStringLiteral("poolscope %1 (%2)")
                      .arg(QStringLiteral(POOLSCOPE_VERSION), ui::guiLibraryVersions()));
        return int(ExitOk);
    }

    WindowSettings settings;
    for (qsizetype i = 0; i < windowOptions().size(); ++i) {
        const WindowOption &o = windowOptions().at(i);
        if (!parser.isSet(options.at(i)))
            continue;
        const QString error =
            o.apply(o.valueName ? parser.value(options.at(i)) : QString(), settings);
        if (!error.isEmpty())
            return usage(error);
    }
    for (qsizetype i = 0; i < windowOptions().size(); ++i) {
        const WindowOption &o = windowOptions().at(i);
        if (o.demoOnly && !settings.demo && parser.isSet(options.at(i)))
            return usage(QStringLiteral("--%1 applies to --demo only (the embedded sandbox)")
                             .arg(optionName(o)));
    }
    if (!settings.screenshot.isEmpty() && !settings.quitAfter)
        return usage(QStringLiteral("--screenshot is taken when --quit-after ends the window: "
                                    "give both"));

    const QStringList positional = parser.positionalArguments();
    if (positional.size() > 1)
        return usage(QStringLiteral("one connection string at most, got '%1'")
                         .arg(redactSecrets(positional.join(QStringLiteral("' '")))));
    if (!positional.isEmpty()) {
        if (settings.demo)
            return usage(QStringLiteral("--demo watches its own sandbox: give either --demo or a "
                                        "connection string"));
        if (auto parsed = ConnInfo::parse(positional.constFirst()); !parsed)
            return usage(parsed.error().message);
        settings.conninfo = positional.constFirst();
    }
    return settings;
}

std::optional<QString> missingDisplayMessage(const QStringList &args)
{
    QString platform;
    QString display;
    withoutQtArguments(args, &platform, &display);
    if (platform.isEmpty())
        platform = qEnvironmentVariable("QT_QPA_PLATFORM");
    const bool x11 = !display.isEmpty() || !qEnvironmentVariableIsEmpty("DISPLAY");
    const bool wayland = !qEnvironmentVariableIsEmpty("WAYLAND_DISPLAY");

    bool usable = x11 || wayland;
    if (!platform.isEmpty()) {
        // "offscreen", "xcb:option=..." or a fallback list "wayland;xcb": any usable one will do.
        usable = false;
        for (const QString &candidate : platform.split(QLatin1Char(';'), Qt::SkipEmptyParts)) {
            const QString name = candidate.section(QLatin1Char(':'), 0, 0).trimmed();
            if (name == QLatin1String("xcb"))
                usable = usable || x11;
            else if (name.startsWith(QLatin1String("wayland")))
                usable = usable || wayland;
            else
                usable = true; // offscreen, minimal, vnc, eglfs, linuxfb, ...: no display server
        }
    }
    if (usable)
        return std::nullopt;
    return QStringLiteral(
               "poolscope: no display to open the window on: neither DISPLAY (X11) nor "
               "WAYLAND_DISPLAY "
               "(Wayland) is set%1.\n"
               "Without a display:\n"
               "  poolscope sample <URI> [--pooler-console <conninfo>]   one JSON line per "
               "interval\n"
               "  poolscope exporter <URI>             Prometheus /metrics for a dashboard "
               "elsewhere\n"
               "  packaging/run.sh                     the embedded sandbox with a live summary\n"
               "  xvfb-run -a poolscope ...            the window on a virtual X server (Xvfb)\n"
               "  QT_QPA_PLATFORM=offscreen poolscope ... --screenshot FILE --quit-after 10s\n"
               "                                       a picture of the window, no display needed")
        .arg(platform.isEmpty() ? QString()
                                : QStringLiteral(" for QT_QPA_PLATFORM=%1").arg(platform));
}

QString settingsToJson(const WindowSettings &s)
{
    QJsonObject o {
        { QStringLiteral("demo"), s.demo },
        { QStringLiteral("conninfo"), redactSecrets(s.conninfo) },
        { QStringLiteral("pooler_console"), redactSecrets(s.poolerConsole) },
        { QStringLiteral("interval_ms"), qint64(s.interval.count()) },
        { QStringLiteral("max_connections"), s.maxConnections },
        { QStringLiteral("latency_ms"), s.latencyMs },
        { QStringLiteral("page"), s.page },
        { QStringLiteral("chart_window_index"), s.chartWindowIndex },
        { QStringLiteral("screenshot"), s.screenshot },
        { QStringLiteral("quit_after_ms"),
          s.quitAfter ? QJsonValue(qint64(s.quitAfter->count())) : QJsonValue() },
    };
    return QString::fromUtf8(QJsonDocument(o).toJson(QJsonDocument::Compact));
}

} // namespace poolscope::app
