// SessionsPage on its real widgets, offscreen: synthetic samples through MonitorSession::sampled,
// typing in the filter, clicking rows, shortcuts, the confirmation (injected) and the action
// runner (injected), and the event log.
#include "core/monitor/monitorsession.h"
#include "ui/sessions/sessionsfilter.h"
#include "ui/sessions/sessionsmodel.h"
#include "ui/sessions/sessionspage.h"

#include <QAction>
#include <QComboBox>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTableView>
#include <QtTest>

using namespace poolscope;
using namespace poolscope::ui;

namespace {

const QDateTime Now = QDateTime(QDate(2025, 3, 1), QTime(12, 0), Qt::UTC);

SessionRow session(int pid, const QString &user, const QString &application, const QString &state,
                   int stateSeconds)
{
    SessionRow s;
    s.pid = pid;
    s.user = user;
    s.database = QStringLiteral("shop");
    s.application = application;
    s.client = QStringLiteral("10.1.2.3");
    s.state = state;
    s.backendStart = Now.addSecs(-3600);
    s.queryStart = Now.addSecs(-stateSeconds);
    s.stateChange = Now.addSecs(-stateSeconds);
    if (state.startsWith(QLatin1String("idle in")))
        s.transactionStart = Now.addSecs(-stateSeconds - 1);
    s.query = QStringLiteral("SELECT * FROM orders -- %1").arg(user);
    return s;
}

ActivitySample sample(const QList<SessionRow> &rows, const QDateTime &at = Now)
{
    ActivitySample s;
    s.takenAt = at;
    s.sessions = rows;
    return s;
}

QList<SessionRow> threeSessions()
{
    return { session(111, QStringLiteral("alice"), QStringLiteral("checkout"),
                     QStringLiteral("active"), 2),
             session(222, QStringLiteral("bob"), QStringLiteral("report"), QStringLiteral("active"),
                     90),
             session(333, QStringLiteral("carol"), QStringLiteral("report"),
                     QStringLiteral("idle in transaction"), 600) };
}

} // namespace

class TestSessionsPage : public QObject
{
    Q_OBJECT

private:
    struct Call
    {
        SessionActionResult::Action action;
        QList<int> pids;
    };

    std::unique_ptr<MonitorSession> m_session;
    std::unique_ptr<SessionsPage> m_page;
    QStringList m_confirmTexts;
    bool m_answer = false;
    QList<Call> m_calls;

    QModelIndex proxyIndexOf(int pid, int column = SessionsModel::User) const
    {
        SessionsModel *model = m_page->model();
        return m_page->filter()->mapFromSource(model->index(model->rowOfPid(pid), column));
    }

    void clickRow(int pid, Qt::KeyboardModifiers modifiers = {})
    {
        QTableView *view = m_page->view();
        const QRect rect = view->visualRect(proxyIndexOf(pid));
        QVERIFY(rect.isValid());
        QTest::mouseClick(view->viewport(), Qt::LeftButton, modifiers, rect.center());
    }

    QList<Event> actionEvents() const
    {
        QList<Event> result;
        const QList<Event> all = m_session->events().eventsSince(0);
        for (const Event &event : all) {
            if (event.category == Event::Category::Action)
                result.append(event);
        }
        return result;
    }

private Q_SLOTS:
    void init()
    {
        m_session = std::make_unique<MonitorSession>();
        m_page = std::make_unique<SessionsPage>(m_session.get());
        m_confirmTexts.clear();
        m_calls.clear();
        m_answer = false;
        m_page->setConfirmFunction([this](const QString &, const QString &text) {
            m_confirmTexts.append(text);
            return m_answer;
        });
        // Stands in for SessionActions: answers asynchronously, everything succeeded.
        m_page->setActionRunner([this](SessionActionResult::Action action, const QList<int> &pids) {
            m_calls.append({ action, pids });
            SessionActionResult result;
            result.action = action;
            result.requested = pids;
            result.succeeded = pids;
            QTimer::singleShot(0, m_page.get(),
                               [this, result] { m_page->showActionResult(result); });
        });
        m_page->resize(1200, 700);
        m_page->show();
        QApplication::setActiveWindow(m_page.get());
        QVERIFY(QTest::qWaitForWindowActive(m_page.get()));
        Q_EMIT m_session->sampled(sample(threeSessions()));
    }

