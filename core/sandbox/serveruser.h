#pragma once

#include "core/util/result.h"

#include <QString>

#include <sys/types.h>

#include <vector>

namespace poolscope::sandbox {

// The identity the servers run as. PostgreSQL and PgBouncer refuse to run as root, so a root
// process hands them to the `postgres` account; anyone else runs them as themselves.
class ServerUser
{
public:
    // Resolves the identity for this process: `postgres` (getpwnam) when geteuid() == 0, else the
    // current user (no switch).
    static Result<ServerUser, QString> resolve();

    bool switchesUser() const { return m_switch; }
    uid_t uid() const { return m_uid; }
    gid_t gid() const { return m_gid; }
    const std::vector<gid_t> &groups() const { return m_groups; }
    const QString &name() const { return m_name; }

    // Makes `path` belong to this user (no-op when not switching). False with errno on failure.
    bool chownToUser(const QString &path) const;

private:
    bool m_switch = false;
    uid_t m_uid = 0;
    gid_t m_gid = 0;
    std::vector<gid_t> m_groups; // supplementary groups, for setgroups() in the child
    QString m_name;
};

} // namespace poolscope::sandbox
