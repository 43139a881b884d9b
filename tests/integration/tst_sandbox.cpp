// The sandbox itself: PostgreSQL + PgBouncer start, authentication, pooler behaviour, restarts,
// clean-up on destruction, and the `poolscope sandbox` command including SIGKILL robustness.
#include "core/db/redaction.h"
#include "core/sandbox/sandbox.h"
#include "tests/support/logcapture.h"
#include "tests/support/sandboxfixture.h"

#include <QDeadlineTimer>
#include <QFile>
#include <QFileInfo>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

#include <pwd.h>
#include <unistd.h>

#include <csignal>

using namespace poolscope;
using namespace poolscope::testing;

namespace {

// True when the process no longer exists or is a zombie: PID 1 reaps orphans late on these
// machines, and a zombie holds no port and no file.
bool processGone(qint64 pid)
{
    QFile stat(QStringLiteral("/proc/%1/stat").arg(pid));
    if (!stat.open(QIODevice::ReadOnly))
        return true;
    const QByteArray text = stat.readAll();
    const qsizetype close = text.lastIndexOf(')');
    if (close < 0 || close + 2 >= text.size())
        return true;
    const char state = text.at(close + 2);
    return state == 'Z' || state == 'X';
}

// `poolscope sandbox` as a child process, with the key=value lines it printed.
struct SandboxCommand
{
    QProcess process;
    QStringList lines;

    QString value(const QString &key) const
    {
        for (const QString &line : lines) {
            if (line.startsWith(key + QLatin1Char('=')))
                return line.mid(key.size() + 1);
        }
        return QString();
    }

    void start(const QStringList &arguments)
    {
        process.setProgram(QStringLiteral(POOLSCOPE_EXECUTABLE));
        process.setArguments(QStringList { QStringLiteral("sandbox") } + arguments);
        process.setProcessChannelMode(QProcess::ForwardedErrorChannel);
        process.start();
    }

    // Reads stdout until the last informative line (pgbouncer_pid=) arrives.
    bool readEndpoints(int timeoutMs)
    {
        QDeadlineTimer deadline(timeoutMs);
        while (!deadline.hasExpired()) {
            while (process.canReadLine())
                lines.append(QString::fromUtf8(process.readLine()).trimmed());
            if (!value(QStringLiteral("pgbouncer_pid")).isEmpty())
                return true;
            if (process.state() == QProcess::NotRunning)
                return false;
            process.waitForReadyRead(100);
        }
        return false;
    }
};

} // namespace

class TstSandbox : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void directAndPooledAcceptQueries();
    void pooledConnectionsReachTheSandboxPostgres();
    void tcpNeedsThePassword();
    void filesArePrivate();
    void poolerRejectsStartupOptions();
    void consoleAnswersShowPools();
    void maxConnectionsIsApplied();
    void passwordsNeverReachTheLog();
    void postgresCanBeRestarted();
    void destructionStopsAndRemovesEverything();
    void startFailureReportsTheServerLog();
    void commandSurvivesSigkillWithoutOrphans();
    void commandStopsCleanlyOnSigterm();
    void commandRejectsBadValues();
    void cleanupTestCase();

private:
    std::shared_ptr<LogCapture> m_log;
    SandboxFixture m_sandbox;
};

void TstSandbox::initTestCase()
{
    m_log = LogCapture::install();
    sandbox::SandboxOptions options;
    options.maxConnections = 30;
    options.poolSize = 5;
    QVERIFY2(m_sandbox.start(options), qPrintable(m_sandbox.errorString()));
    QVERIFY(m_sandbox.isRunning());
    QVERIFY(m_log->contains(QStringLiteral("sandbox ready in")));
    QCOMPARE(qgetenv("PGPASSFILE"), QFile::encodeName(m_sandbox.endpoints().passFile));
}

void TstSandbox::directAndPooledAcceptQueries()
{
    const auto &e = m_sandbox.endpoints();
    // The TLS parameters are checked in tst_sandboxtls.
    const QString tls = QStringLiteral("?sslmode=verify-full&sslrootcert=") + e.caCertificate;
    QCOMPARE(e.directUri,
             QStringLiteral("postgresql://app@127.0.0.1:%1/app").arg(e.postgresPort) + tls);
    QCOMPARE(e.pooledUri,
             QStringLiteral("postgresql://app@127.0.0.1:%1/app").arg(e.bouncerPort) + tls);
    for (const QString &uri : { e.directUri, e.pooledUri, e.adminUri }) {
        QString error;
        QCOMPARE(querySingleValue(uri, QStringLiteral("SELECT 1"), &error), QStringLiteral("1"));
        QVERIFY2(error.isEmpty(), qPrintable(error));
    }
    QCOMPARE(querySingleValue(e.directUri, QStringLiteral("SELECT current_user")),
             QStringLiteral("app"));
    QCOMPARE(
        querySingleValue(
            e.adminUri,
            QStringLiteral("SELECT rolsuper::text FROM pg_roles WHERE rolname = current_user")),
        QStringLiteral("true"));
}

