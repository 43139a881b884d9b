// TLS in the sandbox: a throwaway CA and server certificate, PostgreSQL with
// ssl = on, PgBouncer terminating TLS for clients, URIs with sslmode=verify-full - and checks
// that the verification is real (a foreign CA and a wrong host name are refused), that plain TCP
// to the pooler is refused, that the cold-start probe sees a TLS phase, and that tls = false
// still gives a plain sandbox.
#include "core/coldstart/coldstartprobe.h"
#include "core/db/connection.h"
#include "core/db/conninfo.h"
#include "core/sandbox/sandbox.h"
#include "tests/support/sandboxfixture.h"

#include <QDir>
#include <QFileInfo>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>
#include <QUrl>
#include <QUrlQuery>

#include <pwd.h>
#include <unistd.h>

using namespace poolscope;
using namespace poolscope::testing;
using namespace std::chrono_literals;

namespace {

QString queryValue(const QString &uri, const QString &key)
{
    return QUrlQuery(QUrl(uri).query()).queryItemValue(key, QUrl::FullyDecoded);
}

// `uri` with one query parameter replaced.
QString withReplaced(const QString &uri, const QString &key, const QString &value)
{
    QUrl url(uri);
    QUrlQuery query(url.query());
    query.removeAllQueryItems(key);
    query.addQueryItem(key, value);
    url.setQuery(query);
    return url.toString();
}

Result<Connection, DbError> open(const QString &uri)
{
    const auto info = ConnInfo::parse(uri);
    if (!info)
        return info.error();
    return Connection::open(info.value(), 10s);
}

} // namespace

