#include "core/monitor/connectionprofiles.h"

#include "core/db/conninfo.h"

#include <QRegularExpression>
#include <QUrl>
#include <QUrlQuery>

namespace poolscope {

QString withoutPassword(const QString &conninfo)
{
    const QString trimmed = conninfo.trimmed();
    if (trimmed.startsWith(QLatin1String("postgresql://"))
        || trimmed.startsWith(QLatin1String("postgres://"))) {
        QUrl url(trimmed);
        if (url.isValid()) {
            url.setPassword(QString());
            QUrlQuery query(url);
            query.removeAllQueryItems(QStringLiteral("password"));
            query.removeAllQueryItems(QStringLiteral("sslpassword"));
            url.setQuery(query);
            return url.toString(QUrl::FullyEncoded);
        }
    }
    auto parsed = ConnInfo::parse(trimmed);
    if (!parsed)
        return QString(); // unparsable: never store what might hold a secret
    ConnInfo info = parsed.value();
    info.remove(QStringLiteral("password"));
    info.remove(QStringLiteral("sslpassword"));
    return info.toConninfoString();
}

ConnectionProfiles::ConnectionProfiles(QSettings *settings)
    : m_settings(settings)
{
}

QList<ConnectionProfile> ConnectionProfiles::all() const
{
    QList<ConnectionProfile> profiles;
    const int n = m_settings->beginReadArray(QStringLiteral("profiles"));
    for (int i = 0; i < n; ++i) {
        m_settings->setArrayIndex(i);
        ConnectionProfile p;
        p.name = m_settings->value(QStringLiteral("name")).toString();
        p.conninfo = m_settings->value(QStringLiteral("conninfo")).toString();
        p.poolerConsoleConninfo = m_settings->value(QStringLiteral("poolerConsole")).toString();
        p.role = m_settings->value(QStringLiteral("role")).toString() == QLatin1String("pooled")
            ? EndpointRole::Pooled
            : EndpointRole::Direct;
        p.environment = m_settings->value(QStringLiteral("environment")).toString()
                == QLatin1String("serverless")
            ? PoolProfile::ServerlessProduction
            : PoolProfile::LocalDevelopment;
        profiles << p;
    }
    m_settings->endArray();
    return profiles;
}

std::optional<ConnectionProfile> ConnectionProfiles::find(const QString &name) const
{
    for (const ConnectionProfile &p : all()) {
        if (p.name == name)
            return p;
    }
    return std::nullopt;
}

void ConnectionProfiles::save(ConnectionProfile profile)
{
    profile.conninfo = withoutPassword(profile.conninfo);
    profile.poolerConsoleConninfo = withoutPassword(profile.poolerConsoleConninfo);
    QList<ConnectionProfile> profiles = all();
    profiles.removeIf([&](const ConnectionProfile &p) { return p.name == profile.name; });
    profiles << profile;
    m_settings->beginWriteArray(QStringLiteral("profiles"), int(profiles.size()));
    for (int i = 0; i < profiles.size(); ++i) {
        m_settings->setArrayIndex(i);
        const ConnectionProfile &p = profiles.at(i);
        m_settings->setValue(QStringLiteral("name"), p.name);
        m_settings->setValue(QStringLiteral("conninfo"), p.conninfo);
        m_settings->setValue(QStringLiteral("poolerConsole"), p.poolerConsoleConninfo);
        m_settings->setValue(QStringLiteral("role"),
                             p.role == EndpointRole::Pooled ? QStringLiteral("pooled")
                                                            : QStringLiteral("direct"));
        m_settings->setValue(QStringLiteral("environment"),
                             p.environment == PoolProfile::ServerlessProduction
                                 ? QStringLiteral("serverless")
                                 : QStringLiteral("local"));
    }
    m_settings->endArray();
}

void ConnectionProfiles::remove(const QString &name)
{
    QList<ConnectionProfile> profiles = all();
    profiles.removeIf([&](const ConnectionProfile &p) { return p.name == name; });
    m_settings->remove(QStringLiteral("profiles"));
    for (const ConnectionProfile &p : profiles)
        save(p);
}

QString ConnectionProfiles::lastUsed() const
{
    return m_settings->value(QStringLiteral("lastProfile")).toString();
}

void ConnectionProfiles::setLastUsed(const QString &name)
{
    m_settings->setValue(QStringLiteral("lastProfile"), name);
}

} // namespace poolscope
