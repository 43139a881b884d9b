// poolscope [--demo | <conninfo|URI>] [options]: the dashboard window. Its options are in
// windowoptions.cpp.
#include "app/commandline.h"
#include "app/windowoptions.h"
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
#include <QJsonDocument>
#include <QSettings>
#include <QStatusBar>
#include <QTimer>

#include <variant>

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
    // Everything on the command line is checked before anything starts, and before Qt looks for
    // a display: a typo is a usage error (2) on a headless machine too.
    QStringList args;
    for (int i = 1; i < argc; ++i)
        args << QString::fromLocal8Bit(argv[i]);
    const auto parsed = parseWindowCommandLine(args);
    if (const int *status = std::get_if<int>(&parsed))
        return *status;
    const WindowSettings &settings = std::get<WindowSettings>(parsed);
    // Qt would abort with "could not load the Qt platform plugin" and a core dump. The command
    // line is fine here, so this is not a usage error: the machine lacks what the window needs,
    // like a server that does not answer (1).
    if (const auto message = missingDisplayMessage(args)) {
        printError(*message);
        return ExitFailure;
    }

    QApplication app(argc, argv);
    QApplication::setApplicationName(QStringLiteral("poolscope"));
    QApplication::setApplicationDisplayName(QStringLiteral("PoolScope"));
    QApplication::setOrganizationName(QStringLiteral("PoolScope"));
    QApplication::setApplicationVersion(QStringLiteral(POOLSCOPE_VERSION));
    QApplication::setDesktopFileName(QStringLiteral("io.github.poolscope.PoolScope"));
    QApplication::setWindowIcon(ui::applicationIcon());
    logging::installQtMessageHandler();
    logging::setConsoleLevel(spdlog::level::warn);

    MonitorSession::Options options;
    options.interval = settings.interval;
    options.poolerConsoleConninfo = settings.poolerConsole;
    QSettings qsettings;
    ConnectionProfiles profiles(&qsettings);

    if (settings.demo) {
        options.startSandbox = true;
        options.demoWorkload = true;
        options.sandboxOptions.latencyMs = settings.latencyMs;
        options.sandboxOptions.maxConnections = settings.maxConnections;
    } else if (!settings.conninfo.isEmpty()) {
        options.conninfo = settings.conninfo;
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
    if (settings.printOptions)
        printLine(settingsToJson(settings));

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
        options.interval = settings.interval;
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
    if (!settings.page.isEmpty())
        window.showPage(settings.page);
    if (settings.chartWindowIndex >= 0) {
        if (auto *charts = window.findChild<ui::ChartsPage *>())
            charts->windowSelector()->setCurrentIndex(settings.chartWindowIndex);
    }
    window.show();
    if (options.startSandbox)
        window.statusBar()->showMessage(
            QObject::tr("Starting the embedded sandbox (PostgreSQL 15 + PgBouncer)..."));
    // The first paint of the window, for the start-up benchmark: printed on stdout when asked
    // for with --report-first-paint (the benchmark times the process from its launch).
    FirstPaintReporter reporter(settings.reportFirstPaint);
    window.installEventFilter(&reporter);
    session.start(options);

    if (settings.quitAfter) {
        QTimer::singleShot(*settings.quitAfter, &window, [&] {
            if (!settings.screenshot.isEmpty()) {
                window.grab().save(settings.screenshot);
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
