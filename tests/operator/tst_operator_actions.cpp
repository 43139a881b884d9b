// Cancel and terminate from the Sessions page, through the product's own action path
// (SessionActions on its thread and connection), against a server PoolScope did not start. The
// server confirms each action; a monitoring role without pg_signal_backend is told so by name.
#include "core/monitor/monitorsession.h"
#include "tests/support/productionserver.h"
#include "tests/support/sandboxfixture.h"
#include "tests/support/testsession.h"
#include "ui/sessions/sessionsfilter.h"
#include "ui/sessions/sessionsmodel.h"
#include "ui/sessions/sessionspage.h"

#include <QAction>
#include <QFile>
#include <QItemSelectionModel>
#include <QLabel>
#include <QTableView>
#include <QtTest>

using namespace poolscope;
using namespace poolscope::testing;
using namespace poolscope::ui;

namespace {

const QString kMonitor = QLatin1String(ProductionServer::kMonitorRole);
const QString kOperator = QLatin1String(ProductionServer::kOperatorRole);
const QString kApp = QLatin1String(ProductionServer::kAppRole);

// The window's Sessions page watching the server as `role`; every confirmation answered yes.
struct SessionsWindow
{
    MonitorSession session;
    SessionsPage page { &session };
    QStringList confirmations;

    SessionsWindow(const QString &conninfo)
    {
        page.setConfirmFunction([this](const QString &, const QString &text) {
            confirmations << text;
            return true;
        });
        page.resize(1200, 700);
        page.show();
        MonitorSession::Options options;
        options.conninfo = conninfo;
        options.interval = std::chrono::milliseconds(500);
        session.start(options);
    }

    bool selectPid(int pid)
    {
        const int row = page.model()->rowOfPid(pid);
        if (row < 0)
            return false;
        const QModelIndex index = page.filter()->mapFromSource(page.model()->index(row, 0));
        page.view()->selectionModel()->select(
            index, QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
        return page.selectedPids() == QList<int> { pid };
    }

    QString status() const { return page.statusLabel()->text(); }
};

} // namespace

class tst_OperatorActions : public QObject
{
    Q_OBJECT

    ProductionServer m_server;

    QString stateOf(int pid) const
    {
        return m_server.adminQuery(
            QStringLiteral("SELECT state FROM pg_stat_activity WHERE pid = %1").arg(pid));
    }
    QString serverLog() const
    {
        QFile log(m_server.directory() + QLatin1String("/server/postgres.log"));
        return log.open(QIODevice::ReadOnly) ? QString::fromUtf8(log.readAll()) : QString();
    }
    void verifyNoPassword(const QString &text) const
    {
        for (const QString &password : m_server.passwords())
            QVERIFY2(!text.contains(password), "a password leaked");
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY2(m_server.start(), qPrintable(m_server.errorString()));
        qputenv("PGPASSFILE", QFile::encodeName(m_server.passFile()));
        qunsetenv("PGPASSWORD");
    }

    // What the tests below rely on: the server is set up like production, not like a sandbox.
    void serverIsSetUpLikeProduction()
    {
        QCOMPARE(m_server.adminQuery(QStringLiteral("SHOW password_encryption")),
                 QStringLiteral("scram-sha-256"));
        // Every TCP line is scram-sha-256; nothing is trusted.
        QCOMPARE(m_server.adminQuery(QStringLiteral(
                     "SELECT string_agg(DISTINCT type || ':' || auth_method, ',') FROM "
                     "pg_hba_file_rules")),
                 QStringLiteral("host:scram-sha-256,local:peer"));
        QCOMPARE(m_server.adminQuery(QStringLiteral(
                     "SELECT rolsuper::text || ',' || pg_has_role('monitor', 'pg_monitor', "
                     "'MEMBER')::text || ',' || pg_has_role('monitor', 'pg_signal_backend', "
                     "'MEMBER')::text FROM pg_roles WHERE rolname = 'monitor'")),
                 QStringLiteral("false,true,false"));
        QCOMPARE(m_server.adminQuery(QStringLiteral(
                     "SELECT pg_has_role('operator', 'pg_signal_backend', 'MEMBER')")),
                 QStringLiteral("t"));
        QCOMPARE(m_server.adminQuery(QStringLiteral(
                     "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'appdb'")),
                 kApp);
        // Passwords reach clients only through a private pgpass file.
        QCOMPARE(fileMode(m_server.passFile()), mode_t(0600));
        QStringList inFile = pgpassPasswords(m_server.passFile());
        QStringList generated = m_server.passwords();
        inFile.sort();
        generated.sort();
        QCOMPARE(inFile, generated);
        QVERIFY(!m_server.directUri(kMonitor).contains(m_server.password(kMonitor)));
        // Both servers run, and PgBouncer's console admits a stats user (this one counts itself).
        QVERIFY(m_server.postgresRunning() && m_server.pgBouncerRunning());
        QCOMPARE(m_server.bouncerClientsNamed(QStringLiteral("fixture-console")), 1);
        // A wrong password is refused over TCP: no trust anywhere.
        const QString wrong = connectionError(withUriParameter(
            m_server.directUri(kMonitor), QStringLiteral("password"), QStringLiteral("wrong")));
        QVERIFY2(wrong.contains(QLatin1String("28P01")), qPrintable(wrong));
    }