void TstSandbox::pooledConnectionsReachTheSandboxPostgres()
{
    const auto &e = m_sandbox.endpoints();
    QString error;
    QCOMPARE(querySingleValue(e.pooledUri, QStringLiteral("SELECT inet_server_port()"), &error),
             QString::number(e.postgresPort));
    QVERIFY2(error.isEmpty(), qPrintable(error));
    QVERIFY(e.postgresPort != e.bouncerPort);
}

void TstSandbox::tcpNeedsThePassword()
{
    const int port = m_sandbox.endpoints().postgresPort;
    const QString wrong = connectionError(
        QStringLiteral("postgresql://app:wrong-password@127.0.0.1:%1/app").arg(port));
    QVERIFY2(wrong.contains(QLatin1String("28P01")), qPrintable(wrong));
    // No password at all (empty pgpass): refused too, so there is no trust on TCP.
    const QString none = connectionError(
        QStringLiteral("postgresql://app@127.0.0.1:%1/app?passfile=/nonexistent/pgpass").arg(port));
    QVERIFY2(!none.isEmpty(), "connected over TCP without a password");
    const QString pooled =
        connectionError(QStringLiteral("postgresql://app:wrong-password@127.0.0.1:%1/app")
                            .arg(m_sandbox.endpoints().bouncerPort));
    QVERIFY2(!pooled.isEmpty(), "PgBouncer accepted a wrong password");
}

void TstSandbox::filesArePrivate()
{
    const auto &e = m_sandbox.endpoints();
    uid_t owner = 0;
    QCOMPARE(fileMode(e.passFile, &owner), mode_t(0600));
    QCOMPARE(owner, ::geteuid());
    QCOMPARE(fileMode(e.directory, &owner), mode_t(0700));
    if (::geteuid() == 0) {
        const passwd *pw = ::getpwnam("postgres");
        QVERIFY(pw);
        QCOMPARE(owner, pw->pw_uid);
    } else {
        QCOMPARE(owner, ::geteuid());
    }
    QVERIFY(!QFileInfo::exists(e.directory + QStringLiteral("/initdb.pw")));
    QCOMPARE(fileMode(e.directory + QStringLiteral("/userlist.txt")), mode_t(0600));

    QFile pgpass(e.passFile);
    QVERIFY(pgpass.open(QIODevice::ReadOnly));
    const QString text = QString::fromUtf8(pgpass.readAll());
    for (int port : { e.postgresPort, e.bouncerPort }) {
        for (const char *role : { "app", "postgres", "poolscope_stats" })
            QVERIFY(text.contains(
                QStringLiteral("127.0.0.1:%1:*:%2:").arg(port).arg(QLatin1String(role))));
    }
}

void TstSandbox::poolerRejectsStartupOptions()
{
    const auto &e = m_sandbox.endpoints();
    const auto withOptions = [](const QString &uri) {
        return withUriParameter(uri, QStringLiteral("options"),
                                QStringLiteral("-c statement_timeout=1000"));
    };
    const QString pooled = connectionError(withOptions(e.pooledUri));
    QVERIFY2(pooled.contains(QLatin1String("unsupported startup parameter")), qPrintable(pooled));
    // PostgreSQL itself takes them.
    QCOMPARE(querySingleValue(withOptions(e.directUri), QStringLiteral("SHOW statement_timeout")),
             QStringLiteral("1s"));
}

void TstSandbox::consoleAnswersShowPools()
{
    const auto &e = m_sandbox.endpoints();
    QVERIFY(e.poolerConsoleUri.contains(QStringLiteral(":%1/pgbouncer?").arg(e.bouncerPort)));
    QString error;
    const QString database =
        querySingleValue(e.poolerConsoleUri, QStringLiteral("SHOW POOLS"), &error);
    QVERIFY2(error.isEmpty(), qPrintable(error));
    QVERIFY(!database.isEmpty());
}

void TstSandbox::maxConnectionsIsApplied()
{
    const auto &e = m_sandbox.endpoints();
    QCOMPARE(querySingleValue(e.directUri, QStringLiteral("SHOW max_connections")),
             QStringLiteral("30"));
    QCOMPARE(querySingleValue(e.directUri, QStringLiteral("SHOW superuser_reserved_connections")),
             QStringLiteral("3"));
    QCOMPARE(querySingleValue(e.directUri, QStringLiteral("SHOW lc_messages")),
             QStringLiteral("C"));
    QCOMPARE(querySingleValue(e.directUri, QStringLiteral("SHOW fsync")), QStringLiteral("off"));
    // The endpoints say what the servers were started with.
    QCOMPARE(e.maxConnections, 30);
    QCOMPARE(e.poolSize, 5);
}

