#pragma once

#include "core/loaddemo/loaddemo.h"

#include <QGroupBox>

class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QSpinBox;

namespace poolscope::ui {

// The Load demo's scenario picker and knobs. Picking a scenario (loadDemoScenarios()) fills
// every knob from its LoadDemoConfig; each knob stays editable afterwards, and config() builds
// the configuration from what is shown (fields without a knob keep the picked scenario's
// values). The bounds of the spin boxes are the core's local caps (LoadDemoLimits); the core
// still checks everything when a run starts.
class LoadDemoKnobs : public QGroupBox
{
    Q_OBJECT

public:
    explicit LoadDemoKnobs(QWidget *parent = nullptr);

    LoadDemoConfig config() const;
    void setConfig(const LoadDemoConfig &config);
    const QList<LoadDemoScenario> &scenarios() const { return m_scenarios; }
    std::optional<LoadDemoScenario> currentScenario() const;
    void pickScenario(const QString &name); // as if chosen in the picker

    QComboBox *scenarioBox() const { return m_scenario; }
    QSpinBox *instancesBox() const { return m_instances; }
    QSpinBox *poolMinBox() const { return m_poolMin; }
    QSpinBox *poolMaxBox() const { return m_poolMax; }
    QDoubleSpinBox *rateBox() const { return m_rate; }
    QSpinBox *holdBox() const { return m_hold; }
    QComboBox *holdModeBox() const { return m_holdMode; }
    QDoubleSpinBox *durationBox() const { return m_duration; }
    QSpinBox *burstBox() const { return m_burst; }
    QSpinBox *acquireTimeoutBox() const { return m_acquireTimeout; }
    QSpinBox *instanceIdleBox() const { return m_instanceIdle; }
    QSpinBox *instanceLifetimeBox() const { return m_instanceLifetime; }
    QSpinBox *connectionLifetimeBox() const { return m_connectionLifetime; }
    QSpinBox *connectionIdleBox() const { return m_connectionIdle; }

Q_SIGNALS:
    void scenarioPicked(const poolscope::LoadDemoScenario &scenario);
    void changed(); // any knob

private:
    void onScenarioChosen(int index);
    void updateFootprint();

    QList<LoadDemoScenario> m_scenarios;
    LoadDemoConfig m_base; // the picked scenario's: fields without a knob come from here
    QComboBox *m_scenario = nullptr;
    QLabel *m_description = nullptr;
    QSpinBox *m_instances = nullptr;
    QSpinBox *m_poolMin = nullptr;
    QSpinBox *m_poolMax = nullptr;
    QDoubleSpinBox *m_rate = nullptr;
    QSpinBox *m_hold = nullptr;
    QComboBox *m_holdMode = nullptr;
    QDoubleSpinBox *m_duration = nullptr;
    QSpinBox *m_burst = nullptr;
    QSpinBox *m_acquireTimeout = nullptr;
    QSpinBox *m_instanceIdle = nullptr;
    QSpinBox *m_instanceLifetime = nullptr;
    QSpinBox *m_connectionLifetime = nullptr;
    QSpinBox *m_connectionIdle = nullptr;
    QLabel *m_footprint = nullptr;
};

} // namespace poolscope::ui
