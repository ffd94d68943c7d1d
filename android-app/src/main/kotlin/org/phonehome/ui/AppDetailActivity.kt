package org.phonehome.ui

import android.app.Activity
import android.os.Bundle
import android.widget.ImageView
import org.phonehome.R
import org.phonehome.apps.AndroidPackageLookup
import org.phonehome.apps.UidNamer
import org.phonehome.ui.Ui.heading
import org.phonehome.ui.Ui.row
import org.phonehome.ui.Ui.text

/** One app: its destinations with country and owner, a timeline of its flows, and its alerts. */
class AppDetailActivity : Activity() {
    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        val uid = intent.getIntExtra(EXTRA_UID, -1)
        val identity = UidNamer(AndroidPackageLookup(packageManager)).identify(uid)
        val engine = Ui.engine()
        val flows = engine?.recentFlows(UInt.MAX_VALUE).orEmpty().filter { it.uid?.toInt() == uid }
        val alerts = engine?.recentAlerts(UInt.MAX_VALUE).orEmpty().filter { it.uid?.toInt() == uid }
        Ui.page(this) {
            identity.packages.firstOrNull()?.let { pkg ->
                runCatching { packageManager.getApplicationIcon(pkg) }.getOrNull()?.let { icon ->
                    addView(ImageView(context).apply { setImageDrawable(icon) })
                }
            }
            heading(identity.label)
            text(getString(R.string.app_facts, uid, identity.packages.joinToString(", "),
                getString(if (identity.system) R.string.tag_system else R.string.tag_user)))
            heading(getString(R.string.destinations))
            flows.groupBy { it.host ?: it.dstIp }.entries.sortedByDescending { (_, group) -> group.sumOf { it.bytesOut + it.bytesIn } }
                .forEach { (destination, group) ->
                    val first = group.first()
                    row(destination, listOfNotNull(first.country, first.asOrg, "${group.size} flows").joinToString(" · "), null)
                }
            heading(getString(R.string.timeline))
            flows.sortedBy { it.firstSeen }.forEach { flow ->
                row("${flow.firstSeen.take(19)} ${flow.proto} ${flow.host ?: flow.dstIp}:${flow.dstPort}",
                    "${Ui.bytes(flow.bytesOut.toLong())} ↑ ${Ui.bytes(flow.bytesIn.toLong())} ↓ ${flow.severity?.name?.lowercase() ?: ""}") {
                    Ui.open(this@AppDetailActivity, FlowDetailActivity::class.java) { putExtras(FlowDetailActivity.extrasFor(flow)) }
                }
            }
            heading(getString(R.string.screen_alerts))
            alerts.forEach { alert ->
                row("${alert.severity.name.lowercase()} · ${alert.kind}", alert.evidence) {
                    Ui.open(this@AppDetailActivity, FlowDetailActivity::class.java) { putExtras(FlowDetailActivity.extrasFor(alert)) }
                }
            }
        }
    }

    companion object {
        const val EXTRA_UID = "uid"
    }
}
