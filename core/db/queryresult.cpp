#include "core/db/queryresult.h"

#include <libpq-fe.h>

namespace poolscope {
namespace {

const PGresult *pg(const std::shared_ptr<void> &r)
{
    return static_cast<const PGresult *>(r.get());
}

} // namespace

int QueryResult::rowCount() const
{
    return m_result ? PQntuples(pg(m_result)) : 0;
}

int QueryResult::columnCount() const
{
    return m_result ? PQnfields(pg(m_result)) : 0;
}

QString QueryResult::columnName(int column) const
{
    return m_result ? QString::fromUtf8(PQfname(pg(m_result), column)) : QString();
}

int QueryResult::columnIndex(const QString &name) const
{
    return m_result ? PQfnumber(pg(m_result), name.toUtf8().constData()) : -1;
}

bool QueryResult::isNull(int row, int column) const
{
    return !m_result || row >= rowCount() || column >= columnCount()
        || PQgetisnull(pg(m_result), row, column);
}

QString QueryResult::value(int row, int column) const
{
    if (isNull(row, column))
        return {};
    const PGresult *r = pg(m_result);
    return QString::fromUtf8(PQgetvalue(r, row, column), PQgetlength(r, row, column));
}

qint64 QueryResult::toInt64(int row, int column, qint64 fallback) const
{
    if (isNull(row, column))
        return fallback;
    bool ok = false;
    const qint64 v = QByteArray(PQgetvalue(pg(m_result), row, column)).toLongLong(&ok);
    return ok ? v : fallback;
}

QString QueryResult::commandStatus() const
{
    return m_result ? QString::fromUtf8(PQcmdStatus(const_cast<PGresult *>(pg(m_result))))
                    : QString();
}

} // namespace poolscope
