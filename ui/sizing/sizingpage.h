#pragma once

#include "core/sampler/activitysample.h"
#include "core/sizing/sizingadvisor.h"

#include <QWidget>

#include <optional>

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QPlainTextEdit;
class QPushButton;
class QSpinBox;

namespace poolscope {
class MonitorSession;
}

namespace poolscope::ui {

class SizingChart;

// "How big may each pool be, given our plan and our instance count?" Inputs on the
// left, recomputed with adviseSizing() as you type; the recommendation, demand, fit verdict and
// explanation on the right, above a chart of demand against instance count. A max_connections
// read live by the sampler wins over the preset and says so.
class SizingPage : public QWidget
{
    Q_OBJECT

public:
    explicit SizingPage(MonitorSession *session, QWidget *parent = nullptr);
    ~SizingPage() override;

    SizingInput input() const;
    const std::optional<SizingResult> &result() const { return m_result; }
    std::optional<double> livePeak() const { return m_livePeak; }

    QComboBox *presetCombo() const { return m_preset; }
    QSpinBox *maxConnectionsBox() const { return m_maxConnections; }
    QCheckBox *useLiveBox() const { return m_useLive; }
    QSpinBox *reservedBox() const { return m_reserved; }
    QSpinBox *otherClientsBox() const { return m_otherClients; }
    QSpinBox *instancesBox() const { return m_instances; }
    QSpinBox *poolMinBox() const { return m_poolMin; }
    QSpinBox *poolMaxBox() const { return m_poolMax; }
    QCheckBox *pooledBox() const { return m_pooled; }
    QCheckBox *scaleToZeroBox() const { return m_scaleToZero; }
    QDoubleSpinBox *rateBox() const { return m_rate; }
    QDoubleSpinBox *holdBox() const { return m_hold; }
    QPlainTextEdit *envLinesView() const { return m_env; }
    QPushButton *copyButton() const { return m_copy; }
    QLabel *verdictLabel() const { return m_verdict; }
    QLabel *limitLabel() const { return m_limitNote; }
    QLabel *explanationLabel() const { return m_explanation; }
    SizingChart *chart() const { return m_chart; }

public Q_SLOTS:
    void recompute();
    void copyEnvLines();

private:
    void buildUi();
    void onPresetChanged();
    void onSampled(const ActivitySample &sample);
    void updateLivePeak();
    void showResult(const SizingInput &input);

    MonitorSession *m_session;
    std::optional<ConnectionLimits> m_liveLimits;
    std::optional<double> m_livePeak;
    std::optional<SizingResult> m_result;
    bool m_updatingPreset = false;

    QComboBox *m_preset = nullptr;
    QSpinBox *m_maxConnections = nullptr;
    QCheckBox *m_useLive = nullptr;
    QLabel *m_limitNote = nullptr;
    QSpinBox *m_reserved = nullptr;
    QSpinBox *m_otherClients = nullptr;
    QSpinBox *m_instances = nullptr;
    QSpinBox *m_poolMin = nullptr;
    QSpinBox *m_poolMax = nullptr;
    QCheckBox *m_pooled = nullptr;
    QCheckBox *m_scaleToZero = nullptr;
    QDoubleSpinBox *m_rate = nullptr;
    QDoubleSpinBox *m_hold = nullptr;
    QPlainTextEdit *m_env = nullptr;
    QPushButton *m_copy = nullptr;
    QLabel *m_demand = nullptr;
    QLabel *m_safe = nullptr;
    QLabel *m_littles = nullptr;
    QLabel *m_verdict = nullptr;
    QLabel *m_explanation = nullptr;
    SizingChart *m_chart = nullptr;
};

} // namespace poolscope::ui
