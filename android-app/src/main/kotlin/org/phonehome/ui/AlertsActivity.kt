package org.phonehome.ui

import android.app.Activity
import android.os.Bundle
import org.phonehome.R
import org.phonehome.ui.Ui.heading
import org.phonehome.ui.Ui.row
import org.phonehome.ui.Ui.text

/** Every recent alert, newest first; a tap opens the flow and its evidence. */
class AlertsActivity : Activity() {
    override fun onResume() {
        super.onResume()
        val alerts = Ui.engine()?.recentAlerts(UInt.MAX_VALUE).orEmpty()
        Ui.page(this) {
            heading(getString(R.string.screen_alerts))
            if (alerts.isEmpty()) text(getString(R.string.no_alerts))
            alerts.forEach { alert ->
                row("${alert.severity.name.lowercase()} · ${alert.app ?: "?"} · ${alert.kind}", "${alert.host ?: alert.dstIp} — ${alert.evidence}") {
                    Ui.open(this@AlertsActivity, FlowDetailActivity::class.java) { putExtras(FlowDetailActivity.extrasFor(alert)) }
                }
            }
        }
    }
}
