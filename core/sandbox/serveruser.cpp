#include "core/sandbox/serveruser.h"

#include <QFile>

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace poolscope::sandbox {

Result<ServerUser, QString> ServerUser::resolve()
{
    ServerUser user;
    if (::geteuid() != 0) {
        user.m_uid = ::geteuid();
        user.m_gid = ::getegid();
        const passwd *self = ::getpwuid(user.m_uid);
        user.m_name = self ? QString::fromLocal8Bit(self->pw_name) : QString::number(user.m_uid);
        return user;
    }

    const passwd *pw = ::getpwnam("postgres");
    if (!pw) {
        return QStringLiteral("running as root, but there is no `postgres` user to run the servers "
                              "as (PostgreSQL and PgBouncer refuse root)");
    }
    user.m_switch = true;
    user.m_uid = pw->pw_uid;
    user.m_gid = pw->pw_gid;
    user.m_name = QString::fromLocal8Bit(pw->pw_name);

    int count = 32;
    std::vector<gid_t> groups(static_cast<size_t>(count));
    if (::getgrouplist(pw->pw_name, pw->pw_gid, groups.data(), &count) < 0) {
        groups.resize(size_t(count));
        if (::getgrouplist(pw->pw_name, pw->pw_gid, groups.data(), &count) < 0)
            count = 0;
    }
    groups.resize(size_t(count));
    if (groups.empty())
        groups.push_back(pw->pw_gid);
    user.m_groups = std::move(groups);
    return user;
}

bool ServerUser::chownToUser(const QString &path) const
{
    if (!m_switch)
        return true;
    return ::chown(QFile::encodeName(path).constData(), m_uid, m_gid) == 0;
}

} // namespace poolscope::sandbox
