// The mapping of libpq output and SQLSTATEs to typed errors (core/db/dberror.cpp), fed with the
// message shapes libpq 15 really produces (verbose mode for server FATALs, plain wording for
// failures that never reached a server).
#include "core/db/dberror.h"

#include <QSet>
#include <QTest>

using namespace poolscope;

Q_DECLARE_METATYPE(poolscope::ErrorKind)
Q_DECLARE_METATYPE(poolscope::ErrorClass)

namespace {

constexpr auto kLastKind = int(ErrorKind::Unknown);

QString prefix(int port = 5432)
{
    return QStringLiteral("connection to server at \"127.0.0.1\", port %1 failed: ").arg(port);
}

} // namespace

class tst_ErrorMapping : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void connectMessage_data();
    void connectMessage();
    void tooManyClientsRemedy();
    void connectionLost_data();
    void connectionLost();
    void sqlState_data();
    void sqlState();
    void transient_data();
    void transient();
    void kindNamesStableAndDistinct();
    void kindNames_data();
    void kindNames();
    void summary();
    void messageIsRedacted_data();
    void messageIsRedacted();
};

void tst_ErrorMapping::connectMessage_data()
{
    QTest::addColumn<QString>("libpqMessage");
    QTest::addColumn<ErrorKind>("kind");
    QTest::addColumn<QString>("sqlstate");
    QTest::addColumn<QString>("mustContain");

    // Verbose form (PQERRORS_VERBOSE): the server's FATAL carries its SQLSTATE and a LOCATION line.
    QTest::newRow("53300 too many clients")
        << prefix()
            + QStringLiteral("FATAL:  53300: sorry, too many clients already\n"
                             "LOCATION:  InitProcess, proc.c:357\n")
        << ErrorKind::TooManyConnections << QStringLiteral("53300")
        << QStringLiteral("sorry, too many clients already");
    QTest::newRow("53300 reserved slots")
        << prefix()
            + QStringLiteral("FATAL:  53300: remaining connection slots are reserved for "
                             "non-replication superuser connections\n"
                             "LOCATION:  InitPostgres, postinit.c:969\n")
        << ErrorKind::TooManyConnections << QStringLiteral("53300")
        << QStringLiteral("remaining connection slots are reserved");
    QTest::newRow("28P01 password")
        << prefix()
            + QStringLiteral("FATAL:  28P01: password authentication failed for user \"app\"\n"
                             "LOCATION:  auth_failed, auth.c:335\n")
        << ErrorKind::InvalidPassword << QStringLiteral("28P01")
        << QStringLiteral("password authentication failed for user \"app\"");
    QTest::newRow("3D000 database missing") << prefix()
            + QStringLiteral("FATAL:  3D000: database \"nope\" does not exist\n"
                             "LOCATION:  InitPostgres, postinit.c:885\n")
                                            << ErrorKind::DatabaseMissing << QStringLiteral("3D000")
                                            << QStringLiteral("database \"nope\" does not exist");
    QTest::newRow("57P03 starting up") << prefix()
            + QStringLiteral("FATAL:  57P03: the database system is starting up\n"
                             "LOCATION:  ProcessStartupPacket, postmaster.c:2385\n")
                                       << ErrorKind::CannotConnectNow << QStringLiteral("57P03")
                                       << QStringLiteral("the database system is starting up");
    QTest::newRow("08P01 pgbouncer startup parameter")
        << prefix(6432) + QStringLiteral("FATAL:  08P01: unsupported startup parameter: options\n")
        << ErrorKind::PoolerError << QStringLiteral("08P01")
        << QStringLiteral("unsupported startup parameter: options");
    QTest::newRow("08P01 pgbouncer requires TLS")
        << prefix(6432) + QStringLiteral("FATAL:  08P01: SSL required\n") << ErrorKind::TlsFailure
        << QStringLiteral("08P01") << QStringLiteral("SSL required");
    QTest::newRow("28000 role missing verbose")
        << prefix()
            + QStringLiteral("FATAL:  28000: role \"ghost\" does not exist\n"
                             "LOCATION:  InitializeSessionUserId, miscinit.c:694\n")
        << ErrorKind::InvalidAuthorization << QStringLiteral("28000")
        << QStringLiteral("role \"ghost\" does not exist");

    // Non-verbose forms and failures without a code.
    QTest::newRow("connection refused")
        << prefix(1)
            + QStringLiteral("Connection refused\n\tIs the server running on that host and "
                             "accepting TCP/IP connections?\n")
        << ErrorKind::ConnectionRefused << QString() << QStringLiteral("Connection refused");
    QTest::newRow("unix socket missing")
        << QStringLiteral("connection to server on socket \"/tmp/.s.PGSQL.5432\" failed: No such "
                          "file or directory\n\tIs the server running locally and accepting "
                          "connections on that socket?\n")
        << ErrorKind::ConnectionRefused << QString() << QStringLiteral("No such file");
    QTest::newRow("dns") << QStringLiteral(
        "could not translate host name \"nohost.invalid\" to address: Name or "
        "service not known\n")
                         << ErrorKind::DnsFailure << QString() << QStringLiteral("nohost.invalid");
    QTest::newRow("timeout") << QStringLiteral("timeout expired\n") << ErrorKind::ConnectionTimeout
                             << QString() << QStringLiteral("timeout expired");
    QTest::newRow("ssl") << prefix() + QStringLiteral("SSL error: certificate verify failed\n")
                         << ErrorKind::TlsFailure << QString()
                         << QStringLiteral("certificate verify failed");
    QTest::newRow("no password supplied")
        << prefix() + QStringLiteral("fe_sendauth: no password supplied\n")
        << ErrorKind::InvalidPassword << QString() << QStringLiteral("no password supplied");
    QTest::newRow("role missing without code")
        << prefix() + QStringLiteral("FATAL:  role \"ghost\" does not exist\n")
        << ErrorKind::InvalidAuthorization << QStringLiteral("28000")
        << QStringLiteral("role \"ghost\" does not exist");
    QTest::newRow("too many clients without code")
        << prefix() + QStringLiteral("FATAL:  sorry, too many clients already\n")
        << ErrorKind::TooManyConnections << QStringLiteral("53300")
        << QStringLiteral("too many clients");
    QTest::newRow("database missing without code")
        << prefix() + QStringLiteral("FATAL:  database \"nope\" does not exist\n")
        << ErrorKind::DatabaseMissing << QStringLiteral("3D000")
        << QStringLiteral("database \"nope\"");
    QTest::newRow("unrecognised") << QStringLiteral("something odd happened\n")
                                  << ErrorKind::Unknown << QString()
                                  << QStringLiteral("something odd happened");
}

