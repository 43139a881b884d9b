#pragma once

#include "core/pool/poolconfig.h"

#include <QList>
#include <QSettings>
#include <QString>

namespace poolscope {

// A saved way to reach a database. Never holds a password: passwords come from pgpass,
// PGPASSWORD or a prompt, and live in memory for the session at most.
struct ConnectionProfile
{
    QString name;
    QString conninfo;              // stored with any password removed
    QString poolerConsoleConninfo; // optional, likewise without a password
    EndpointRole role = EndpointRole::Direct;
    PoolProfile environment = PoolProfile::LocalDevelopment;
};

// Removes password= / sslpassword= and URI user:password@ from a conninfo, keeping its form.
QString withoutPassword(const QString &conninfo);

// Profiles in QSettings (group "profiles"), plus the last one used.
class ConnectionProfiles
{
public:
    explicit ConnectionProfiles(QSettings *settings);

    QList<ConnectionProfile> all() const;
    std::optional<ConnectionProfile> find(const QString &name) const;
    void save(ConnectionProfile profile); // replaces a profile of the same name
    void remove(const QString &name);
    QString lastUsed() const;
    void setLastUsed(const QString &name);

private:
    QSettings *m_settings;
};

} // namespace poolscope
