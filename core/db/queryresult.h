#pragma once

#include <QString>

#include <memory>

namespace poolscope {

// The result of one statement: an immutable, cheaply copyable handle on libpq's PGresult (shared
// ownership, freed with PQclear when the last copy goes). Safe to read from any thread, as libpq
// results do not refer back to their connection.
class QueryResult
{
public:
    QueryResult() = default;

    int rowCount() const;
    int columnCount() const;
    QString columnName(int column) const;
    int columnIndex(const QString &name) const; // -1 when absent
    bool isNull(int row, int column) const;
    QString value(int row, int column) const; // text format, empty for NULL
    qint64 toInt64(int row, int column, qint64 fallback = 0) const;
    QString commandStatus() const; // e.g. "SELECT 1", "SET"

private:
    friend class Connection;
    explicit QueryResult(std::shared_ptr<void> result)
        : m_result(std::move(result))
    {
    }
    std::shared_ptr<void> m_result; // PGresult, kept opaque so libpq stays out of public headers
};

} // namespace poolscope
