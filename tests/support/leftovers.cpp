#include "tests/support/leftovers.h"

#include <QDir>
#include <QFile>

namespace poolscope::testing {

PrivateTempDir::PrivateTempDir()
{
    if (m_dir.isValid())
        QFile::setPermissions(m_dir.path(),
                              QFileDevice::ReadOwner | QFileDevice::WriteOwner
                                  | QFileDevice::ExeOwner | QFileDevice::ExeGroup
                                  | QFileDevice::ExeOther);
}

QStringList serverProcessesUnder(const QString &dir)
{
    QStringList found;
    const QStringList pids = QDir(QStringLiteral("/proc")).entryList(QDir::Dirs);
    for (const QString &pid : pids) {
        if (pid.toLongLong() <= 0)
            continue;
        QFile cmdline(QStringLiteral("/proc/%1/cmdline").arg(pid));
        if (!cmdline.open(QIODevice::ReadOnly))
            continue; // gone meanwhile
        const QString text = QString::fromLocal8Bit(cmdline.readAll()).replace(QChar(0), u' ');
        const bool server =
            text.contains(QLatin1String("postgres")) || text.contains(QLatin1String("pgbouncer"));
        if (server && text.contains(dir))
            found << pid + QLatin1Char(' ') + text.trimmed();
    }
    return found;
}

QStringList sandboxDirectoriesUnder(const QString &dir)
{
    return QDir(dir).entryList({ QStringLiteral("poolscope-sandbox-*") },
                               QDir::Dirs | QDir::NoDotAndDotDot);
}

} // namespace poolscope::testing