    void cleanup()
    {
        m_page.reset();
        m_session.reset();
    }

    void showsSamplesAndFiltersByTyping()
    {
        QCOMPARE(m_page->view()->model()->rowCount(), 3);
        // A tick without the list (page was hidden when it was taken) changes nothing.
        Q_EMIT m_session->sampled(ActivitySample {});
        QCOMPARE(m_page->view()->model()->rowCount(), 3);

        QComboBox *applications = m_page->applicationCombo();
        QCOMPARE(applications->count(), 3); // all, checkout, report
        QCOMPARE(applications->itemText(1), QStringLiteral("checkout"));

        QTest::keyClicks(m_page->filterEdit(), QStringLiteral("bob"));
        QCOMPARE(m_page->view()->model()->rowCount(), 1);
        QCOMPARE(m_page->view()->model()->index(0, 0).data(SessionsModel::PidRole).toInt(), 222);
        m_page->filterEdit()->selectAll();
        QTest::keyClick(m_page->filterEdit(), Qt::Key_Backspace);
        QCOMPARE(m_page->view()->model()->rowCount(), 3);

        applications->setCurrentIndex(applications->findText(QStringLiteral("report")));
        QCOMPARE(m_page->filter()->pids().size(), 2);
        m_page->stateCombo()->setCurrentIndex(
            m_page->stateCombo()->findData(int(SessionsFilter::StateFilter::IdleInTransaction)));
        QCOMPARE(m_page->filter()->pids(), QList<int> { 333 });

        // The chosen application stays chosen while its sessions come and go.
        Q_EMIT m_session->sampled(sample({ threeSessions().first() }, Now.addSecs(1)));
        QCOMPARE(applications->currentText(), QStringLiteral("report"));
        QCOMPARE(m_page->view()->model()->rowCount(), 0);
    }

    void cancelIsConfirmedNamingThePid()
    {
        clickRow(222);
        QCOMPARE(m_page->selectedPids(), QList<int> { 222 });
        QVERIFY(m_page->detailsPane()->toPlainText().contains(QStringLiteral("-- bob")));
        const int eventsBefore = int(actionEvents().size());

        // Declined: nothing is sent, nothing logged.
        QTest::keyClick(m_page->view(), Qt::Key_K, Qt::ControlModifier);
        QCOMPARE(m_confirmTexts.size(), 1);
        QVERIFY(m_confirmTexts.first().contains(QStringLiteral("pid 222")));
        QVERIFY(m_confirmTexts.first().contains(QStringLiteral("bob")));
        QVERIFY(m_confirmTexts.first().contains(QStringLiteral("report")));
        QVERIFY(!m_confirmTexts.first().contains(QStringLiteral("111")));
        QVERIFY(m_calls.isEmpty());
        QCOMPARE(actionEvents().size(), eventsBefore);

        // Accepted: the runner gets exactly the selection, the result reaches page and log.
        m_answer = true;
        QTest::keyClick(m_page->view(), Qt::Key_K, Qt::ControlModifier);
        QCOMPARE(m_calls.size(), 1);
        QCOMPARE(m_calls.first().action, SessionActionResult::Action::Cancel);
        QCOMPARE(m_calls.first().pids, QList<int> { 222 });
        QTRY_VERIFY(m_page->statusLabel()->text().contains(QStringLiteral("succeeded")));
        const QList<Event> events = actionEvents();
        QVERIFY(events.size() >= eventsBefore + 1);
        QVERIFY(events.last().message.contains(QStringLiteral("222")));
        QVERIFY(events.last().message.contains(QStringLiteral("succeeded")));
    }