void TstSandbox::passwordsNeverReachTheLog()
{
    const QStringList secrets = pgpassPasswords(m_sandbox.endpoints().passFile);
    QCOMPARE(secrets.size(), 3);
    for (const QString &secret : secrets) {
        QCOMPARE(secret.size(), 24);
        QCOMPARE(redactSecrets(QStringLiteral("x ") + secret), QStringLiteral("x ***"));
        for (const QString &line : m_log->lines())
            QVERIFY2(!line.contains(secret), qPrintable(line));
    }
}

void TstSandbox::postgresCanBeRestarted()
{
    const auto &e = m_sandbox.endpoints();
    const qint64 oldPid = e.postgresPid;
    const qint64 bouncerPid = e.bouncerPid;
    const auto stopped = m_sandbox.sandbox().stopPostgres();
    QVERIFY2(stopped.ok(), stopped.ok() ? "" : qPrintable(stopped.error().message));
    QVERIFY(processGone(oldPid));
    QString error;
    QVERIFY(querySingleValue(e.directUri, QStringLiteral("SELECT 1"), &error).isNull());
    QVERIFY(!error.isEmpty());
    // (No query through PgBouncer here: it would queue the client until query_wait_timeout.)

    const auto started = m_sandbox.sandbox().startPostgres();
    QVERIFY2(started.ok(), started.ok() ? "" : qPrintable(started.error().message));
    QVERIFY(e.postgresPid != oldPid);
    QCOMPARE(e.bouncerPid, bouncerPid);
    QCOMPARE(querySingleValue(e.directUri, QStringLiteral("SELECT 1")), QStringLiteral("1"));
    // PgBouncer retries its server login after server_login_retry (1 s).
    QTRY_COMPARE_WITH_TIMEOUT(querySingleValue(e.pooledUri, QStringLiteral("SELECT 1")),
                              QStringLiteral("1"), 10000);
}

void TstSandbox::destructionStopsAndRemovesEverything()
{
    sandbox::SandboxEndpoints e;
    {
        sandbox::Sandbox box;
        const auto started = box.start();
        QVERIFY2(started.ok(), started.ok() ? "" : qPrintable(started.error().message));
        e = started.value();
        QVERIFY(!processGone(e.postgresPid));
        QVERIFY(!processGone(e.bouncerPid));
        QVERIFY(QFileInfo::exists(e.directory));
        QCOMPARE(
            querySingleValue(withUriParameter(e.directUri, QStringLiteral("passfile"), e.passFile),
                             QStringLiteral("SHOW max_connections")),
            QStringLiteral("100"));
    }
    QVERIFY(processGone(e.postgresPid));
    QVERIFY(processGone(e.bouncerPid));
    QVERIFY(!QFileInfo::exists(e.directory));
}

void TstSandbox::startFailureReportsTheServerLog()
{
    // A bin directory whose `postgres` dies at once: start() must fail with the tail of its log
    // and leave nothing behind.
    QTemporaryDir bin;
    QVERIFY(bin.isValid());
    QVERIFY(QFile::setPermissions(bin.path(),
                                  QFileDevice::ReadOwner | QFileDevice::WriteOwner
                                      | QFileDevice::ExeOwner | QFileDevice::ReadOther
                                      | QFileDevice::ExeOther));
    QVERIFY(QFile::link(QStringLiteral("/usr/lib/postgresql/15/bin/initdb"),
                        bin.filePath(QStringLiteral("initdb"))));
    QFile fake(bin.filePath(QStringLiteral("postgres")));
    QVERIFY(fake.open(QIODevice::WriteOnly));
    fake.write(
        "#!/bin/sh\nfor i in 1 2 3; do echo \"FATAL:  simulated failure $i\"; done\nexit 3\n");
    fake.close();
    QVERIFY(fake.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner
                                | QFileDevice::ExeOwner | QFileDevice::ReadOther
                                | QFileDevice::ExeOther));

    m_log->clear();
    sandbox::SandboxOptions options;
    options.postgresBinDirectory = bin.path();
    sandbox::Sandbox box;
    const auto started = box.start(options);
    QVERIFY(!started.ok());
    const QString message = started.error().message;
    QVERIFY2(message.contains(QLatin1String("exited during start-up")), qPrintable(message));
    QVERIFY2(message.contains(QLatin1String("exit code 3")), qPrintable(message));
    QVERIFY2(message.contains(QLatin1String("simulated failure 3")), qPrintable(message));
    QVERIFY(!box.isRunning());

    QString directory;
    for (const QString &line : m_log->lines()) {
        const qsizetype at = line.indexOf(QLatin1String("sandbox directory "));
        if (at >= 0)
            directory = line.mid(at + 18).section(QLatin1Char(' '), 0, 0);
    }
    QVERIFY(directory.startsWith(QLatin1Char('/')));
    QVERIFY(!QFileInfo::exists(directory));
    QVERIFY(m_log->contains(QStringLiteral("sandbox start failed")));
}

