package org.phonehome.ui

import android.app.Activity
import android.os.Bundle
import android.widget.Toast
import org.phonehome.R
import org.phonehome.core.Alert
import org.phonehome.core.Flow
import org.phonehome.settings.Settings
import org.phonehome.ui.Ui.button
import org.phonehome.ui.Ui.heading
import org.phonehome.ui.Ui.text

/** Every field of one flow and the evidence of its alerts, with the blocking actions. */
class FlowDetailActivity : Activity() {
    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        val key = FlowKey.from(intent.extras ?: Bundle())
        val engine = Ui.engine()
        val flow = engine?.recentFlows(UInt.MAX_VALUE)?.firstOrNull { FlowKey.of(it) == key }
        val alerts = engine?.recentAlerts(UInt.MAX_VALUE).orEmpty().filter { FlowKey.of(it) == key }
        val settings = Settings(this)
        Ui.page(this) {
            heading(getString(R.string.flow_title, key.proto, key.dstIp, key.dstPort))
            if (flow == null) text(getString(R.string.flow_not_kept))
            flow?.let { text(FlowFields.of(it).joinToString("\n") { (name, value) -> "$name: $value" }) }
            alerts.forEach { alert ->
                heading("${alert.severity.name.lowercase()} · ${alert.kind}")
                text(listOfNotNull(alert.evidence, alert.identifier?.let { "identifier: $it" },
                    alert.encoding?.let { "encoding: $it" }, alert.owner?.let { "owner: $it" }).joinToString("\n"))
            }
            heading(getString(R.string.blocking))
            val host = flow?.host ?: alerts.firstNotNullOfOrNull { it.host }
            val country = flow?.country ?: alerts.firstNotNullOfOrNull { it.country }
            val uid = flow?.uid ?: alerts.firstNotNullOfOrNull { it.uid }
            val rules = listOfNotNull("ip:${key.dstIp}", host?.let { "domain:$it" }, country?.let { "country:$it" }, uid?.let { "uid:$it" })
            rules.forEach { rule ->
                button(getString(R.string.block_rule, rule)) {
                    settings.block(rule)
                    Toast.makeText(this@FlowDetailActivity, getString(R.string.blocked_rule, rule), Toast.LENGTH_SHORT).show()
                }
            }
        }
    }

    companion object {
        fun extrasFor(flow: Flow): Bundle = FlowKey.of(flow).toBundle()
        fun extrasFor(alert: Alert): Bundle = FlowKey.of(alert).toBundle()
    }
}

/** What identifies a flow between the screens and the notifications. */
data class FlowKey(val proto: String, val srcIp: String, val srcPort: Int, val dstIp: String, val dstPort: Int) {
    fun toBundle() = Bundle().apply {
        putString("proto", proto); putString("src_ip", srcIp); putInt("src_port", srcPort)
        putString("dst_ip", dstIp); putInt("dst_port", dstPort)
    }

    companion object {
        fun of(flow: Flow) = FlowKey(flow.proto, flow.srcIp, flow.srcPort.toInt(), flow.dstIp, flow.dstPort.toInt())
        fun of(alert: Alert) = FlowKey(alert.proto, alert.srcIp, alert.srcPort.toInt(), alert.dstIp, alert.dstPort.toInt())
        fun from(extras: Bundle) = FlowKey(extras.getString("proto", ""), extras.getString("src_ip", ""),
            extras.getInt("src_port"), extras.getString("dst_ip", ""), extras.getInt("dst_port"))
    }
}

/** Every field of a flow as `name: value`, in the export's column order, empty ones left out. */
object FlowFields {
    fun of(f: Flow): List<Pair<String, String>> = listOf(
        "first_seen" to f.firstSeen, "last_seen" to f.lastSeen, "proto" to f.proto,
        "src" to "${f.srcIp}:${f.srcPort}", "dst" to "${f.dstIp}:${f.dstPort}",
        "uid" to f.uid?.toString(), "app" to f.app, "l7" to f.l7, "host" to f.host, "host_source" to f.hostSource,
        "country" to f.country, "asn" to f.asn?.toString(), "as_org" to f.asOrg,
        "bytes_out" to f.bytesOut.toString(), "packets_out" to f.packetsOut.toString(),
        "bytes_in" to f.bytesIn.toString(), "packets_in" to f.packetsIn.toString(),
        "severity" to f.severity?.name?.lowercase(), "flags" to f.flags, "tcp_state" to f.tcpState,
        "tls_version" to f.tlsVersion, "alpn" to f.alpn, "ja4" to f.ja4, "ech" to f.ech?.toString(),
        "http_method" to f.httpMethod, "http_path" to f.httpPath, "user_agent" to f.userAgent,
    ).mapNotNull { (name, value) -> value?.takeIf { it.isNotEmpty() }?.let { name to it } }
}