class TstSandboxTls : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() { QVERIFY2(m_sandbox.start(), qPrintable(m_sandbox.errorString())); }

    void everyUriAsksForVerifyFullWithTheSandboxCa()
    {
        const auto &e = m_sandbox.endpoints();
        QVERIFY(!e.caCertificate.isEmpty());
        QVERIFY(QFileInfo(e.caCertificate).isReadable());
        for (const QString &uri : { e.directUri, e.pooledUri, e.adminUri, e.poolerConsoleUri }) {
            QCOMPARE(queryValue(uri, QStringLiteral("sslmode")), QStringLiteral("verify-full"));
            QCOMPARE(queryValue(uri, QStringLiteral("sslrootcert")), e.caCertificate);
        }
    }

    void directConnectionsAreEncrypted()
    {
        const QString sql = QStringLiteral(
            "SELECT ssl::text || ' ' || version FROM pg_stat_ssl WHERE pid = pg_backend_pid()");
        QString error;
        const QString value = querySingleValue(m_sandbox.directUri(), sql, &error);
        QVERIFY2(value.startsWith(QLatin1String("true TLSv1.")), qPrintable(value + error));
    }

    void pooledConnectionsAreEncryptedAndPlainTcpIsRefused()
    {
        const QString pooled = m_sandbox.pooledUri();
        QString error;
        QCOMPARE(querySingleValue(pooled, QStringLiteral("SELECT 1"), &error), QStringLiteral("1"));
        QVERIFY2(error.isEmpty(), qPrintable(error));
        // Like a hosted pooler, PgBouncer takes no unencrypted client.
        const QString plain = connectionError(
            withReplaced(pooled, QStringLiteral("sslmode"), QStringLiteral("disable")));
        QVERIFY2(plain.contains(QLatin1String("SSL required")), qPrintable(plain));
        const auto refused =
            open(withReplaced(pooled, QStringLiteral("sslmode"), QStringLiteral("disable")));
        QVERIFY(!refused);
        QCOMPARE(refused.error().kind, ErrorKind::TlsFailure);
        QVERIFY2(refused.error().remedy.contains(QLatin1String("sslmode")),
                 qPrintable(refused.error().remedy));
    }

    void aForeignCaIsRefused()
    {
        // A self-signed certificate of our own: a valid CA file, but not the one that signed the
        // server's certificate.
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        QProcess openssl;
        openssl.setWorkingDirectory(dir.path());
        openssl.start(QStringLiteral("openssl"),
                      { QStringLiteral("req"), QStringLiteral("-x509"), QStringLiteral("-newkey"),
                        QStringLiteral("ec"), QStringLiteral("-pkeyopt"),
                        QStringLiteral("ec_paramgen_curve:prime256v1"), QStringLiteral("-nodes"),
                        QStringLiteral("-keyout"), QStringLiteral("other.key"),
                        QStringLiteral("-out"), QStringLiteral("other.crt"),
                        QStringLiteral("-days"), QStringLiteral("1"), QStringLiteral("-subj"),
                        QStringLiteral("/CN=Not the sandbox CA") });
        QVERIFY(openssl.waitForFinished(30000));
        QCOMPARE(openssl.exitCode(), 0);
        for (const QString &uri : { m_sandbox.directUri(), m_sandbox.pooledUri() }) {
            const auto result = open(withReplaced(uri, QStringLiteral("sslrootcert"),
                                                  dir.filePath(QStringLiteral("other.crt"))));
            QVERIFY(!result);
            QCOMPARE(result.error().kind, ErrorKind::TlsFailure);
            QVERIFY2(result.error().message.contains(QLatin1String("certificate verify failed")),
                     qPrintable(result.error().message));
        }
    }

    void aWrongHostNameIsRefused()
    {
        // Same address, but a name the certificate does not carry: verify-full must refuse it,
        // and the certificate's own names (127.0.0.1, localhost) must pass.
        const auto &e = m_sandbox.endpoints();
        const auto conninfo = [&](const QString &host) {
            return QStringLiteral("host=%1 hostaddr=127.0.0.1 port=%2 user=app dbname=app "
                                  "sslmode=verify-full sslrootcert=%3")
                .arg(host)
                .arg(e.postgresPort)
                .arg(e.caCertificate);
        };
        const auto wrong = open(conninfo(QStringLiteral("db.example.com")));
        QVERIFY(!wrong);
        QCOMPARE(wrong.error().kind, ErrorKind::TlsFailure);
        QVERIFY2(wrong.error().message.contains(QLatin1String("does not match host name")),
                 qPrintable(wrong.error().message));
        for (const char *host : { "127.0.0.1", "localhost" }) {
            const auto right = open(conninfo(QLatin1String(host)));
            QVERIFY2(right.ok(), right ? "" : qPrintable(right.error().summary()));
        }
    }

    void theServerKeyIsPrivateAndTheCaKeyIsGone()
    {
        const auto &e = m_sandbox.endpoints();
        uid_t owner = 0;
        QCOMPARE(fileMode(e.directory + QStringLiteral("/server.key"), &owner), mode_t(0600));
        if (::geteuid() == 0) {
            const passwd *pw = ::getpwnam("postgres");
            QVERIFY(pw);
            QCOMPARE(owner, pw->pw_uid);
        }
        // Nothing could sign another certificate with this CA.
        const QStringList keys = QDir(e.directory).entryList({ QStringLiteral("*.key") });
        QCOMPARE(keys, QStringList { QStringLiteral("server.key") });
    }

    void theColdStartProbeSeesATlsPhase()
    {
        for (const QString &uri : { m_sandbox.directUri(), m_sandbox.pooledUri() }) {
            ColdStartOptions options;
            options.conninfo = uri;
            options.trials = 3;
            options.warmQueries = 1;
            const ColdStartReport report = runColdStartProbe(options);
            QVERIFY2(!report.error, report.error ? qPrintable(report.error->summary()) : "");
            QCOMPARE(report.okTrials(), 3);
            for (const ColdStartTrial &t : report.trials) {
                QVERIFY2(t.tls.startsWith(QLatin1String("TLSv1.")), qPrintable(t.tls));
                QVERIFY(t.tlsMs > 0);
                const double sum = t.dnsMs + t.tcpMs + t.tlsMs + t.authMs + t.firstQueryMs;
                QVERIFY(qAbs(sum - t.totalMs) <= 1.0);
            }
        }
    }

    // The two tests below start sandboxes of their own (each points PGPASSFILE at its own
    // file), so they come last.
    void theTlsHandshakeTakesItsRoundTripsThroughTheRelay()
    {
        // 25 ms each way: the SSLRequest and its answer are one round trip, the TLS 1.3 handshake
        // another; the SCRAM exchange three more after it.
        SandboxFixture slow;
        sandbox::SandboxOptions options;
        options.latencyMs = 25;
        QVERIFY2(slow.start(options), qPrintable(slow.errorString()));
        constexpr double roundTrip = 2 * 25.0;
        for (const QString &uri : { slow.directUri(), slow.pooledUri() }) {
            ColdStartOptions probe;
            probe.conninfo = uri;
            probe.trials = 2;
            probe.warmQueries = 1;
            const ColdStartReport report = runColdStartProbe(probe);
            QVERIFY2(!report.error, report.error ? qPrintable(report.error->summary()) : "");
            for (const ColdStartTrial &t : report.trials) {
                QVERIFY2(t.tls.startsWith(QLatin1String("TLSv1.3")), qPrintable(t.tls));
                QVERIFY2(t.tlsMs >= 2 * roundTrip, qPrintable(QString::number(t.tlsMs)));
                QVERIFY2(t.authMs >= 3 * roundTrip, qPrintable(QString::number(t.authMs)));
                QVERIFY2(t.firstQueryMs >= roundTrip, qPrintable(QString::number(t.firstQueryMs)));
            }
        }
    }

    void tlsCanBeSwitchedOff()
    {
        SandboxFixture plain;
        sandbox::SandboxOptions options;
        options.tls = false;
        QVERIFY2(plain.start(options), qPrintable(plain.errorString()));
        QVERIFY(plain.endpoints().caCertificate.isEmpty());
        QVERIFY(!plain.directUri().contains(QLatin1String("sslmode")));
        QString error;
        QCOMPARE(querySingleValue(plain.directUri(),
                                  QStringLiteral("SELECT ssl::text FROM pg_stat_ssl "
                                                 "WHERE pid = pg_backend_pid()"),
                                  &error),
                 QStringLiteral("false"));
        QCOMPARE(querySingleValue(plain.pooledUri(), QStringLiteral("SELECT 1"), &error),
                 QStringLiteral("1"));
    }

private:
    SandboxFixture m_sandbox;
};

QTEST_GUILESS_MAIN(TstSandboxTls)
#include "tst_sandboxtls.moc"
