// Connecting to a server PoolScope did not start, the ways an operator does: the connect dialog
// and a saved profile (reopened by the real binary), the password from pgpass, from PGPASSWORD
// and from the prompt (a wrong one is refused with 28P01 and asked again), and
// `poolscope '<URI>' --pooler-console '<conninfo>'` from the command line. No password ever lands
// in the settings file, an event or the program's output.
#include "core/monitor/connectionprofiles.h"
#include "core/monitor/monitorsession.h"
#include "tests/support/logcapture.h"
#include "tests/support/productionserver.h"
#include "ui/connectdialog.h"
#include "ui/mainwindow.h"
#include "ui/passwordprompt.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QFile>
#include <QLineEdit>
#include <QProcess>
#include <QPushButton>
#include <QSettings>
#include <QtTest>

using namespace poolscope;
using namespace poolscope::testing;
using namespace poolscope::ui;

namespace {

const QString kMonitor = QLatin1String(ProductionServer::kMonitorRole);
const QString kSampler = QStringLiteral("poolscope-sampler");

// Sets (or, with a null value, removes) an environment variable for one scope.
class ScopedEnv
{
public:
    ScopedEnv(const char *name, const QByteArray &value)
        : m_name(name)
        , m_had(qEnvironmentVariableIsSet(name))
        , m_old(qgetenv(name))
    {
        if (value.isNull())
            qunsetenv(name);
        else
            qputenv(name, value);
    }
    ~ScopedEnv()
    {
        if (m_had)
            qputenv(m_name, m_old);
        else
            qunsetenv(m_name);
    }

private:
    const char *m_name;
    bool m_had;
    QByteArray m_old;
};

} // namespace

class tst_OperatorConnect : public QObject
{
    Q_OBJECT

    ProductionServer m_server;

    QString settingsText() const
    {
        QSettings settings;
        settings.sync();
        QFile file(settings.fileName());
        return file.open(QIODevice::ReadOnly) ? QString::fromUtf8(file.readAll()) : QString();
    }
    void verifyNoPassword(const QString &text, const char *where) const
    {
        for (const QString &password : m_server.passwords())
            QVERIFY2(!text.contains(password), where);
    }
    QString eventText(MonitorSession &session) const
    {
        QStringList lines;
        for (const Event &e : session.events().eventsSince(0))
            lines << e.message + QLatin1Char(' ') + e.remedy;
        return lines.join(QLatin1Char('\n'));
    }
    // Watches `conninfo` in-process until the first sample or the first failure: true when it
    // sampled.
    bool samples(const QString &conninfo)
    {
        MonitorSession session;
        QSignalSpy sampled(&session, &MonitorSession::sampled);
        QSignalSpy lost(&session, &MonitorSession::connectionLost);
        MonitorSession::Options options;
        options.conninfo = conninfo;
        session.start(options);
        const bool answered =
            QTest::qWaitFor([&] { return sampled.count() + lost.count() > 0; }, 15000);
        return answered && sampled.count() > 0;
    }
    // The real binary, with this test's HOME and pgpass; offscreen.
    void startPoolScope(QProcess &process, const QStringList &args) const
    {
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("QT_QPA_PLATFORM"), QStringLiteral("offscreen"));
        process.setProcessEnvironment(env);
        process.start(QStringLiteral(POOLSCOPE_EXECUTABLE), args);
    }
    // The sampler of a running poolscope, seen from the servers: one backend as `monitor` on
    // PostgreSQL and one client on PgBouncer's console.
    bool serverSeesTheSampler() const
    {
        return m_server.backendsNamed(kSampler) == 1
            && m_server.adminQuery(QStringLiteral("SELECT usename FROM pg_stat_activity WHERE "
                                                  "application_name = 'poolscope-sampler'"))
            == kMonitor
            && m_server.bouncerClientsNamed(kSampler, QStringLiteral("pgbouncer")) == 1;
    }
    void stopPoolScope(QProcess &process) const
    {
        process.terminate();
        QVERIFY(process.waitForFinished(15000));
        QCOMPARE(process.exitStatus(), QProcess::NormalExit);
        QCOMPARE(process.exitCode(), 0);
        const QString output =
            QString::fromUtf8(process.readAllStandardOutput() + process.readAllStandardError());
        verifyNoPassword(output, "a password in poolscope's output");
        QTRY_COMPARE_WITH_TIMEOUT(m_server.backendsNamed(kSampler), 0, 10000);
    }

