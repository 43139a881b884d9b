#pragma once

#include "core/coldstart/coldstartrunner.h"

#include <QWidget>

class QLabel;
class QTableWidget;

namespace poolscope::ui {

// A run's figures per endpoint against what the guide expects: one column per endpoint, one row
// per measure (first connection p50/p95/max, warm queries, the query and the pool checkout after
// the idle period),
// then the verdict coloured pass/warn/fail with its reason, and on failure the typed error and
// its remedy. A one-line headline above names each endpoint's verdict.
class ColdStartSummary : public QWidget
{
    Q_OBJECT

public:
    enum RowId {
        Endpoint,
        Trials,
        P50,
        P95,
        Max,
        WarmP50,
        WarmP95,
        AfterIdle,
        PoolCheckout,
        Verdict,
        Reason,
        Error,
        Remedy,
        RowCount
    };

    explicit ColdStartSummary(QWidget *parent = nullptr);
    ~ColdStartSummary() override;

    void showRun(const ColdStartRun &run);
    void clear();

    QLabel *headline() const { return m_headline; }
    QTableWidget *table() const { return m_table; }
    // The text of a row for an endpoint column (0-based), for tests and accessibility.
    QString text(RowId row, int target) const;

private:
    QLabel *m_headline;
    QTableWidget *m_table;
};

} // namespace poolscope::ui
