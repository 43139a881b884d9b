#include "ui/alerts/alertsettingsdialog.h"

#include <QDialogButtonBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QLabel>
#include <QPushButton>
#include <QSpinBox>
#include <QVBoxLayout>

namespace poolscope::ui {
namespace {

QDoubleSpinBox *secondsBox(QWidget *parent, const QString &name, double maximum)
{
    auto *box = new QDoubleSpinBox(parent);
    box->setObjectName(name);
    box->setRange(0, maximum);
    box->setDecimals(1);
    box->setSuffix(QStringLiteral(" s"));
    box->setSpecialValueText(QObject::tr("off"));
    return box;
}

} // namespace

AlertSettingsDialog::AlertSettingsDialog(const AlertThresholds &thresholds, QWidget *parent)
    : QDialog(parent)
{
    setWindowTitle(tr("Alert thresholds"));

    m_usagePercent = new QDoubleSpinBox(this);
    m_usagePercent->setObjectName(QStringLiteral("usagePercent"));
    m_usagePercent->setRange(0, 100);
    m_usagePercent->setDecimals(0);
    m_usagePercent->setSuffix(QStringLiteral(" %"));
    m_usagePercent->setSpecialValueText(tr("off"));
    m_poolWaiters = new QSpinBox(this);
    m_poolWaiters->setObjectName(QStringLiteral("poolWaiters"));
    m_poolWaiters->setRange(0, 10000);
    m_poolWaiters->setSpecialValueText(tr("off"));
    m_poolerWait = secondsBox(this, QStringLiteral("poolerWaitSeconds"), 3600);
    m_idleInTransaction = secondsBox(this, QStringLiteral("idleInTransactionSeconds"), 86400);
    m_longQuery = secondsBox(this, QStringLiteral("longQuerySeconds"), 86400);

    auto *form = new QFormLayout;
    form->addRow(tr("Connections in use, of what ordinary roles may open:"), m_usagePercent);
    form->addRow(tr("Callers waiting in the application's pool:"), m_poolWaiters);
    form->addRow(tr("Pooler clients waiting for a server connection:"), m_poolerWait);
    form->addRow(tr("Session idle in transaction for:"), m_idleInTransaction);
    form->addRow(tr("Query running for:"), m_longQuery);

    auto *note = new QLabel(tr("An alert is raised when a figure reaches its threshold; 0 switches "
                               "it off."),
                            this);
    note->setWordWrap(true);

    auto *buttons = new QDialogButtonBox(
        QDialogButtonBox::Ok | QDialogButtonBox::Cancel | QDialogButtonBox::RestoreDefaults, this);
    connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(buttons->button(QDialogButtonBox::RestoreDefaults), &QPushButton::clicked, this,
            [this] { setThresholds(AlertThresholds {}); });

    auto *layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addWidget(note);
    layout->addWidget(buttons);

    setThresholds(thresholds);
}

AlertThresholds AlertSettingsDialog::thresholds() const
{
    AlertThresholds t;
    t.usagePercent = m_usagePercent->value();
    t.poolWaiters = m_poolWaiters->value();
    t.poolerWaitSeconds = m_poolerWait->value();
    t.idleInTransactionSeconds = m_idleInTransaction->value();
    t.longQuerySeconds = m_longQuery->value();
    return t;
}

void AlertSettingsDialog::setThresholds(const AlertThresholds &t)
{
    m_usagePercent->setValue(t.usagePercent);
    m_poolWaiters->setValue(t.poolWaiters);
    m_poolerWait->setValue(t.poolerWaitSeconds);
    m_idleInTransaction->setValue(t.idleInTransactionSeconds);
    m_longQuery->setValue(t.longQuerySeconds);
}

} // namespace poolscope::ui
