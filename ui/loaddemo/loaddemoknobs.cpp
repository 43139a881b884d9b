#include "ui/loaddemo/loaddemoknobs.h"

#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QSpinBox>

#include <cmath>

namespace poolscope::ui {

namespace {

using std::chrono::milliseconds;
using Limits = LoadDemoLimits;

QSpinBox *spinBox(QWidget *parent, int min, int max, const QString &suffix = {})
{
    auto *box = new QSpinBox(parent);
    box->setRange(min, max);
    box->setSuffix(suffix);
    box->setAccelerated(true);
    return box;
}

// A millisecond knob where 0 means "never"/"off".
QSpinBox *msBox(QWidget *parent, int max, const QString &zero, const QString &tip)
{
    QSpinBox *box = spinBox(parent, 0, max, QStringLiteral(" ms"));
    box->setSingleStep(100);
    box->setSpecialValueText(zero);
    box->setToolTip(tip);
    return box;
}

} // namespace

LoadDemoKnobs::LoadDemoKnobs(QWidget *parent)
    : QGroupBox(tr("Scenario and knobs"), parent)
    , m_scenarios(loadDemoScenarios())
{
    m_scenario = new QComboBox(this);
    m_scenario->setObjectName(QStringLiteral("loadDemoScenario"));
    for (const LoadDemoScenario &s : std::as_const(m_scenarios))
        m_scenario->addItem(s.title, s.name);
    m_description = new QLabel(this);
    m_description->setWordWrap(true);

    m_instances = spinBox(this, 1, Limits::kMaxInstances);
    m_instances->setObjectName(QStringLiteral("loadDemoInstances"));
    m_instances->setToolTip(tr("Simulated function instances, each with its own pool"));
    m_poolMin = spinBox(this, 0, Limits::kMaxPoolSize);
    m_poolMin->setToolTip(tr("Connections each instance opens when its first request arrives "
                             "(a cold start) and keeps"));
    m_poolMax = spinBox(this, 1, Limits::kMaxPoolSize);
    m_poolMax->setToolTip(tr("Never more connections per instance"));
    connect(m_poolMin, &QSpinBox::valueChanged, this, [this](int v) {
        if (m_poolMax->value() < v)
            m_poolMax->setValue(v);
    });
    connect(m_poolMax, &QSpinBox::valueChanged, this, [this](int v) {
        if (m_poolMin->value() > v)
            m_poolMin->setValue(v);
    });
    m_rate = new QDoubleSpinBox(this);
    m_rate->setObjectName(QStringLiteral("loadDemoRate"));
    m_rate->setRange(0.1, Limits::kMaxRatePerSecond);
    m_rate->setDecimals(1);
    m_rate->setSuffix(tr(" req/s"));
    m_rate->setToolTip(tr("Total arrival rate over all instances (Poisson, open loop)"));
    m_hold = spinBox(this, 0, int(Limits::kMaxHold.count()), QStringLiteral(" ms"));
    m_hold->setSingleStep(10);
    m_hold->setToolTip(tr("How long each request holds its connection"));
    m_holdMode = new QComboBox(this);
    m_holdMode->addItem(tr("SELECT pg_sleep (server)"), int(LoadDemoHold::ServerSleep));
    m_holdMode->addItem(tr("BEGIN, wait, COMMIT (client)"), int(LoadDemoHold::ClientTransaction));
    m_duration = new QDoubleSpinBox(this);
    m_duration->setObjectName(QStringLiteral("loadDemoDuration"));
    m_duration->setRange(0.1, double(Limits::kMaxDuration.count()) / 1000.0);
    m_duration->setDecimals(1);
    m_duration->setSuffix(tr(" s per target"));
    m_duration->setToolTip(tr("How long requests arrive; in-flight ones then get a short drain"));
    m_burst = msBox(this, int(Limits::kMaxBurstRamp.count()), tr("off"),
                    tr("Burst mode: instance i comes up at i x ramp / instances with a request of "
                       "its own (a cold start each)"));
    m_acquireTimeout = spinBox(this, 1, 600000, QStringLiteral(" ms"));
    m_acquireTimeout->setSingleStep(100);
    m_acquireTimeout->setToolTip(tr("A request waiting longer for a connection of its instance "
                                    "fails with acquire_timeout"));
    m_instanceIdle = msBox(this, 3'600'000, tr("never"),
                           tr("Churn: an instance without requests this long scales to zero (its "
                              "connections close; the next request is a cold start)"));
    m_instanceLifetime =
        msBox(this, 3'600'000, tr("never"), tr("Churn: an instance is recycled after this age"));
    m_connectionLifetime =
        msBox(this, 3'600'000, tr("never"), tr("A connection older than this closes on release"));
    m_connectionIdle = msBox(this, 3'600'000, tr("never"),
                             tr("Idle connections above the pool min close after this long"));
    m_footprint = new QLabel(this);
    m_footprint->setWordWrap(true);

    auto *form = new QFormLayout(this);
    form->addRow(tr("Scenario:"), m_scenario);
    form->addRow(QString(), m_description);
    form->addRow(tr("Instances:"), m_instances);
    auto *poolRow = new QHBoxLayout;
    poolRow->addWidget(m_poolMin);
    poolRow->addWidget(new QLabel(QStringLiteral(":"), this));
    poolRow->addWidget(m_poolMax);
    form->addRow(tr("Pool min:max:"), poolRow);
    form->addRow(tr("Rate:"), m_rate);
    form->addRow(tr("Hold:"), m_hold);
    form->addRow(tr("Hold with:"), m_holdMode);
    form->addRow(tr("Duration:"), m_duration);
    form->addRow(tr("Burst ramp:"), m_burst);
    form->addRow(tr("Acquire timeout:"), m_acquireTimeout);
    form->addRow(tr("Instance idle → zero:"), m_instanceIdle);
    form->addRow(tr("Instance lifetime:"), m_instanceLifetime);
    form->addRow(tr("Connection lifetime:"), m_connectionLifetime);
    form->addRow(tr("Connection max idle:"), m_connectionIdle);
    form->addRow(QString(), m_footprint);

    connect(m_scenario, &QComboBox::currentIndexChanged, this, &LoadDemoKnobs::onScenarioChosen);
    for (QSpinBox *box :
         { m_instances, m_poolMin, m_poolMax, m_hold, m_burst, m_acquireTimeout, m_instanceIdle,
           m_instanceLifetime, m_connectionLifetime, m_connectionIdle })
        connect(box, &QSpinBox::valueChanged, this, &LoadDemoKnobs::updateFootprint);
    for (QDoubleSpinBox *box : { m_rate, m_duration })
        connect(box, &QDoubleSpinBox::valueChanged, this, &LoadDemoKnobs::updateFootprint);
    connect(m_holdMode, &QComboBox::currentIndexChanged, this, &LoadDemoKnobs::changed);
    onScenarioChosen(m_scenario->currentIndex());
}

std::optional<LoadDemoScenario> LoadDemoKnobs::currentScenario() const
{
    const int i = m_scenario->currentIndex();
    if (i < 0 || i >= m_scenarios.size())
        return std::nullopt;
    return m_scenarios.at(i);
}

void LoadDemoKnobs::pickScenario(const QString &name)
{
    const int i = m_scenario->findData(name);
    if (i >= 0 && i != m_scenario->currentIndex())
        m_scenario->setCurrentIndex(i);
    else if (i >= 0)
        onScenarioChosen(i);
}

void LoadDemoKnobs::onScenarioChosen(int index)
{
    if (index < 0 || index >= m_scenarios.size())
        return;
    const LoadDemoScenario &s = m_scenarios.at(index);
    m_description->setText(s.description);
    setConfig(s.config);
    Q_EMIT scenarioPicked(s);
}

void LoadDemoKnobs::setConfig(const LoadDemoConfig &c)
{
    m_base = c;
    m_instances->setValue(c.instances);
    m_poolMax->setValue(c.pool.maxSize); // max first: min follows it down, never up
    m_poolMin->setValue(c.pool.minSize);
    m_rate->setValue(c.ratePerSecond);
    m_hold->setValue(int(c.hold.count()));
    m_holdMode->setCurrentIndex(m_holdMode->findData(int(c.holdMode)));
    m_duration->setValue(double(c.duration.count()) / 1000.0);
    m_burst->setValue(int(c.burstRamp.count()));
    m_acquireTimeout->setValue(int(c.pool.acquireTimeout.count()));
    m_instanceIdle->setValue(int(c.pool.instanceIdleTimeout.count()));
    m_instanceLifetime->setValue(int(c.pool.instanceLifetime.count()));
    m_connectionLifetime->setValue(int(c.pool.maxLifetime.count()));
    m_connectionIdle->setValue(int(c.pool.maxIdle.count()));
    updateFootprint();
}

LoadDemoConfig LoadDemoKnobs::config() const
{
    LoadDemoConfig c = m_base;
    c.instances = m_instances->value();
    c.pool.minSize = m_poolMin->value();
    c.pool.maxSize = m_poolMax->value();
    c.ratePerSecond = m_rate->value();
    c.hold = milliseconds(m_hold->value());
    c.holdMode = LoadDemoHold(m_holdMode->currentData().toInt());
    c.duration = milliseconds(std::llround(m_duration->value() * 1000.0));
    c.burstRamp = milliseconds(m_burst->value());
    c.pool.acquireTimeout = milliseconds(m_acquireTimeout->value());
    c.pool.instanceIdleTimeout = milliseconds(m_instanceIdle->value());
    c.pool.instanceLifetime = milliseconds(m_instanceLifetime->value());
    c.pool.maxLifetime = milliseconds(m_connectionLifetime->value());
    c.pool.maxIdle = milliseconds(m_connectionIdle->value());
    return c;
}

void LoadDemoKnobs::updateFootprint()
{
    const qint64 clients = qint64(m_instances->value()) * m_poolMax->value();
    const double needed = m_rate->value() * double(m_hold->value()) / 1000.0;
    m_footprint->setText(
        tr("Up to %1 client connections (instances x pool max), %2 when every instance has "
           "opened its min; the load itself keeps about %3 busy (rate x hold).")
            .arg(clients)
            .arg(qint64(m_instances->value()) * m_poolMin->value())
            .arg(needed, 0, 'f', 1));
    Q_EMIT changed();
}

} // namespace poolscope::ui
