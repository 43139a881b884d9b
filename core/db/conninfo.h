#pragma once

#include "core/db/dberror.h"
#include "core/util/result.h"

#include <QList>
#include <QPair>
#include <QString>

namespace poolscope {

// A parsed libpq connection string (keyword=value conninfo or postgresql:// URI). Parsing is done
// by libpq itself (PQconninfoParse), so every form libpq accepts is accepted here, with libpq's
// own error message otherwise. Holds only the keywords that were set, in libpq's keyword order.
// A value type; the password, if present, is kept (libpq needs it) but never shown: use
// redacted() for display.
class ConnInfo
{
public:
    using Entry = QPair<QString, QString>;

    static Result<ConnInfo, DbError> parse(const QString &text);

    QString value(const QString &keyword) const;
    bool has(const QString &keyword) const;
    void set(const QString &keyword, const QString &value);
    void remove(const QString &keyword);
    const QList<Entry> &entries() const { return m_entries; }

    // The host as written (first host of a multi-host list), "localhost"-like when unset.
    QString host() const;
    int port() const; // 5432 when unset

    // True when every host this string can reach is on this machine: unset (libpq's default
    // unix socket), a socket directory, localhost, 127.0.0.0/8 or ::1 (hostaddr included).
    // Load generators refuse anything else unless the user explicitly allows it.
    bool targetsLoopbackOnly() const;

    // keyword='value' form, with secrets: only for handing to libpq.
    QString toConninfoString() const;
    // keyword='value' form with password=***: for logs, the UI and output.
    QString redacted() const;

private:
    QList<Entry> m_entries;
};

} // namespace poolscope