void tst_ErrorMapping::connectMessage()
{
    QFETCH(QString, libpqMessage);
    QFETCH(ErrorKind, kind);
    QFETCH(QString, sqlstate);
    QFETCH(QString, mustContain);

    const DbError e = errorFromConnectMessage(libpqMessage);
    QCOMPARE(errorKindName(e.kind), errorKindName(kind));
    QCOMPARE(e.sqlstate, sqlstate);
    QCOMPARE(e.errorClass, ErrorClass::Connection);
    QVERIFY(e.isConnectionFatal());
    QVERIFY2(e.message.contains(mustContain), qPrintable(e.message));
    QVERIFY2(!e.message.contains(QLatin1String("LOCATION")), qPrintable(e.message));
    QVERIFY2(!e.message.contains(QLatin1Char('\n')), qPrintable(e.message));
    QVERIFY(!e.remedy.isEmpty());
    QCOMPARE(e.remedy, remedyFor(kind));
}

void tst_ErrorMapping::connectionLost_data()
{
    QTest::addColumn<QString>("libpqMessage");
    QTest::addColumn<ErrorKind>("kind");

    const QString closed =
        QStringLiteral("server closed the connection unexpectedly\n\tThis probably "
                       "means the server terminated abnormally\n\tbefore or "
                       "while processing the request.\n");
    QTest::newRow("closed") << closed << ErrorKind::ConnectionLost;
    QTest::newRow("no connection")
        << QStringLiteral("no connection to the server\n") << ErrorKind::ConnectionLost;
    QTest::newRow("terminated by admin")
        << QStringLiteral("FATAL:  57P01: terminating connection due to administrator command\n"
                          "LOCATION:  ProcessInterrupts, postgres.c:3198\n")
            + closed
        << ErrorKind::AdminShutdown;
    // A host name is not a diagnosis: "ssl" or "certificate" in it must not make this a TLS error.
    QTest::newRow("host named ssl")
        << QStringLiteral("connection to server at \"pg-ssl.internal\" (10.0.0.5), port 5432 "
                          "failed: ")
            + closed
        << ErrorKind::ConnectionLost;
    QTest::newRow("host named certificate")
        << QStringLiteral("connection to server at \"certificate-store.db\", port 5432 failed: ")
            + closed
        << ErrorKind::ConnectionLost;
}