    void terminateSelectionAndContextMenu()
    {
        clickRow(111);
        clickRow(333, Qt::ControlModifier); // extended selection
        QCOMPARE(m_page->selectedPids(), QList<int>({ 111, 333 }));
        QVERIFY(m_page->view()->actions().contains(m_page->terminateAction()));
        QVERIFY(m_page->view()->actions().contains(m_page->cancelAction()));

        // A sample arriving while the dialog would be up keeps the selection.
        QList<SessionRow> rows = threeSessions();
        rows[0].state = QStringLiteral("idle");
        Q_EMIT m_session->sampled(sample(rows, Now.addSecs(1)));
        QCOMPARE(m_page->selectedPids(), QList<int>({ 111, 333 }));

        m_answer = true;
        QTest::keyClick(m_page->view(), Qt::Key_K, Qt::ControlModifier | Qt::ShiftModifier);
        QCOMPARE(m_confirmTexts.size(), 1);
        QVERIFY(m_confirmTexts.first().contains(QStringLiteral("Terminate 2 session")));
        QVERIFY(m_confirmTexts.first().contains(QStringLiteral("pid 111")));
        QVERIFY(m_confirmTexts.first().contains(QStringLiteral("pid 333")));
        QCOMPARE(m_calls.size(), 1);
        QCOMPARE(m_calls.first().action, SessionActionResult::Action::Terminate);
        QCOMPARE(m_calls.first().pids, QList<int>({ 111, 333 }));
    }

    void emptySelectionIsRefused()
    {
        m_page->view()->clearSelection();
        m_answer = true;
        m_page->view()->setFocus();
        QTest::keyClick(m_page->view(), Qt::Key_K, Qt::ControlModifier);
        QVERIFY(m_confirmTexts.isEmpty());
        QVERIFY(m_calls.isEmpty());
        QVERIFY(m_page->statusLabel()->text().contains(QStringLiteral("Select")));
    }

    void bulkTerminatesIdleInTransactionPastTheAge()
    {
        QList<SessionRow> rows = threeSessions();
        rows.append(session(444, QStringLiteral("dave"), QStringLiteral("checkout"),
                            QStringLiteral("idle in transaction"), 60)); // too young
        rows.append(session(555, QStringLiteral("erin"), QStringLiteral("checkout"),
                            QStringLiteral("idle in transaction (aborted)"), 3600));
        Q_EMIT m_session->sampled(sample(rows));
        m_page->idleMinutesBox()->setValue(5);

        m_answer = true;
        QTest::keyClick(m_page->view(), Qt::Key_I, Qt::ControlModifier | Qt::ShiftModifier);
        QCOMPARE(m_confirmTexts.size(), 1);
        QVERIFY(m_confirmTexts.first().contains(QStringLiteral("pid 333")));
        QVERIFY(m_confirmTexts.first().contains(QStringLiteral("pid 555")));
        QVERIFY(!m_confirmTexts.first().contains(QStringLiteral("444")));
        QCOMPARE(m_calls.size(), 1);
        QCOMPARE(m_calls.first().action, SessionActionResult::Action::Terminate);
        QCOMPARE(m_calls.first().pids, QList<int>({ 333, 555 }));

        // Within the text filter only; none left -> refused without asking.
        QTest::keyClicks(m_page->filterEdit(), QStringLiteral("erin"));
        m_page->idleMinutesBox()->setValue(120);
        m_page->terminateIdleAction()->trigger();
        QCOMPARE(m_confirmTexts.size(), 1);
        QCOMPARE(m_calls.size(), 1);
    }

    void showActionErrors()
    {
        SessionActionResult result;
        result.action = SessionActionResult::Action::Terminate;
        result.requested = { 7 };
        result.failed = { 7 };
        result.error =
            makeError(ErrorKind::ConnectionRefused, QStringLiteral("connection refused"));
        m_page->showActionResult(result);
        QVERIFY(m_page->statusLabel()->text().contains(QStringLiteral("failed")));
        QVERIFY(actionEvents().last().message.contains(QStringLiteral("connection refused")));
    }

    void hidingWithoutASamplerIsHarmless()
    {
        QVERIFY(!m_session->sampler());
        m_page->hide();
        m_page->show();
        QCOMPARE(m_page->view()->model()->rowCount(), 3);
    }
};

QTEST_MAIN(TestSessionsPage)
#include "tst_sessionspage.moc"
