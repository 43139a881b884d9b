#pragma once

// Private to the sandbox: the few libpq conversations it needs while setting up. Blocking.
#include <QString>
#include <QStringList>

namespace poolscope::sandbox::pgclient {

// True when a server accepts connections on 127.0.0.1:port (PQpingParams reports PQPING_OK;
// a password request counts as accepting).
bool isAccepting(int port);

// Runs each statement in its own implicit transaction (CREATE DATABASE needs that) over the
// server's unix socket in `socketDirectory`, as `user`. False with *error on the first failure.
bool runStatements(const QString &socketDirectory, int port, const QString &user,
                   const QStringList &statements, QString *error);

} // namespace poolscope::sandbox::pgclient