    void cancelFromTheSessionsPage()
    {
        TestSession victim(m_server.directUri(kApp), QStringLiteral("victim-cancel"));
        victim.execInBackground(QStringLiteral("SELECT pg_sleep(60)"));
        QTRY_COMPARE_WITH_TIMEOUT(stateOf(victim.pid()), QStringLiteral("active"), 10000);

        SessionsWindow window(m_server.directUri(kOperator));
        QTRY_VERIFY_WITH_TIMEOUT(window.selectPid(victim.pid()), 15000);
        window.page.cancelAction()->trigger();
        QCOMPARE(window.confirmations.size(), 1);
        QVERIFY2(window.confirmations.first().contains(QString::number(victim.pid())),
                 qPrintable(window.confirmations.first()));
        QTRY_VERIFY_WITH_TIMEOUT(window.status().contains(QLatin1String("succeeded for pids")),
                                 15000);
        QVERIFY2(window.status().contains(QString::number(victim.pid())),
                 qPrintable(window.status()));

        // The client got the cancel, the backend lives on and is idle, the server logged it.
        const auto error = victim.wait();
        QVERIFY(error.has_value());
        QCOMPARE(error->kind, ErrorKind::QueryCanceled);
        QCOMPARE(error->sqlstate, QStringLiteral("57014"));
        QTRY_COMPARE_WITH_TIMEOUT(stateOf(victim.pid()), QStringLiteral("idle"), 10000);
        QVERIFY(serverLog().contains(QLatin1String("canceling statement due to user request")));
        verifyNoPassword(window.status());
    }

    void terminateFromTheSessionsPage()
    {
        TestSession victim(m_server.directUri(kApp), QStringLiteral("victim-terminate"));
        QVERIFY(victim.exec(QStringLiteral("BEGIN")));
        QTRY_COMPARE_WITH_TIMEOUT(stateOf(victim.pid()), QStringLiteral("idle in transaction"),
                                  10000);

        SessionsWindow window(m_server.directUri(kOperator));
        QTRY_VERIFY_WITH_TIMEOUT(window.selectPid(victim.pid()), 15000);
        window.page.terminateAction()->trigger();
        QCOMPARE(window.confirmations.size(), 1);
        QTRY_VERIFY_WITH_TIMEOUT(window.status().contains(QLatin1String("succeeded for pids")),
                                 15000);
        // The server confirms: the backend is gone.
        QTRY_COMPARE_WITH_TIMEOUT(
            m_server.adminQuery(
                QStringLiteral("SELECT count(*) FROM pg_stat_activity WHERE pid = %1")
                    .arg(victim.pid())),
            QStringLiteral("0"), 10000);
        QVERIFY(serverLog().contains(
            QLatin1String("terminating connection due to administrator command")));
        QVERIFY(!victim.exec(QStringLiteral("SELECT 1")));
        // ... and the page drops it from the list.
        QTRY_VERIFY_WITH_TIMEOUT(window.page.model()->rowOfPid(victim.pid()) < 0, 10000);
    }

    void monitoringRoleIsToldItLacksPgSignalBackend()
    {
        TestSession victim(m_server.directUri(kApp), QStringLiteral("victim-refused"));
        victim.execInBackground(QStringLiteral("SELECT pg_sleep(60)"));
        QTRY_COMPARE_WITH_TIMEOUT(stateOf(victim.pid()), QStringLiteral("active"), 10000);

        SessionsWindow window(m_server.directUri(kMonitor));
        QTRY_VERIFY_WITH_TIMEOUT(window.selectPid(victim.pid()), 15000);
        for (QAction *action : { window.page.cancelAction(), window.page.terminateAction() }) {
            const QString before = window.status();
            action->trigger();
            QTRY_VERIFY_WITH_TIMEOUT(window.status() != before
                                         && window.status().contains(QLatin1String("failed")),
                                     15000);
            const QString status = window.status();
            // A typed error naming what is missing and what to grant, not "query failed".
            QVERIFY2(status.contains(QLatin1String("42501 insufficient_privilege")),
                     qPrintable(status));
            QVERIFY2(status.contains(QLatin1String("GRANT pg_signal_backend TO")),
                     qPrintable(status));
            QVERIFY2(!status.contains(QLatin1String("query_failed")), qPrintable(status));
            verifyNoPassword(status);
            // Nothing happened to the session.
            QCOMPARE(stateOf(victim.pid()), QStringLiteral("active"));
        }
        // The event log carries the same message for later.
        bool logged = false;
        for (const Event &event : window.session.events().eventsSince(0))
            logged = logged || event.message.contains(QLatin1String("GRANT pg_signal_backend TO"));
        QVERIFY(logged);

        QCOMPARE(
            m_server.adminQuery(QStringLiteral("SELECT pg_cancel_backend(%1)").arg(victim.pid())),
            QStringLiteral("t"));
        QVERIFY(victim.wait().has_value());
    }
};

QTEST_MAIN(tst_OperatorActions)
#include "tst_operator_actions.moc"
