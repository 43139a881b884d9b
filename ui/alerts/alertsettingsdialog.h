#pragma once

#include "core/monitor/alertevaluator.h"

#include <QDialog>

class QDoubleSpinBox;
class QSpinBox;

namespace poolscope::ui {

// Edits the alert thresholds; the caller applies thresholds() after exec() == Accepted.
// A value of 0 switches that alert off.
class AlertSettingsDialog : public QDialog
{
    Q_OBJECT

public:
    explicit AlertSettingsDialog(const AlertThresholds &thresholds, QWidget *parent = nullptr);

    AlertThresholds thresholds() const;
    void setThresholds(const AlertThresholds &thresholds);

private:
    QDoubleSpinBox *m_usagePercent;
    QSpinBox *m_poolWaiters;
    QDoubleSpinBox *m_poolerWait;
    QDoubleSpinBox *m_idleInTransaction;
    QDoubleSpinBox *m_longQuery;
};

} // namespace poolscope::ui