void tst_ErrorMapping::connectionLost()
{
    QFETCH(QString, libpqMessage);
    QFETCH(ErrorKind, kind);
    const DbError e = connectionLostError(libpqMessage);
    QCOMPARE(errorKindName(e.kind), errorKindName(kind));
    QVERIFY(e.isConnectionFatal());
    QVERIFY(e.isTransient());
    QVERIFY2(!e.message.contains(QLatin1Char('\n')), qPrintable(e.message));
}

void tst_ErrorMapping::tooManyClientsRemedy()
{
    const DbError e =
        errorFromConnectMessage(prefix()
                                + QStringLiteral("FATAL:  53300: sorry, too many clients already\n"
                                                 "LOCATION:  InitProcess, proc.c:357\n"));
    QCOMPARE(e.kind, ErrorKind::TooManyConnections);
    QVERIFY2(e.remedy.contains(QLatin1String("DATABASE_POOL_MAX_SIZE")), qPrintable(e.remedy));
    QVERIFY(e.isTransient());
}

void tst_ErrorMapping::sqlState_data()
{
    QTest::addColumn<QString>("sqlstate");
    QTest::addColumn<ErrorKind>("kind");
    QTest::addColumn<ErrorClass>("errorClass");

    QTest::newRow("57014 canceled")
        << QStringLiteral("57014") << ErrorKind::QueryCanceled << ErrorClass::Statement;
    QTest::newRow("42501 insufficient privilege")
        << QStringLiteral("42501") << ErrorKind::InsufficientPrivilege << ErrorClass::Statement;
    QTest::newRow("57P01 admin shutdown")
        << QStringLiteral("57P01") << ErrorKind::AdminShutdown << ErrorClass::Connection;
    QTest::newRow("57P02 crash shutdown")
        << QStringLiteral("57P02") << ErrorKind::CrashShutdown << ErrorClass::Connection;
    QTest::newRow("57P05 idle session")
        << QStringLiteral("57P05") << ErrorKind::IdleSessionTimeout << ErrorClass::Connection;
    QTest::newRow("25P03 idle in transaction")
        << QStringLiteral("25P03") << ErrorKind::IdleInTransactionTimeout << ErrorClass::Connection;
    QTest::newRow("25006 read only")
        << QStringLiteral("25006") << ErrorKind::ReadOnlyTransaction << ErrorClass::Connection;
    QTest::newRow("08006 connection failure")
        << QStringLiteral("08006") << ErrorKind::ConnectionLost << ErrorClass::Connection;
    QTest::newRow("08003 no connection")
        << QStringLiteral("08003") << ErrorKind::ConnectionLost << ErrorClass::Connection;
    QTest::newRow("42601 syntax") << QStringLiteral("42601") << ErrorKind::QueryFailed
                                  << ErrorClass::Statement;
    QTest::newRow("23505 unique violation")
        << QStringLiteral("23505") << ErrorKind::QueryFailed << ErrorClass::Statement;
    QTest::newRow("53300") << QStringLiteral("53300") << ErrorKind::TooManyConnections
                           << ErrorClass::Connection;
    QTest::newRow("empty") << QString() << ErrorKind::Unknown << ErrorClass::Connection;
}

void tst_ErrorMapping::sqlState()
{
    QFETCH(QString, sqlstate);
    QFETCH(ErrorKind, kind);
    QFETCH(ErrorClass, errorClass);

    const DbError e = errorFromSqlState(sqlstate, QStringLiteral("server said no"));
    QCOMPARE(errorKindName(e.kind), errorKindName(kind));
    QCOMPARE(int(e.errorClass), int(errorClass));
    QCOMPARE(e.isConnectionFatal(), errorClass == ErrorClass::Connection);
    QCOMPARE(e.sqlstate, sqlstate);
    QCOMPARE(e.message, QStringLiteral("server said no"));
}

void tst_ErrorMapping::transient_data()
{
    QTest::addColumn<ErrorKind>("kind");
    QTest::addColumn<bool>("transient");

    QTest::newRow("too many connections") << ErrorKind::TooManyConnections << true;
    QTest::newRow("cannot connect now") << ErrorKind::CannotConnectNow << true;
    QTest::newRow("connection refused") << ErrorKind::ConnectionRefused << true;
    QTest::newRow("admin shutdown") << ErrorKind::AdminShutdown << true;
    QTest::newRow("invalid password") << ErrorKind::InvalidPassword << false;
    QTest::newRow("database missing") << ErrorKind::DatabaseMissing << false;
    QTest::newRow("dns failure") << ErrorKind::DnsFailure << false;
    QTest::newRow("invalid configuration") << ErrorKind::InvalidConfiguration << false;
}

