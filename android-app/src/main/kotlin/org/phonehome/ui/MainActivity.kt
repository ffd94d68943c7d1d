package org.phonehome.ui

import android.app.Activity
import android.content.Intent
import android.net.VpnService
import android.os.Bundle
import android.widget.LinearLayout
import android.widget.Toast
import org.phonehome.R
import org.phonehome.core.HistoryReaderInterface
import org.phonehome.core.PageRequest
import org.phonehome.export.ExportKind
import org.phonehome.export.Exporter
import org.phonehome.ui.Ui.button
import org.phonehome.ui.Ui.heading
import org.phonehome.ui.Ui.row
import org.phonehome.ui.Ui.text
import org.phonehome.vpn.PhonehomeVpnService

/** Dashboard: on/off (with the VPN consent flow), the running engine's counters, the history's latest alerts, and the way to every screen. */
class MainActivity : Activity() {
    private lateinit var exporter: Exporter

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        exporter = Exporter(this)
    }

    override fun onResume() {
        super.onResume()
        render()
    }

    private fun render() {
        val engine = Ui.engine()
        val running = engine?.isRunning() == true
        Ui.page(this) {
            heading(getString(R.string.app_name))
            button(getString(if (running) R.string.action_stop else R.string.action_start)) {
                if (running) PhonehomeVpnService.stop(this@MainActivity) else askConsent()
                window.decorView.postDelayed({ render() }, 500)
            }
            engine?.stats()?.let { stats ->
                text(getString(R.string.dashboard_counters, stats.flowsFinished.toLong(), stats.alerts.toLong(),
                    stats.tcpFlowsOpen.toLong() + stats.datagramFlowsOpen.toLong(), stats.packetsIn.toLong(), stats.packetsOut.toLong()))
            }
            heading(getString(R.string.latest_alerts))
            val latest = LinearLayout(context).apply { orientation = LinearLayout.VERTICAL }
            addView(latest)
            latest.text(getString(R.string.loading))
            val query = { reader: HistoryReaderInterface -> reader.timeSpan() to reader.alerts(PageRequest(null, null, 5u)) }
            Ui.load(this@MainActivity, query, { message -> latest.removeAllViews(); latest.text(message) }) { (span, alerts) ->
                latest.removeAllViews()
                span?.let { latest.text(getString(R.string.history_span, Ui.time(it.startUs), Ui.time(it.endUs))) }
                if (alerts.isEmpty()) latest.text(getString(R.string.no_alerts))
                alerts.forEach { item ->
                    val alert = item.record
                    latest.row("${alert.severity.name.lowercase()} · ${alert.app ?: "?"}", "${Ui.time(alert.ts)} · ${alert.kind.name.lowercase()} → ${alert.host ?: alert.dstIp}") {
                        Ui.open(this@MainActivity, FlowDetailActivity::class.java) { putExtras(FlowDetailActivity.extrasFor(alert)) }
                    }
                }
            }
            addNavigation()
        }
    }

    private fun LinearLayout.addNavigation() {
        button(getString(R.string.screen_apps)) { Ui.open(this@MainActivity, AppsActivity::class.java) }
        button(getString(R.string.screen_alerts)) { Ui.open(this@MainActivity, AlertsActivity::class.java) }
        button(getString(R.string.screen_settings)) { Ui.open(this@MainActivity, SettingsActivity::class.java) }
        button(getString(R.string.export_flows)) { startActivityForResult(exporter.createDocument(ExportKind.FLOWS_CSV), REQUEST_FLOWS) }
        button(getString(R.string.export_alerts)) { startActivityForResult(exporter.createDocument(ExportKind.ALERTS_JSONL), REQUEST_ALERTS) }
        button(getString(R.string.share_flows)) { exporter.share(ExportKind.FLOWS_CSV) { send -> send?.let(::startActivity) ?: nothingToExport() } }
    }

    /** `VpnService.prepare` returns an intent while the user has not consented (or another VPN is active). */
    private fun askConsent() {
        val consent = VpnService.prepare(this)
        if (consent == null) PhonehomeVpnService.start(this) else startActivityForResult(consent, REQUEST_CONSENT)
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

    private companion object {
        const val REQUEST_CONSENT = 1
        const val REQUEST_FLOWS = 2
        const val REQUEST_ALERTS = 3
    }
}
