// PoolConfig: the guide's environment variables and profiles, and validate()'s refusals.
#include "core/pool/poolconfig.h"

#include <QTest>

using namespace poolscope;

Q_DECLARE_METATYPE(poolscope::EndpointRole)
Q_DECLARE_METATYPE(poolscope::PoolProfile)
Q_DECLARE_METATYPE(poolscope::StatementTimeoutMode)

namespace {

QProcessEnvironment environment(const QList<QPair<QString, QString>> &vars)
{
    QProcessEnvironment env; // empty: nothing leaks in from the machine running the test
    for (const auto &[name, value] : vars)
        env.insert(name, value);
    return env;
}

} // namespace

class tst_PoolConfig : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void defaultsWhenUnset();
    void databaseUrl();
    void validOverrides();
    void refused_data();
    void refused();
    void minGreaterThanMax();
    void profiles_data();
    void profiles();
    void pooledModes_data();
    void pooledModes();
    void effectiveMode_data();
    void effectiveMode();
    void acquireTimeoutNeverInfinite();
    void modeNames();
};

void tst_PoolConfig::defaultsWhenUnset()
{
    const auto config = PoolConfig::fromEnvironment(environment({}), PoolConfig());
    QVERIFY(config.ok());
    QCOMPARE(config->minSize, 5);
    QCOMPARE(config->maxSize, 20);
    QVERIFY(config->conninfo.isEmpty());
    QCOMPARE(config->statementTimeout, std::chrono::milliseconds(30s));
}

void tst_PoolConfig::databaseUrl()
{
    const QString url = QStringLiteral("postgresql://app@db.example:5432/shop");
    PoolConfig base;
    base.conninfo = QStringLiteral("host=previous");
    const auto config =
        PoolConfig::fromEnvironment(environment({ { QStringLiteral("DATABASE_URL"), url } }), base);
    QVERIFY(config.ok());
    QCOMPARE(config->conninfo, url);

    const auto kept = PoolConfig::fromEnvironment(environment({}), base);
    QVERIFY(kept.ok());
    QCOMPARE(kept->conninfo, QStringLiteral("host=previous"));
}

void tst_PoolConfig::validOverrides()
{
    const auto config = PoolConfig::fromEnvironment(
        environment({ { QStringLiteral("DATABASE_POOL_MIN_SIZE"), QStringLiteral("2") },
                      { QStringLiteral("DATABASE_POOL_MAX_SIZE"), QStringLiteral("10") } }),
        PoolConfig());
    QVERIFY2(config.ok(), qPrintable(config ? QString() : config.error().message));
    QCOMPARE(config->minSize, 2);
    QCOMPARE(config->maxSize, 10);

    // min 0 is allowed (no warm connections).
    const auto lazy = PoolConfig::fromEnvironment(
        environment({ { QStringLiteral("DATABASE_POOL_MIN_SIZE"), QStringLiteral("0") } }),
        PoolConfig());
    QVERIFY(lazy.ok());
    QCOMPARE(lazy->minSize, 0);
    QCOMPARE(lazy->maxSize, 20);
}

void tst_PoolConfig::refused_data()
{
    QTest::addColumn<QString>("variable");
    QTest::addColumn<QString>("value");

    const QString max = QStringLiteral("DATABASE_POOL_MAX_SIZE");
    const QString min = QStringLiteral("DATABASE_POOL_MIN_SIZE");
    QTest::newRow("max abc") << max << QStringLiteral("abc");
    QTest::newRow("max -1") << max << QStringLiteral("-1");
    QTest::newRow("max 10.5") << max << QStringLiteral("10.5");
    QTest::newRow("max empty") << max << QString();
    QTest::newRow("max 0") << max << QStringLiteral("0");
    QTest::newRow("max 1e3") << max << QStringLiteral("1e3");
    QTest::newRow("max overflow") << max << QStringLiteral("99999999999999999999");
    QTest::newRow("min abc") << min << QStringLiteral("abc");
    QTest::newRow("min -3") << min << QStringLiteral("-3");
}

void tst_PoolConfig::refused()
{
    QFETCH(QString, variable);
    QFETCH(QString, value);
    const auto config =
        PoolConfig::fromEnvironment(environment({ { variable, value } }), PoolConfig());
    QVERIFY(!config.ok());
    const DbError &e = config.error();
    QCOMPARE(e.kind, ErrorKind::InvalidConfiguration);
    QVERIFY2(e.message.contains(variable), qPrintable(e.message));
    QVERIFY2(e.message.contains(variable + QStringLiteral("=")), qPrintable(e.message));
    if (!value.isEmpty())
        QVERIFY2(e.message.contains(value), qPrintable(e.message));
    else
        QVERIFY2(e.message.contains(QLatin1String("\"\"")), qPrintable(e.message));
}

void tst_PoolConfig::minGreaterThanMax()
{
    const auto config = PoolConfig::fromEnvironment(
        environment({ { QStringLiteral("DATABASE_POOL_MIN_SIZE"), QStringLiteral("30") } }),
        PoolConfig());
    QVERIFY(!config.ok());
    const QString message = config.error().message;
    QCOMPARE(config.error().kind, ErrorKind::InvalidConfiguration);
    QVERIFY2(message.contains(QLatin1String("DATABASE_POOL_MIN_SIZE=30")), qPrintable(message));
    QVERIFY2(message.contains(QLatin1String("DATABASE_POOL_MAX_SIZE=20")), qPrintable(message));
}

