// poolscope [--demo | <conninfo|URI>] [options]: the dashboard window.
#include "app/commandline.h"
#include "core/db/conninfo.h"
#include "core/logging/logging.h"
#include "core/monitor/connectionprofiles.h"
#include "core/monitor/monitorsession.h"
#include "ui/appicon.h"
#include "ui/charts/chartspage.h"
#include "ui/connectdialog.h"
#include "ui/mainwindow.h"
#include "ui/passwordprompt.h"

#include <QApplication>
#include <QComboBox>
#include <QCommandLineParser>
#include <QJsonDocument>
#include <QSettings>
#include <QStatusBar>
#include <QTimer>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace poolscope::app {
namespace {

class FirstPaintReporter : public QObject
{
public:
    explicit FirstPaintReporter(bool enabled)
        : m_enabled(enabled)
    {
    }

protected:
    bool eventFilter(QObject *watched, QEvent *event) override
    {
        if (m_enabled && event->type() == QEvent::Paint) {
            m_enabled = false;
            // After the paint event has been handled, i.e. the first frame exists.
            QTimer::singleShot(0, [] { printLine(QStringLiteral("first_paint")); });
        }
        return QObject::eventFilter(watched, event);
    }

private:
    bool m_enabled;
};

} // namespace

int runDashboard(int argc, char *argv[])
{
    QApplication app(argc, argv);
    QApplication::setApplicationName(QStringLiteral("poolscope"));
    QApplication::setApplicationDisplayName(QStringLiteral("PoolScope"));
    QApplication::setOrganizationName(QStringLiteral("PoolScope"));
    QApplication::setApplicationVersion(QStringLiteral(POOLSCOPE_VERSION));
    QApplication::setDesktopFileName(QStringLiteral("io.github.poolscope.PoolScope"));
    QApplication::setWindowIcon(ui::applicationIcon());
    logging::installQtMessageHandler();
    logging::setConsoleLevel(spdlog::level::warn);

    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "PoolScope - a dashboard for PostgreSQL connection pooling.\n"
        "  poolscope --demo            the dashboard on an embedded sandbox with a light workload\n"
        "  poolscope <conninfo|URI>    watch that server\n"
        "  poolscope                   the last profile, or the connect dialog\n"
        "  poolscope <command> --help  the command-line tools (sandbox, bench, sample, exporter)"));
    parser.addHelpOption();
    parser.addVersionOption();
    parser.addPositionalArgument(QStringLiteral("conninfo"),
                                 QStringLiteral("libpq connection string or URI"),
                                 QStringLiteral("[conninfo]"));
    const QCommandLineOption demo(
        QStringLiteral("demo"),
        QStringLiteral("Start the embedded sandbox (PostgreSQL + PgBouncer) and a demo "
                       "workload, and watch them."));
    const QCommandLineOption console(QStringLiteral("pooler-console"),
                                     QStringLiteral("PgBouncer admin console to sample as well."),
                                     QStringLiteral("conninfo"));
    const QCommandLineOption interval(QStringLiteral("interval"),
                                      QStringLiteral("Sampling interval (default 1s)."),
                                      QStringLiteral("duration"), QStringLiteral("1s"));
    const QCommandLineOption maxConnections(
        QStringLiteral("max-connections"),
        QStringLiteral("--demo: the sandbox's max_connections (default 100)."), QStringLiteral("N"),
        QStringLiteral("100"));
    // --help/--version are handled below by hand: QCommandLineParser::process() would exit with
    // status 1 on an unknown option, where every poolscope usage error exits with 2.
    const QCommandLineOption screenshot(
        QStringLiteral("screenshot"),
        QStringLiteral("Save a picture of the window to FILE, print what the charts "
                       "hold as JSON, and quit (with --quit-after)."),
        QStringLiteral("FILE"));
    const QCommandLineOption quitAfter(QStringLiteral("quit-after"),
                                       QStringLiteral("Quit after this long."),
                                       QStringLiteral("duration"));
    const QCommandLineOption latency(
        QStringLiteral("latency-ms"),
        QStringLiteral("--demo: delay the sandbox's traffic by N ms each way, like a "
                       "remote region (default 0)."),
        QStringLiteral("N"), QStringLiteral("0"));
    const QCommandLineOption page(
        QStringLiteral("page"),
        QStringLiteral("Open on this page: %1 (default: the last one shown).")
            .arg(ui::MainWindow::pageNames().join(QStringLiteral(", "))),
        QStringLiteral("NAME"));
    // For a long session (and the soak benchmark) the charts can open on 24 h instead of the
    // newcomer's 5 min; the selector is not remembered, so without it a script could not set it.
    const QCommandLineOption chartWindow(
        QStringLiteral("chart-window"),
        QStringLiteral("The charts' time window: 1m, 5m, 15m, 1h, 6h or 24h (default 5m)."),
        QStringLiteral("duration"));
    QCommandLineOption reportPaint(
        QStringLiteral("report-first-paint"),
        QStringLiteral("Print 'first_paint' on stdout when the window is first painted."));
    reportPaint.setFlags(QCommandLineOption::HiddenFromHelp);
    parser.addOptions({ demo, console, interval, maxConnections, latency, page, chartWindow,
                        screenshot, quitAfter, reportPaint });
    if (!parser.parse(QApplication::arguments())) {
        printError(QStringLiteral("poolscope: ") + parser.errorText());
        return ExitUsage;
    }
    if (parser.isSet(QStringLiteral("help"))) {
        printLine(parser.helpText());
        return ExitOk;
    }
    if (parser.isSet(QStringLiteral("version"))) {
        printLine(QStringLiteral("poolscope ") + QApplication::applicationVersion());
        return ExitOk;
    }

    if (parser.isSet(page) && !ui::MainWindow::pageNames().contains(parser.value(page))) {
        printError(
            QStringLiteral("poolscope: --page takes one of %1, not '%2'")
                .arg(ui::MainWindow::pageNames().join(QStringLiteral(", ")), parser.value(page)));
        return ExitUsage;
    }

    qsizetype chartWindowIndex = -1;
    if (parser.isSet(chartWindow)) {
        const auto span = parseDuration(parser.value(chartWindow));
        chartWindowIndex =
            span ? ui::ChartsPage::windowChoicesMs().indexOf(qint64(span->count())) : -1;
        if (chartWindowIndex < 0) {
            printError(
                QStringLiteral("poolscope: --chart-window takes 1m, 5m, 15m, 1h, 6h or 24h"));
            return ExitUsage;
        }
    }

    MonitorSession::Options options;
    const auto every = parseDuration(parser.value(interval));
    if (!every || *every < std::chrono::milliseconds(250) || *every > std::chrono::seconds(60)) {
        printError(QStringLiteral("poolscope: --interval takes 250ms to 60s"));
        return ExitUsage;
    }
    options.interval = *every;
    options.poolerConsoleConninfo = parser.value(console);
    QSettings settings;
    ConnectionProfiles profiles(&settings);

    if (parser.isSet(demo)) {
        bool ok = false;
        options.startSandbox = true;
        options.demoWorkload = true;
        options.sandboxOptions.latencyMs = parser.value(latency).toInt(&ok);
        if (!ok || options.sandboxOptions.latencyMs < 0
            || options.sandboxOptions.latencyMs > 1000) {
            printError(
                QStringLiteral("poolscope: --latency-ms takes a whole number from 0 to 1000"));
            return ExitUsage;
        }
        options.sandboxOptions.maxConnections = parser.value(maxConnections).toInt(&ok);
        if (!ok || options.sandboxOptions.maxConnections < 10) {
            printError(QStringLiteral("poolscope: --max-connections takes a whole number >= 10"));
            return ExitUsage;
        }
    } else if (!parser.positionalArguments().isEmpty()) {
        options.conninfo = parser.positionalArguments().constFirst();
        if (auto parsed = ConnInfo::parse(options.conninfo); !parsed) {
            printError(QStringLiteral("poolscope: ") + parsed.error().message);
            return ExitUsage;
        }
    } else if (auto last = profiles.find(profiles.lastUsed())) {
        options.conninfo = last->conninfo;
        options.poolerConsoleConninfo = last->poolerConsoleConninfo;
    } else {
        ui::ConnectDialog dialog(&profiles);
        if (dialog.exec() != QDialog::Accepted)
            return ExitOk;
        const ConnectionProfile p = dialog.profile();
        options.conninfo = p.conninfo;
        options.poolerConsoleConninfo = p.poolerConsoleConninfo;
        profiles.setLastUsed(p.name);
    }

    MonitorSession session;
    ui::MainWindow window(&session);
    // libpq found no password in pgpass or PGPASSWORD: ask, keep it in memory only.
    ui::PasswordPrompt prompt(&session, &window);
    prompt.setOptions(options);
    QObject::connect(&window, &ui::MainWindow::connectRequested, &window, [&] {
        ui::ConnectDialog dialog(&profiles, &window);
        if (dialog.exec() != QDialog::Accepted)
            return;
        const ConnectionProfile p = dialog.profile();
        profiles.setLastUsed(p.name);
        options = MonitorSession::Options {};
        options.conninfo = p.conninfo;
        options.poolerConsoleConninfo = p.poolerConsoleConninfo;
        options.interval = *every;
        prompt.setOptions(options);
        session.start(options);
    });