private Q_SLOTS:
    void initTestCase()
    {
        // The HOME of this test (isolatedhome.cpp) is inherited by the binary started below,
        // which then reads the settings file this process writes.
        QCoreApplication::setOrganizationName(QStringLiteral("PoolScope"));
        QCoreApplication::setApplicationName(QStringLiteral("poolscope"));
        QVERIFY2(m_server.start(), qPrintable(m_server.errorString()));
        qputenv("PGPASSFILE", QFile::encodeName(m_server.passFile()));
        qunsetenv("PGPASSWORD");
    }

    void connectDialogSavesAProfileWithoutPasswordThatTheBinaryReopens()
    {
        // The operator pastes URIs that carry a password: the profile keeps everything else.
        const QString password = m_server.password(kMonitor);
        QString uri = m_server.directUri(kMonitor);
        uri.replace(kMonitor + QLatin1Char('@'),
                    kMonitor + QLatin1Char(':') + password + QLatin1Char('@'));
        const QString console = m_server.consoleConninfo() + QLatin1String(" password=") + password;
        {
            QSettings settings;
            ConnectionProfiles profiles(&settings);
            ConnectDialog dialog(&profiles);
            const QList<QLineEdit *> edits = dialog.findChildren<QLineEdit *>();
            QVERIFY(edits.size() >= 3); // name, connection string, pooler console
            edits.at(0)->setText(QStringLiteral("production"));
            edits.at(1)->setText(uri);
            edits.at(2)->setText(console);
            dialog.show();
            dialog.findChild<QDialogButtonBox *>()->button(QDialogButtonBox::Ok)->click();
            QCOMPARE(dialog.result(), int(QDialog::Accepted));
            profiles.setLastUsed(dialog.profile().name); // what the window does on Connect
        }
        const QString onDisk = settingsText();
        QVERIFY2(onDisk.contains(QStringLiteral("production")), qPrintable(onDisk));
        QVERIFY2(onDisk.contains(QString::number(m_server.postgresPort())), qPrintable(onDisk));
        verifyNoPassword(onDisk, "a password in the settings file");

        // Reopened: the saved profile fills the dialog, and it connects with pgpass alone.
        QSettings settings;
        ConnectionProfiles profiles(&settings);
        ConnectDialog dialog(&profiles);
        auto *saved = dialog.findChild<QComboBox *>();
        QCOMPARE(saved->itemText(1), QStringLiteral("production"));
        saved->setCurrentIndex(1);
        const ConnectionProfile profile = dialog.profile();
        QVERIFY(!profile.conninfo.contains(password));
        QVERIFY2(
            profile.poolerConsoleConninfo.contains(QStringLiteral("pgbouncer"))
                && profile.poolerConsoleConninfo.contains(QString::number(m_server.bouncerPort())),
            qPrintable(profile.poolerConsoleConninfo));
        QVERIFY(samples(profile.conninfo));

        // `poolscope` with no argument reopens the last profile, and watches it. Part of this
        // test rather than a test of its own: it needs the profile saved above.
        QProcess poolscope;
        startPoolScope(poolscope, {});
        QVERIFY(poolscope.waitForStarted());
        QTRY_VERIFY_WITH_TIMEOUT(serverSeesTheSampler(), 30000);
        stopPoolScope(poolscope);
    }

    void commandLineWatchesWithPoolerConsole()
    {
        QProcess poolscope;
        startPoolScope(poolscope,
                       { m_server.directUri(kMonitor), QStringLiteral("--pooler-console"),
                         m_server.consoleConninfo() });
        QVERIFY(poolscope.waitForStarted());
        QTRY_VERIFY_WITH_TIMEOUT(serverSeesTheSampler(), 30000);
        stopPoolScope(poolscope);
    }

    void passwordFromPgpass()
    {
        QVERIFY(samples(m_server.directUri(kMonitor)));
        QVERIFY(samples(m_server.pooledUri(kMonitor)));
    }

    // A session started while a real-cold test has background polling paused stays quiet from
    // its first tick (no connection, no query), and samples once the pause ends.
    void aSessionStartedDuringARealColdPauseStaysQuiet()
    {
        // A name of its own: PgBouncer keeps the server connections of earlier tests' samplers,
        // still named poolscope-sampler, for minutes.
        const QString name = QStringLiteral("paused-session-probe");
        QString uri = m_server.directUri(kMonitor);
        uri += (uri.contains(QLatin1Char('?')) ? QStringLiteral("&") : QStringLiteral("?"))
            + QStringLiteral("application_name=") + name;
        MonitorSession session;
        QSignalSpy sampled(&session, &MonitorSession::sampled);
        session.setBackgroundPaused(true);
        MonitorSession::Options options;
        options.conninfo = uri;
        options.interval = std::chrono::milliseconds(250);
        session.start(options);
        QTest::qWait(6 * 250); // six sampling intervals: enough for a first tick to show
        QCOMPARE(sampled.count(), 0);
        QCOMPARE(m_server.backendsNamed(name), 0);
        session.setBackgroundPaused(false);
        QTRY_VERIFY_WITH_TIMEOUT(sampled.count() >= 1, 15000);
        QCOMPARE(m_server.backendsNamed(name), 1); // the count above would have seen it
        session.stop();
    }

    void passwordFromPGPASSWORD()
    {
        const ScopedEnv noPassFile("PGPASSFILE", "/nonexistent/pgpass");
        {
            const ScopedEnv password("PGPASSWORD", m_server.password(kMonitor).toUtf8());
            QVERIFY(samples(m_server.directUri(kMonitor)));
        }
        QVERIFY(!samples(m_server.directUri(kMonitor))); // and nothing else supplied it
    }

    void passwordFromThePrompt()
    {
        const ScopedEnv noPassFile("PGPASSFILE", "/nonexistent/pgpass");
        const ScopedEnv noPassword("PGPASSWORD", QByteArray());
        const auto log = LogCapture::install(); // every log line of the attempts below
        MonitorSession session;
        MainWindow window(&session);
        PasswordPrompt prompt(&session, &window);
        window.show();
        MonitorSession::Options options;
        options.conninfo = m_server.directUri(kMonitor);
        options.interval = std::chrono::milliseconds(500);
        prompt.setOptions(options);
        QSignalSpy sampled(&session, &MonitorSession::sampled);
        session.start(options);

        // No password anywhere: the prompt asks.
        QTRY_VERIFY_WITH_TIMEOUT(prompt.dialog() && prompt.dialog()->isVisible(), 15000);
        QVERIFY2(prompt.dialog()->labelText().contains(QLatin1String("Password for monitor@")),
                 qPrintable(prompt.dialog()->labelText()));
        QPointer<QInputDialog> first = prompt.dialog();
        first->setTextValue(QStringLiteral("not-the-password"));
        first->accept();

        // Wrong: a typed 28P01, and the prompt again (a new one), never a hang.
        QTRY_VERIFY_WITH_TIMEOUT(prompt.dialog() && prompt.dialog() != first.data()
                                     && prompt.dialog()->isVisible(),
                                 15000);
        const QString again = prompt.dialog()->labelText();
        QVERIFY2(again.contains(QLatin1String("28P01 invalid_password")), qPrintable(again));
        bool typed = false;
        for (const Event &e : session.events().eventsSince(0))
            typed = typed || (e.sqlstate == QLatin1String("28P01") && !e.remedy.isEmpty());
        QVERIFY(typed);
        QCOMPARE(sampled.count(), 0);

        // Right: it samples, and the password stays in memory only.
        prompt.dialog()->setTextValue(m_server.password(kMonitor));
        prompt.dialog()->accept();
        QTRY_VERIFY_WITH_TIMEOUT(sampled.count() >= 1, 15000);
        QVERIFY(!session.serverUnreachable());
        verifyNoPassword(eventText(session), "a password in the event log");
        QVERIFY(log->contains(QStringLiteral("28P01")));
        verifyNoPassword(log->lines().join(QLatin1Char('\n')), "a password in the log");
        QVERIFY(!log->lines().join(QLatin1Char('\n')).contains(QLatin1String("not-the-password")));
        log->detach();
        verifyNoPassword(window.windowTitle(), "a password in the window title");
        window.close();
        verifyNoPassword(settingsText(), "a password in the settings file");
    }
};

QTEST_MAIN(tst_OperatorConnect)
#include "tst_operator_connect.moc"