void tst_PoolConfig::profiles_data()
{
    QTest::addColumn<PoolProfile>("profile");
    QTest::addColumn<int>("minSize");
    QTest::addColumn<int>("maxSize");

    QTest::newRow("local development") << PoolProfile::LocalDevelopment << 5 << 20;
    QTest::newRow("serverless production") << PoolProfile::ServerlessProduction << 2 << 10;
}

void tst_PoolConfig::profiles()
{
    QFETCH(PoolProfile, profile);
    QFETCH(int, minSize);
    QFETCH(int, maxSize);
    const PoolConfig config = PoolConfig::forProfile(profile);
    QCOMPARE(config.minSize, minSize);
    QCOMPARE(config.maxSize, maxSize);
    QCOMPARE(config.statementTimeout, std::chrono::milliseconds(30s));
    QVERIFY(config.acquireTimeout.count() > 0);
    QVERIFY(!config.validate().has_value());
}

void tst_PoolConfig::pooledModes_data()
{
    QTest::addColumn<StatementTimeoutMode>("mode");
    QTest::addColumn<bool>("refused");
    QTest::addColumn<QString>("explanation");

    QTest::newRow("set on checkout")
        << StatementTimeoutMode::SetOnCheckout << true << QStringLiteral("SET LOCAL");
    QTest::newRow("startup parameter") << StatementTimeoutMode::StartupParameter << true
                                       << QStringLiteral("unsupported startup parameter");
    QTest::newRow("set local") << StatementTimeoutMode::SetLocalPerTransaction << false
                               << QString();
    QTest::newRow("automatic") << StatementTimeoutMode::Automatic << false << QString();
    QTest::newRow("off") << StatementTimeoutMode::Off << false << QString();
}

void tst_PoolConfig::pooledModes()
{
    QFETCH(StatementTimeoutMode, mode);
    QFETCH(bool, refused);
    QFETCH(QString, explanation);

    PoolConfig config;
    config.statementTimeoutMode = mode;
    config.endpointRole = EndpointRole::Direct;
    QVERIFY(!config.validate().has_value()); // every mode is fine on a direct endpoint

    config.endpointRole = EndpointRole::Pooled;
    const auto error = config.validate();
    QCOMPARE(error.has_value(), refused);
    if (refused) {
        QCOMPARE(error->kind, ErrorKind::InvalidConfiguration);
        QVERIFY2(error->message.contains(explanation), qPrintable(error->message));
        QVERIFY2(error->message.contains(QLatin1String("pooled endpoint")),
                 qPrintable(error->message));
    }
}

void tst_PoolConfig::effectiveMode_data()
{
    QTest::addColumn<EndpointRole>("role");
    QTest::addColumn<StatementTimeoutMode>("mode");
    QTest::addColumn<int>("timeoutMs");
    QTest::addColumn<StatementTimeoutMode>("effective");

    QTest::newRow("automatic direct") << EndpointRole::Direct << StatementTimeoutMode::Automatic
                                      << 30000 << StatementTimeoutMode::StartupParameter;
    QTest::newRow("automatic pooled") << EndpointRole::Pooled << StatementTimeoutMode::Automatic
                                      << 30000 << StatementTimeoutMode::SetLocalPerTransaction;
    QTest::newRow("automatic direct no timeout")
        << EndpointRole::Direct << StatementTimeoutMode::Automatic << 0
        << StatementTimeoutMode::Off;
    QTest::newRow("automatic pooled no timeout")
        << EndpointRole::Pooled << StatementTimeoutMode::Automatic << 0
        << StatementTimeoutMode::Off;
    QTest::newRow("explicit set on checkout")
        << EndpointRole::Direct << StatementTimeoutMode::SetOnCheckout << 30000
        << StatementTimeoutMode::SetOnCheckout;
}

void tst_PoolConfig::effectiveMode()
{
    QFETCH(EndpointRole, role);
    QFETCH(StatementTimeoutMode, mode);
    QFETCH(int, timeoutMs);
    QFETCH(StatementTimeoutMode, effective);

    PoolConfig config;
    config.endpointRole = role;
    config.statementTimeoutMode = mode;
    config.statementTimeout = std::chrono::milliseconds(timeoutMs);
    QCOMPARE(statementTimeoutModeName(config.effectiveStatementTimeoutMode()),
             statementTimeoutModeName(effective));
}

void tst_PoolConfig::acquireTimeoutNeverInfinite()
{
    PoolConfig config;
    config.acquireTimeout = 0ms;
    auto error = config.validate();
    QVERIFY(error.has_value());
    QCOMPARE(error->kind, ErrorKind::InvalidConfiguration);
    QVERIFY2(error->message.contains(QLatin1String("acquire timeout")), qPrintable(error->message));

    config.acquireTimeout = -5ms;
    QVERIFY(config.validate().has_value());

    // fromEnvironment validates the base it builds on.
    config.acquireTimeout = 0ms;
    QVERIFY(!PoolConfig::fromEnvironment(environment({}), config).ok());
}

void tst_PoolConfig::modeNames()
{
    QCOMPARE(statementTimeoutModeName(StatementTimeoutMode::SetLocalPerTransaction),
             QStringLiteral("set-local"));
    QCOMPARE(statementTimeoutModeName(StatementTimeoutMode::StartupParameter),
             QStringLiteral("startup-parameter"));
    QCOMPARE(statementTimeoutModeName(StatementTimeoutMode::Off), QStringLiteral("off"));
}

QTEST_GUILESS_MAIN(tst_PoolConfig)
#include "tst_poolconfig.moc"