#if defined(__GLIBC__)
    // glibc keeps what is freed inside its main heap rather than returning it to the system. The
    // GUI thread's churn (every chart re-queried and replotted on every tick) leaves that heap
    // fragmented, so over hours RSS climbed in steps while the live heap stayed flat (the soak in
    // BENCHMARKS.md: after 2 h, 13 MB of the main heap's 53 MB free but kept). Handing the free
    // pages back once a minute keeps RSS at what is in use.
    QTimer trimTimer;
    QObject::connect(&trimTimer, &QTimer::timeout, [] { ::malloc_trim(0); });
    trimTimer.start(std::chrono::minutes(1));
#endif
    installTerminationHandler(); // SIGTERM/SIGINT quit the event loop; the session stops below
    if (parser.isSet(page))
        window.showPage(parser.value(page));
    if (chartWindowIndex >= 0) {
        if (auto *charts = window.findChild<ui::ChartsPage *>())
            charts->windowSelector()->setCurrentIndex(int(chartWindowIndex));
    }
    window.show();
    if (options.startSandbox)
        window.statusBar()->showMessage(
            QObject::tr("Starting the embedded sandbox (PostgreSQL 15 + PgBouncer)..."));
    // The first paint of the window, for the start-up benchmark: printed on stdout when asked
    // for with --report-first-paint (the benchmark times the process from its launch).
    FirstPaintReporter reporter(parser.isSet(reportPaint));
    window.installEventFilter(&reporter);
    session.start(options);

    if (parser.isSet(quitAfter)) {
        const auto after = parseDuration(parser.value(quitAfter));
        if (!after) {
            printError(QStringLiteral("poolscope: --quit-after takes a duration such as 5s"));
            return ExitUsage;
        }
        QTimer::singleShot(*after, &window, [&] {
            if (parser.isSet(screenshot)) {
                window.grab().save(parser.value(screenshot));
                printLine(QString::fromUtf8(
                    QJsonDocument(window.diagnostics()).toJson(QJsonDocument::Compact)));
            }
            window.close();
        });
    }
    const int status = QApplication::exec();
    session.stop();
    return status;
}

} // namespace poolscope::app