void TstSandbox::commandSurvivesSigkillWithoutOrphans()
{
    SandboxCommand command;
    command.start({ QStringLiteral("--max-connections"), QStringLiteral("40"),
                    QStringLiteral("--pool-size"), QStringLiteral("4") });
    QVERIFY2(command.readEndpoints(30000), qPrintable(command.lines.join(QLatin1Char('\n'))));
    QVERIFY(command.lines.size() >= 3);
    QVERIFY(command.lines.at(0).startsWith(QLatin1String("direct=postgresql://app@127.0.0.1:")));
    QVERIFY(command.lines.at(1).startsWith(QLatin1String("pooled=postgresql://app@127.0.0.1:")));
    QVERIFY(command.lines.at(2).startsWith(QLatin1String("passfile=/")));

    const QString passfile = command.value(QStringLiteral("passfile"));
    const QString dir = command.value(QStringLiteral("dir"));
    const qint64 postgresPid = command.value(QStringLiteral("postgres_pid")).toLongLong();
    const qint64 bouncerPid = command.value(QStringLiteral("pgbouncer_pid")).toLongLong();
    QVERIFY(postgresPid > 0 && bouncerPid > 0 && !dir.isEmpty());
    for (const char *key : { "direct", "pooled" }) {
        QString error;
        QCOMPARE(querySingleValue(withUriParameter(command.value(QLatin1String(key)),
                                                   QStringLiteral("passfile"), passfile),
                                  QStringLiteral("SHOW max_connections"), &error),
                 QStringLiteral("40"));
        QVERIFY2(error.isEmpty(), qPrintable(error));
    }

    ::kill(pid_t(command.process.processId()), SIGKILL);
    QVERIFY(command.process.waitForFinished(5000));
    QTRY_VERIFY_WITH_TIMEOUT(processGone(postgresPid), 5000);
    QTRY_VERIFY_WITH_TIMEOUT(processGone(bouncerPid), 5000);
    QTRY_VERIFY_WITH_TIMEOUT(!QFileInfo::exists(dir), 8000);
}

void TstSandbox::commandStopsCleanlyOnSigterm()
{
    SandboxCommand command;
    command.start({});
    QVERIFY2(command.readEndpoints(30000), qPrintable(command.lines.join(QLatin1Char('\n'))));
    const QString dir = command.value(QStringLiteral("dir"));
    const qint64 postgresPid = command.value(QStringLiteral("postgres_pid")).toLongLong();
    const qint64 bouncerPid = command.value(QStringLiteral("pgbouncer_pid")).toLongLong();
    QVERIFY(QFileInfo::exists(dir));

    command.process.terminate(); // SIGTERM
    QVERIFY(command.process.waitForFinished(20000));
    QCOMPARE(command.process.exitStatus(), QProcess::NormalExit);
    QCOMPARE(command.process.exitCode(), 0);
    QVERIFY(processGone(postgresPid));
    QVERIFY(processGone(bouncerPid));
    QVERIFY(!QFileInfo::exists(dir));
}

void TstSandbox::commandRejectsBadValues()
{
    const QStringList bad[] = { { QStringLiteral("--max-connections"), QStringLiteral("abc") },
                                { QStringLiteral("--pool-size"), QStringLiteral("0") },
                                { QStringLiteral("--no-such-option") },
                                { QStringLiteral("unexpected") } };
    for (const QStringList &arguments : bad) {
        SandboxCommand command;
        command.start(arguments);
        QVERIFY(command.process.waitForFinished(10000));
        QCOMPARE(command.process.exitStatus(), QProcess::NormalExit);
        QCOMPARE(command.process.exitCode(), 2);
        QVERIFY(command.process.readAllStandardOutput().isEmpty());
    }

    SandboxCommand help;
    help.start({ QStringLiteral("--help") });
    QVERIFY(help.process.waitForFinished(10000));
    QCOMPARE(help.process.exitCode(), 0);
    QVERIFY(help.process.readAllStandardOutput().contains("--max-connections"));
}

void TstSandbox::cleanupTestCase()
{
    const sandbox::SandboxEndpoints e = m_sandbox.endpoints();
    m_sandbox.stop();
    QVERIFY(!m_sandbox.isRunning());
    QVERIFY(processGone(e.postgresPid));
    QVERIFY(processGone(e.bouncerPid));
    QVERIFY(!QFileInfo::exists(e.directory));
    m_log->detach();
}

QTEST_GUILESS_MAIN(TstSandbox)
#include "tst_sandbox.moc"