void tst_ErrorMapping::transient()
{
    QFETCH(ErrorKind, kind);
    QFETCH(bool, transient);
    QCOMPARE(makeError(kind, QStringLiteral("x")).isTransient(), transient);
}

void tst_ErrorMapping::kindNamesStableAndDistinct()
{
    QSet<QString> names;
    for (int k = 0; k <= kLastKind; ++k) {
        const QString name = errorKindName(ErrorKind(k));
        QVERIFY2(!names.contains(name), qPrintable(QStringLiteral("duplicate name ") + name));
        names.insert(name);
        static const QRegularExpression snake(QStringLiteral("^[a-z]+(_[a-z]+)*$"));
        QVERIFY2(snake.match(name).hasMatch(), qPrintable(name));
        QVERIFY2(!remedyFor(ErrorKind(k)).isEmpty(), qPrintable(name));
        QCOMPARE(makeError(ErrorKind(k), QString()).remedy, remedyFor(ErrorKind(k)));
    }
    QCOMPARE(names.size(), kLastKind + 1);
}

void tst_ErrorMapping::kindNames_data()
{
    QTest::addColumn<ErrorKind>("kind");
    QTest::addColumn<QString>("name");

    QTest::newRow("too_many") << ErrorKind::TooManyConnections
                              << QStringLiteral("too_many_connections");
    QTest::newRow("acquire") << ErrorKind::AcquireTimeout << QStringLiteral("acquire_timeout");
    QTest::newRow("canceled") << ErrorKind::QueryCanceled << QStringLiteral("query_canceled");
    QTest::newRow("pooler") << ErrorKind::PoolerError << QStringLiteral("pooler_error");
    QTest::newRow("unknown") << ErrorKind::Unknown << QStringLiteral("unknown");
}

void tst_ErrorMapping::kindNames()
{
    QFETCH(ErrorKind, kind);
    QFETCH(QString, name);
    QCOMPARE(errorKindName(kind), name);
}

void tst_ErrorMapping::summary()
{
    DbError e = errorFromSqlState(QStringLiteral("53300"),
                                  QStringLiteral("sorry, too many clients already"));
    QCOMPARE(e.summary(),
             QStringLiteral("53300 too_many_connections: sorry, too many clients already"));

    DbError timeout = makeError(ErrorKind::AcquireTimeout, QStringLiteral("no connection in 30 s"));
    QCOMPARE(timeout.errorClass, ErrorClass::Pool);
    QVERIFY(timeout.sqlstate.isEmpty());
    QCOMPARE(timeout.summary(), QStringLiteral("acquire_timeout: no connection in 30 s"));

    timeout.cause = std::make_shared<const DbError>(e);
    const QString s = timeout.summary();
    QVERIFY2(s.startsWith(QLatin1String("acquire_timeout: no connection in 30 s")), qPrintable(s));
    QVERIFY2(s.contains(e.summary()), qPrintable(s));
    QVERIFY2(s.contains(QLatin1String("53300")), qPrintable(s));
}

void tst_ErrorMapping::messageIsRedacted_data()
{
    QTest::addColumn<QString>("message");

    QTest::newRow("keyword") << QStringLiteral("could not use \"host=db password=hunter22\"");
    QTest::newRow("uri") << QStringLiteral("bad target postgresql://u:hunter22@h/db");
    QTest::newRow("connect message") << prefix()
            + QStringLiteral("FATAL:  28P01: password authentication failed for "
                             "postgresql://u:hunter22@h/db\n");
}

void tst_ErrorMapping::messageIsRedacted()
{
    QFETCH(QString, message);
    for (const DbError &e : { makeError(ErrorKind::Unknown, message),
                              errorFromSqlState(QStringLiteral("42601"), message),
                              errorFromConnectMessage(message), connectionLostError(message) }) {
        QVERIFY2(!e.message.contains(QLatin1String("hunter22")), qPrintable(e.message));
        QVERIFY2(e.message.contains(QLatin1String("***")), qPrintable(e.message));
        QVERIFY2(!e.summary().contains(QLatin1String("hunter22")), qPrintable(e.summary()));
    }
}

QTEST_GUILESS_MAIN(tst_ErrorMapping)
#include "tst_errormapping.moc"
