package org.phonehome.ui

import android.app.Activity
import android.app.NotificationManager
import android.content.Intent
import android.net.VpnService
import android.os.Bundle
import android.provider.Settings.ACTION_WIRELESS_SETTINGS
import android.widget.LinearLayout
import android.widget.Toast
import org.phonehome.R
import org.phonehome.alerts.AlertNotifier
import org.phonehome.compat.Platform
import org.phonehome.store.StoredAlert
import org.phonehome.core.HistoryReaderInterface
import org.phonehome.core.PageRequest
import org.phonehome.core.TimeSpan
import org.phonehome.export.ExportKind
import org.phonehome.export.Exporter
import org.phonehome.lists.ListsActivity
import org.phonehome.settings.Settings
import org.phonehome.ui.Widgets.card
import org.phonehome.ui.Widgets.empty
import org.phonehome.ui.Widgets.figures
import org.phonehome.ui.Widgets.listRow
import org.phonehome.ui.Widgets.note
import org.phonehome.ui.Widgets.primaryButton
import org.phonehome.ui.Widgets.section
import org.phonehome.ui.Widgets.text
import org.phonehome.ui.Widgets.textButton
import org.phonehome.vpn.PhonehomeVpnService
import org.phonehome.vpn.VpnStatus

/**
 * Dashboard: the VPN's state with Start/Stop (first-run explanation, notification permission in context, then
 * the consent dialog), what needs the user's attention, the latest alerts, and the way to every screen.
 */
class MainActivity : Activity() {
    private lateinit var exporter: Exporter
    private lateinit var settings: Settings
    private lateinit var looks: AppLooks
    private lateinit var status: LinearLayout
    private val onStatus: (VpnStatus.State) -> Unit = { state -> showStatus(state) }

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        exporter = Exporter(this)
        settings = Settings(this)
        looks = AppLooks(this)
        if (!settings.onboarded()) {
            startActivity(Intent(this, OnboardingActivity::class.java))
            finish()
        }
    }

    override fun onResume() {
        super.onResume()
        if (isFinishing) return
        render()
        VpnStatus.listen(onStatus)
    }

    override fun onPause() {
        VpnStatus.unlisten(onStatus)
        super.onPause()
    }

    private fun render() {
        Ui.page(this) {
            status = LinearLayout(context).apply { orientation = LinearLayout.VERTICAL }
            addView(status)
            showStatus(VpnStatus.current)
            section(getString(R.string.latest_alerts))
            val latest = card { text(getString(R.string.loading)) }
            section(getString(R.string.explore))
            card {
                listRow(getString(R.string.screen_apps), getString(R.string.screen_apps_help), Widgets.symbol(context, R.drawable.ic_apps)) {
                    Ui.open(this@MainActivity, AppsActivity::class.java)
                }
                listRow(getString(R.string.screen_alerts), getString(R.string.screen_alerts_help), Widgets.symbol(context, R.drawable.ic_warning)) {
                    Ui.open(this@MainActivity, AlertsActivity::class.java)
                }
                listRow(getString(R.string.settings_lists), getString(R.string.lists_row_help), Widgets.symbol(context, R.drawable.ic_list)) {
                    Ui.open(this@MainActivity, ListsActivity::class.java)
                }
                listRow(getString(R.string.screen_settings), getString(R.string.settings_row_help), Widgets.symbol(context, R.drawable.ic_tune)) {
                    Ui.open(this@MainActivity, SettingsActivity::class.java)
                }
            }
            section(getString(R.string.export))
            card {
                listRow(getString(R.string.export_flows), getString(R.string.export_flows_help), Widgets.symbol(context, R.drawable.ic_save)) {
                    Ui.launch(this@MainActivity, exporter.createDocument(ExportKind.FLOWS_CSV), REQUEST_FLOWS)
                }
                listRow(getString(R.string.export_alerts), getString(R.string.export_alerts_help), Widgets.symbol(context, R.drawable.ic_save)) {
                    Ui.launch(this@MainActivity, exporter.createDocument(ExportKind.ALERTS_JSONL), REQUEST_ALERTS)
                }
                listRow(getString(R.string.share_flows), getString(R.string.share_flows_help), Widgets.symbol(context, R.drawable.ic_share)) {
                    exporter.share(ExportKind.FLOWS_CSV) { send -> send?.let { Ui.launch(this@MainActivity, it) } ?: nothingToExport() }
                }
            }
            val span = text("", R.style.TextAppearance_Phonehome_Caption)
            loadLatest(latest) { text -> span.text = text }
        }
    }

    /** The latest alerts of the history, with their apps' icons; the history's time span below. */
    private fun loadLatest(latest: LinearLayout, showSpan: (String) -> Unit) {
        class Row(val item: StoredAlert, val identity: org.phonehome.apps.AppIdentity, val icon: android.graphics.drawable.Drawable?)
        val query = { reader: HistoryReaderInterface ->
            val rows = reader.alerts(PageRequest(null, null, LATEST.toUInt())).map { item ->
                val identity = looks.identity(item.record.uid?.toInt(), item.record.app)
                Row(item, identity, looks.icon(identity))
            }
            reader.timeSpan() to rows
        }
        val explain = { message: String -> latest.removeAllViews(); latest.empty(message); Unit }
        Ui.load(this, query, explain) { (span: TimeSpan?, rows) ->
            latest.removeAllViews()
            span?.let { showSpan(getString(R.string.history_span, Ui.time(it.startUs), Ui.time(it.endUs))) }
            if (rows.isEmpty()) latest.empty(getString(R.string.no_alerts_yet))
            rows.forEach { row ->
                val alert = row.item.record
                latest.listRow(
                    getString(R.string.alert_row_title, AlertText.kind(this, alert.kind), row.identity.label),
                    alert.host ?: alert.dstIp, row.icon,
                    listOf(Widgets.severityChip(this, alert.severity)) + looks.chips(row.identity),
                    trailing = Ui.time(row.item.record.ts).substringAfter(' '),
                ) { Ui.open(this, FlowDetailActivity::class.java) { putExtras(FlowDetailActivity.extrasFor(alert)) } }
            }
            if (rows.size == LATEST) latest.textButton(getString(R.string.see_all)) { Ui.open(this, AlertsActivity::class.java) }
        }
    }

    /** The status card and the warnings that need the user, rebuilt whenever the service publishes. */
    private fun showStatus(state: VpnStatus.State) {
        status.removeAllViews()
        status.card {
            val title = getString(when (state.phase) {
                VpnStatus.Phase.RUNNING -> R.string.status_running
                VpnStatus.Phase.STARTING -> R.string.status_starting
                VpnStatus.Phase.STOPPED -> R.string.status_stopped
            })
            val detail = if (state.running) state.upstreamDns?.let { getString(R.string.status_dns, it) } else getString(R.string.status_stopped_help)
            listRow(title, detail, Widgets.symbol(context, if (state.running) R.drawable.ic_shield else R.drawable.ic_eye))
            state.counters?.takeIf { state.running }?.let { c ->
                figures(listOf(c.flowsFinished.toString() to getString(R.string.figure_flows), c.alerts.toString() to getString(R.string.figure_alerts),
                    c.openFlows.toString() to getString(R.string.figure_open)))
            }
            primaryButton(getString(if (state.running) R.string.action_stop else R.string.action_start)) {
                if (state.running) PhonehomeVpnService.stop(this@MainActivity) else startMonitoring()
            }
        }
        state.problem?.let { problem -> status.card(R.color.warning_card) { listRow(problem, null, Widgets.symbol(context, R.drawable.ic_warning)) } }
        val notifications = getSystemService(NotificationManager::class.java)
        if (settings.notificationPrefs().enabled && !notifications.areNotificationsEnabled()) {
            status.card(R.color.warning_card) {
                listRow(getString(R.string.notifications_off), getString(R.string.notifications_off_help, AlertNotifier.unseen.get()),
                    Widgets.symbol(context, R.drawable.ic_bell), lines = 4)
                textButton(getString(R.string.allow)) { allowNotifications() }
            }
        }
        state.strictPrivateDns?.let { host ->
            status.card(R.color.warning_card) {
                listRow(getString(R.string.private_dns_strict), getString(R.string.private_dns_strict_help, host),
                    Widgets.symbol(context, R.drawable.ic_lock), lines = 5)
                textButton(getString(R.string.open_settings)) { Ui.launch(this@MainActivity, Intent(ACTION_WIRELESS_SETTINGS)) }
            }
        }
    }

    /** Asks for the notification permission where Android asks (13+), then for the VPN consent. */
    private fun startMonitoring() {
        if (Platform.needsNotificationPermission(this)) {
            requestPermissions(arrayOf(Platform.POST_NOTIFICATIONS), REQUEST_NOTIFICATIONS_THEN_START)
        } else {
            askConsent()
        }
    }

    private fun allowNotifications() {
        if (Platform.needsNotificationPermission(this) && !settings.notificationsAsked()) {
            requestPermissions(arrayOf(Platform.POST_NOTIFICATIONS), REQUEST_NOTIFICATIONS)
        } else {
            Ui.launch(this, Platform.notificationSettings(this)) // asked before and refused: only Settings can allow them now
        }
    }

    override fun onRequestPermissionsResult(requestCode: Int, permissions: Array<out String>, grantResults: IntArray) {
        settings.setNotificationsAsked()
        when (requestCode) {
            REQUEST_NOTIFICATIONS_THEN_START -> askConsent() // monitoring works without notifications: go on either way
            REQUEST_NOTIFICATIONS -> showStatus(VpnStatus.current)
        }
    }

    /** `VpnService.prepare` returns an intent while the user has not consented (or another VPN is active). */
    private fun askConsent() {
        val consent = VpnService.prepare(this)
        if (consent == null) PhonehomeVpnService.start(this) else Ui.launch(this, consent, REQUEST_CONSENT)
    }

    @Deprecated("platform Activity API")
    override fun onActivityResult(requestCode: Int, resultCode: Int, data: Intent?) {
        if (resultCode != RESULT_OK) return
        when (requestCode) {
            REQUEST_CONSENT -> PhonehomeVpnService.start(this)
            REQUEST_FLOWS -> data?.data?.let { uri -> exporter.save(ExportKind.FLOWS_CSV, uri, ::report) }
            REQUEST_ALERTS -> data?.data?.let { uri -> exporter.save(ExportKind.ALERTS_JSONL, uri, ::report) }
        }
    }

    private fun report(rows: Long?) {
        if (rows == null) nothingToExport() else Toast.makeText(this, getString(R.string.exported_rows, rows), Toast.LENGTH_SHORT).show()
    }

    private fun nothingToExport() = Toast.makeText(this, R.string.nothing_to_export, Toast.LENGTH_SHORT).show()

    companion object {
        const val REQUEST_CONSENT = 1
        const val REQUEST_FLOWS = 2
        const val REQUEST_ALERTS = 3
        const val REQUEST_NOTIFICATIONS_THEN_START = 4
        const val REQUEST_NOTIFICATIONS = 5
        private const val LATEST = 5
    }
}
